package io.pgbackfill.core.catalog;

import io.pgbackfill.core.sql.TableName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A table's columns and primary key, read from pg_catalog. */
public record TableSchema(TableName name, Map<String, Column> columns, List<String> primaryKey, String replicaIdentity, long estimatedRows) {

    public Optional<Column> column(String name) {
        return Optional.ofNullable(columns.get(name));
    }

    /** Reads a table; empty if it does not exist. */
    public static Optional<TableSchema> read(Connection c, TableName table) throws SQLException {
        String regclass = table.quoted();
        Map<String, Column> cols = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull FROM pg_attribute a "
                        + "WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum")) {
            ps.setString(1, regclass);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    cols.put(rs.getString(1), new Column(rs.getString(1), ColumnType.parse(rs.getString(2)), rs.getBoolean(3)));
                }
            }
        }
        if (cols.isEmpty()) {
            return Optional.empty();
        }
        List<String> pk = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                        + "WHERE i.indrelid = to_regclass(?) AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)")) {
            ps.setString(1, regclass);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    pk.add(rs.getString(1));
                }
            }
        }
        String identity = "d";
        long rows = 0;
        try (PreparedStatement ps = c.prepareStatement("SELECT relreplident::text, greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(?)")) {
            ps.setString(1, regclass);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    identity = rs.getString(1);
                    rows = rs.getLong(2);
                }
            }
        }
        return Optional.of(new TableSchema(table, cols, List.copyOf(pk), identity, rows));
    }
}
