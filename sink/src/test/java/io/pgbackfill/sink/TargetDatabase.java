package io.pgbackfill.sink;

import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.sql.TableName;
import io.pgbackfill.embedded.EmbeddedPostgresServer;
import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** A real embedded PostgreSQL with one database: the sink's target in integration tests. */
final class TargetDatabase implements AutoCloseable {
    private final EmbeddedPostgresServer server;
    private final String database;

    private TargetDatabase(EmbeddedPostgresServer server, String database) {
        this.server = server;
        this.database = database;
    }

    static TargetDatabase start(String database) throws IOException, SQLException {
        EmbeddedPostgresServer server = EmbeddedPostgresServer.start();
        try {
            server.createDatabase(database);
            return new TargetDatabase(server, database);
        } catch (SQLException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    EmbeddedPostgresServer server() {
        return server;
    }

    String jdbcUrl() {
        return server.jdbcUrl(database);
    }

    Connection connect() throws SQLException {
        return server.connect(database);
    }

    void execute(String... statements) throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    /** The table as the sink sees it (catalog columns in order, primary key), with the sink's LSN column and progress table in place. */
    TargetTable prepare(String table) throws SQLException {
        try (Connection c = connect()) {
            TableSchema schema = TableSchema.read(c, TableName.parse(table)).orElseThrow();
            List<Column> columns = schema.columns().values().stream().filter(col -> !col.name().equals(TargetTable.LSN_COLUMN)).toList();
            TargetTable t = new TargetTable(schema.name(), columns, schema.primaryKey(), TargetTable.keyIsUnique(c, schema.name(), schema.primaryKey()));
            BatchWriter.prepare(c, List.of(t));
            return t;
        }
    }

    /** Every row of a query, each column as text (null stays null). */
    List<List<String>> rows(String sql) throws SQLException {
        try (Connection c = connect()) {
            return rows(c, sql);
        }
    }

    static List<List<String>> rows(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            List<List<String>> out = new ArrayList<>();
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    row.add(rs.getString(i));
                }
                out.add(row);
            }
            return out;
        }
    }

    String value(String sql) throws SQLException {
        List<List<String>> rows = rows(sql);
        return rows.isEmpty() ? null : rows.get(0).get(0);
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
