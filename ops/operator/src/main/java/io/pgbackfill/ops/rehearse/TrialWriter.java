package io.pgbackfill.ops.rehearse;

import io.pgbackfill.core.sql.DataErrors;
import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.sql.SqlIdentifier;
import io.pgbackfill.core.sql.TableName;
import io.pgbackfill.core.transform.TableTransform;
import io.pgbackfill.sink.CopyText;
import io.pgbackfill.sink.TargetTable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes the mapped sample the way the sink writes rows the target does not hold yet (one COPY into the table,
 * {@link TargetTable#copyIntoTargetSql()}, or the LSN-guarded upsert when the key has no unique index) into a TEMPORARY table created {@code LIKE} the target, with its indexes, CHECK
 * constraints, defaults and storage, inside one transaction that is rolled back at the end: the
 * target never sees a row, and no table outlives the session. This measures what writing costs and
 * how large the rows are on disk, and it lets PostgreSQL itself reject what the transform's checks do
 * not know about (a CHECK constraint, an index row too large). A batch that fails on data is split in
 * halves under savepoints until the bad rows stand alone, as the sink does, so k bad rows cost about
 * 2·k·log2(batch) statements, not one per row; only writes that succeed are timed.
 */
final class TrialWriter implements AutoCloseable {
    static final int BATCH_ROWS = 1000;
    static final int BATCH_CHARS = 8 << 20;

    /** A row PostgreSQL refused. */
    interface Rejects {
        void rejected(String sourceKey, String message);
    }

    private final Connection c;
    private final TargetTable table;
    private final List<Column> columns;
    private final Rejects rejects;
    private final CostMeter meter;
    private final List<String> lines = new ArrayList<>();
    private final List<String> keys = new ArrayList<>();
    private int batchChars;
    private long rowsWritten;
    private String failure;

    TrialWriter(Connection target, TableTransform transform, Rejects rejects, CostMeter meter) throws SQLException {
        this.c = target;
        this.rejects = rejects;
        this.meter = meter;
        this.columns = transform.targetColumns();
        TableName temp = new TableName(SqlIdentifier.of("pg_temp"),
                SqlIdentifier.of("pgbackfill_rehearse_" + Integer.toHexString(transform.target().id().hashCode())));
        this.table = new TargetTable(temp, columns, transform.keyColumnNames(),
                TargetTable.keyIsUnique(target, transform.target(), transform.keyColumnNames()));
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TEMP TABLE " + temp.table().quoted() + " (LIKE " + transform.target().quoted()
                    + " INCLUDING ALL) ON COMMIT DROP");
            st.execute(table.addSinkColumnsSql());
        }
    }

    void add(Map<String, String> values, String sourceKey) throws SQLException {
        if (failure != null) {
            return;
        }
        StringBuilder line = new StringBuilder(64);
        for (Column col : columns) {
            CopyText.append(line, values.get(col.name()));
            line.append('\t');
        }
        line.append("1\n"); // the LSN column: any value; every row is new to the temporary table
        lines.add(line.toString());
        keys.add(sourceKey);
        batchChars += line.length();
        if (lines.size() >= BATCH_ROWS || batchChars >= BATCH_CHARS) {
            flush();
        }
    }

    private void flush() throws SQLException {
        try {
            if (!lines.isEmpty() && failure == null) {
                writeOrSplit(0, lines.size());
            }
        } finally {
            lines.clear();
            keys.clear();
            batchChars = 0;
        }
    }

    /** Writes rows [from, to); rows the database rejects are isolated as the sink does (DataErrors), the rest stays written. */
    private void writeOrSplit(int from, int to) throws SQLException {
        if (failure != null) {
            return;
        }
        List<Integer> rows = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            rows.add(i);
        }
        try {
            DataErrors.bisect(c, rows, part -> {
                long t0 = System.nanoTime();
                write(lines.subList(part.get(0), part.get(part.size() - 1) + 1));
                meter.write(System.nanoTime() - t0, part.size());
                rowsWritten += part.size();
            }, (row, e) -> rejects.rejected(keys.get(row), firstLine(e.getMessage())));
        } catch (SQLException e) {
            failure = firstLine(e.getMessage());
        }
    }

    /**
     * As the sink writes a part of keys the target does not hold yet (every key is new here): one COPY into the table when
     * its key has a unique index, else the COPY into the stage and the guarded upsert, whose error the sink would meet too.
     */
    private void write(List<String> rows) throws SQLException {
        StringBuilder sb = new StringBuilder(rows.size() * 64);
        rows.forEach(sb::append);
        if (table.keyIsUnique()) {
            CopyText.copyIn(c, table.copyIntoTargetSql(), sb);
            return;
        }
        try (Statement st = c.createStatement()) {
            st.execute(table.createStageSql() + "; TRUNCATE " + table.stageName());
        }
        CopyText.copyIn(c, table.copySql(), sb);
        try (Statement st = c.createStatement()) {
            st.executeUpdate(table.upsertFromStageSql(java.util.Set.of()));
        }
    }

    private static String firstLine(String m) {
        if (m == null) {
            return "unknown error";
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** What was written, its size on disk (heap, TOAST and indexes) and the rows it holds. */
    record Result(long rowsWritten, long rowsInTable, long bytes, String failure) {
    }

    Result finish() throws SQLException {
        flush();
        long bytes = 0;
        long rowsInTable = 0;
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_total_relation_size(to_regclass(?)), (SELECT count(*) FROM " + table.name().quoted() + ")")) {
            ps.setString(1, table.name().quoted());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                bytes = rs.getLong(1);
                rowsInTable = rs.getLong(2);
            }
        }
        return new Result(rowsWritten, rowsInTable, bytes, failure);
    }

    /** Rolls everything back: the temporary table, any stage and every row are gone. */
    @Override
    public void close() throws SQLException {
        c.rollback();
    }
}
