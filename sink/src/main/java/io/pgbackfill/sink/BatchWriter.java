package io.pgbackfill.sink;

import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.event.RowChange;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes one {@link SinkBatch} in one transaction: per table, its deletes, its upserts (COPY into a
 * staging table and one merge for large batches, one array upsert for small ones), then the partitions'
 * watermarks into {@code pgbackfill.sink_progress}. Rows the database rejects (bad value, constraint)
 * are isolated by bisecting under savepoints and returned; the rest commits.
 */
public final class BatchWriter {
    public static final String PROGRESS_TABLE = "pgbackfill.sink_progress";

    /** A change the database refused, with its reason. */
    public record Rejected(SinkBatch.Entry entry, String sqlState, String message) {
    }

    private final String pipeline;
    private final SinkConfig config;

    public BatchWriter(String pipeline, SinkConfig config) {
        this.pipeline = pipeline;
        this.config = config;
    }

    /** Creates what the sink keeps in the target: the progress table and each table's LSN column. */
    public static void prepare(Connection c, List<TargetTable> tables) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS pgbackfill");
            st.execute("CREATE TABLE IF NOT EXISTS " + PROGRESS_TABLE + " (pipeline text NOT NULL, target_table text NOT NULL, "
                    + "partition int NOT NULL, lsn bigint NOT NULL, snapshot_done boolean NOT NULL DEFAULT false, "
                    + "updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (pipeline, target_table, partition))");
            for (TargetTable t : tables) {
                st.execute(t.addLsnColumnSql());
            }
        }
    }

    /** Writes and commits the batch; returns the rejected changes (already rolled back to their savepoints). */
    public List<Rejected> write(Connection c, SinkBatch batch) throws SQLException {
        c.setAutoCommit(false);
        List<Rejected> rejected = new ArrayList<>();
        try {
            for (Map.Entry<TargetTable, Map<String, SinkBatch.Entry>> e : batch.rows().entrySet()) {
                TargetTable table = e.getKey();
                List<SinkBatch.Entry> deletes = new ArrayList<>();
                Map<Set<String>, List<SinkBatch.Entry>> upserts = new LinkedHashMap<>();
                for (SinkBatch.Entry entry : e.getValue().values()) {
                    if (entry.change().isDelete()) {
                        deletes.add(entry);
                    } else {
                        upserts.computeIfAbsent(entry.change().unchangedOrEmpty(), k -> new ArrayList<>()).add(entry);
                    }
                }
                if (!deletes.isEmpty()) {
                    isolate(c, deletes, rejected, part -> delete(c, table, part));
                }
                for (Map.Entry<Set<String>, List<SinkBatch.Entry>> u : upserts.entrySet()) {
                    isolate(c, u.getValue(), rejected, part -> upsert(c, table, u.getKey(), part));
                }
            }
            writeProgress(c, batch);
            c.commit();
            return rejected;
        } catch (SQLException | RuntimeException ex) {
            try {
                c.rollback();
            } catch (SQLException ignored) {
                // the connection is gone; the caller reconnects
            }
            throw ex;
        }
    }

    /** Applies a source TRUNCATE in its own transaction (only when configured to). */
    public void truncate(Connection c, TargetTable table, long lsn) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement(table.truncateSql())) {
            ps.setLong(1, lsn);
            ps.executeUpdate();
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        }
    }

    interface Part {
        void write(List<SinkBatch.Entry> entries) throws SQLException;
    }

    private void isolate(Connection c, List<SinkBatch.Entry> entries, List<Rejected> rejected, Part part) throws SQLException {
        Savepoint sp = c.setSavepoint();
        try {
            part.write(entries);
            c.releaseSavepoint(sp);
        } catch (SQLException e) {
            if (!isDataError(e)) {
                throw e;
            }
            c.rollback(sp);
            if (entries.size() == 1) {
                rejected.add(new Rejected(entries.get(0), e.getSQLState(), firstLine(e.getMessage())));
                return;
            }
            int mid = entries.size() / 2;
            isolate(c, entries.subList(0, mid), rejected, part);
            isolate(c, entries.subList(mid, entries.size()), rejected, part);
        }
    }

    /** Errors caused by the rows themselves (class 22 data, 23 constraint, 54 limits): isolate, do not retry. */
    static boolean isDataError(SQLException e) {
        String s = e.getSQLState();
        return s != null && (s.startsWith("22") || s.startsWith("23") || s.startsWith("54") || s.equals("42804"));
    }

    private static String firstLine(String m) {
        if (m == null) {
            return "";
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private void delete(Connection c, TargetTable table, List<SinkBatch.Entry> entries) throws SQLException {
        List<Column> keys = table.keyColumns();
        String[][] cols = new String[keys.size()][entries.size()];
        Long[] lsns = new Long[entries.size()];
        for (int i = 0; i < entries.size(); i++) {
            RowChange rc = entries.get(i).change();
            for (int k = 0; k < keys.size(); k++) {
                cols[k][i] = rc.key().get(keys.get(k).name());
            }
            lsns[i] = rc.lsn();
        }
        try (PreparedStatement ps = c.prepareStatement(table.deleteSql())) {
            int p = 1;
            for (String[] col : cols) {
                ps.setArray(p++, c.createArrayOf("text", col));
            }
            ps.setArray(p, c.createArrayOf("bigint", lsns));
            ps.executeUpdate();
        }
    }

    private void upsert(Connection c, TargetTable table, Set<String> unchanged, List<SinkBatch.Entry> entries) throws SQLException {
        if (entries.size() >= config.copyThreshold()) {
            upsertWithCopy(c, table, unchanged, entries);
        } else {
            upsertWithArrays(c, table, unchanged, entries);
        }
    }

    void upsertWithArrays(Connection c, TargetTable table, Set<String> unchanged, List<SinkBatch.Entry> entries) throws SQLException {
        List<Column> columns = table.columns();
        String[][] cols = new String[columns.size()][entries.size()];
        Long[] lsns = new Long[entries.size()];
        for (int i = 0; i < entries.size(); i++) {
            RowChange rc = entries.get(i).change();
            for (int k = 0; k < columns.size(); k++) {
                cols[k][i] = rc.values().get(columns.get(k).name());
            }
            lsns[i] = rc.lsn();
        }
        try (PreparedStatement ps = c.prepareStatement(table.upsertFromArraysSql(unchanged))) {
            int p = 1;
            for (String[] col : cols) {
                Array a = c.createArrayOf("text", col);
                ps.setArray(p++, a);
            }
            ps.setArray(p, c.createArrayOf("bigint", lsns));
            ps.executeUpdate();
        }
    }

    void upsertWithCopy(Connection c, TargetTable table, Set<String> unchanged, List<SinkBatch.Entry> entries) throws SQLException {
        // Create-if-missing on every call, in the same round trip as the TRUNCATE: this runs under a
        // savepoint, and when a bad row rolls the savepoint back, a CREATE made there is undone too, so
        // "created on this connection" cannot be remembered client-side. The TRUNCATE empties what an
        // earlier part of this transaction (another bisection half, another unchanged-column group) left.
        try (Statement st = c.createStatement()) {
            st.execute(table.createStageSql() + "; TRUNCATE " + table.stageName());
        }
        List<Column> columns = table.columns();
        StringBuilder sb = new StringBuilder(entries.size() * 64);
        for (SinkBatch.Entry e : entries) {
            RowChange rc = e.change();
            for (Column col : columns) {
                CopyText.append(sb, rc.values().get(col.name()));
                sb.append('\t');
            }
            sb.append(rc.lsn()).append('\n');
        }
        CopyText.copyIn(c, table.copySql(), sb);
        try (Statement st = c.createStatement()) {
            st.executeUpdate(table.upsertFromStageSql(unchanged));
        }
    }

    private void writeProgress(Connection c, SinkBatch batch) throws SQLException {
        if (batch.watermarks().isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + PROGRESS_TABLE
                + " AS p (pipeline, target_table, partition, lsn, snapshot_done, updated_at) VALUES (?, ?, ?, ?, ?, now()) "
                + "ON CONFLICT (pipeline, target_table, partition) DO UPDATE SET lsn = greatest(p.lsn, EXCLUDED.lsn), "
                + "snapshot_done = p.snapshot_done OR EXCLUDED.snapshot_done, updated_at = now()")) {
            for (var t : batch.watermarks().entrySet()) {
                for (var w : t.getValue().entrySet()) {
                    ps.setString(1, pipeline);
                    ps.setString(2, t.getKey().name().id());
                    ps.setInt(3, w.getKey());
                    ps.setLong(4, w.getValue().lsn());
                    ps.setBoolean(5, w.getValue().snapshotDone());
                    ps.addBatch();
                }
            }
            ps.executeBatch();
        }
    }

    static List<SinkBatch.Entry> sorted(List<SinkBatch.Entry> e) {
        return Collections.unmodifiableList(e);
    }
}
