package io.pgbackfill.sink;

import io.pgbackfill.core.sql.DataErrors;
import io.pgbackfill.core.state.SinkState;
import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.event.RowChange;
import io.pgbackfill.core.transform.RowRejected;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
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
    static final String PROGRESS_TABLE = SinkState.PROGRESS_TABLE;

    /**
     * A change that was not written, and why: the database refused it ({@code DATABASE_REJECTED}, with its
     * SQLSTATE), or its target key belongs to another source row ({@code DUPLICATE_TARGET_KEY}, no SQLSTATE).
     */
    public record Rejected(SinkBatch.Entry entry, RowRejected.Reason reason, String sqlState, String message) {
    }

    /**
     * What a committed batch leaves to do: changes to send to the DLQ, and changes whose source row must be read
     * again (re-reads, and updates without unchanged TOAST values for rows the target lacks; see {@link RowChange#rereadKey()}).
     */
    public record Outcome(List<Rejected> rejected, List<SinkBatch.Entry> rereads) {
    }


    private final String pipeline;
    private final SinkConfig config;
    /**
     * Upserts of at least this many bytes go through COPY whatever their row count: the array upsert holds every value
     * two more times (the array literals, then their bytes on the wire), COPY streams them.
     */
    static final long COPY_BYTES = 8L * 1024 * 1024;
    /**
     * Parts of at least this many upserts (or large ones) are first tried as one COPY into the target
     * ({@link #copyIntoTarget}); smaller ones are streaming's, which mostly update rows the target holds.
     */
    static final int DIRECT_COPY_ROWS = 1000;

    /** When to try a large batch of upserts as one COPY straight into the target (see {@link #copyIntoTarget}). */
    private final DirectCopyBackoff direct = new DirectCopyBackoff();

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
                st.execute(t.addSinkColumnsSql());
            }
        }
    }

    /** Writes and commits the batch; returns the rejected changes (already rolled back to their savepoints) and the re-reads. */
    public Outcome write(Connection c, SinkBatch batch) throws SQLException {
        return write(c, batch, null);
    }

    /**
     * Writes and commits the batch if {@code fence} (when given) still holds every partition it came from;
     * throws {@link SinkFence.Fenced}, with nothing written, if another sink instance has claimed one.
     */
    public Outcome write(Connection c, SinkBatch batch, SinkFence fence) throws SQLException {
        return write(c, batch, fence, o -> { });
    }

    /**
     * As {@link #write(Connection, SinkBatch, SinkFence)}, handing the outcome to {@code beforeCommit} before the commit:
     * the sink sends its re-read requests there, so that once this batch's watermarks are visible in the target, the
     * requests its changes caused are in Kafka (what {@code CatchUp} relies on). If the commit then fails, they were
     * sent for nothing, which is harmless.
     */
    public Outcome write(Connection c, SinkBatch batch, SinkFence fence, java.util.function.Consumer<Outcome> beforeCommit) throws SQLException {
        c.setAutoCommit(false);
        List<Rejected> rejected = new ArrayList<>();
        List<SinkBatch.Entry> rereads = new ArrayList<>();
        try {
            if (fence != null) {
                fence.check(c, batch.offsets().keySet());
            }
            for (Map.Entry<TargetTable, Map<String, SinkBatch.Entry>> e : batch.rows().entrySet()) {
                TargetTable table = e.getKey();
                Map<Boolean, List<SinkBatch.Entry>> deletes = new LinkedHashMap<>();
                List<SinkBatch.Entry> upserts = new ArrayList<>();
                for (SinkBatch.Entry entry : e.getValue().values()) {
                    if (entry.change().isDelete() || entry.change().isReread()) {
                        // A re-read first removes the target's older row (guarded): the source row comes back whole.
                        deletes.computeIfAbsent(entry.change().sourceKey() != null, k -> new ArrayList<>()).add(entry);
                        if (entry.change().isReread()) {
                            rereads.add(entry);
                        }
                    } else {
                        upserts.add(entry);
                    }
                }
                // Deletes first: a tracked delete frees its target key for another source row in this batch.
                for (Map.Entry<Boolean, List<SinkBatch.Entry>> d : deletes.entrySet()) {
                    isolate(c, d.getValue(), rejected, part -> delete(c, table, d.getKey(), part));
                }
                for (List<SinkBatch.Entry> round : rounds(upserts)) {
                    Map<TargetTable.Shape, List<SinkBatch.Entry>> byShape = new LinkedHashMap<>();
                    for (SinkBatch.Entry entry : round) {
                        byShape.computeIfAbsent(new TargetTable.Shape(entry.change().unchangedOrEmpty(), entry.change().sourceKey() != null), k -> new ArrayList<>())
                                .add(entry);
                    }
                    for (Map.Entry<TargetTable.Shape, List<SinkBatch.Entry>> u : byShape.entrySet()) {
                        TargetTable.Shape shape = u.getKey();
                        isolate(c, u.getValue(), rejected, part -> upsert(c, table, shape, part, rejected, rereads));
                    }
                }
            }
            writeProgress(c, batch);
            Outcome outcome = new Outcome(rejected, rereads);
            beforeCommit.accept(outcome);
            c.commit();
            return outcome;
        } catch (SQLException | RuntimeException ex) {
            try {
                c.rollback();
            } catch (SQLException ignored) {
                // the connection is gone; the caller reconnects
            }
            throw ex;
        }
    }

    /**
     * Upserts in statements that each touch a target key once. Only tracked upserts from different source
     * rows can share a target key in one batch (see {@link SinkBatch#keyOf}); the oldest goes first, each later
     * one in a later statement, where it meets the holder and {@link #heldByAnotherSourceKey} reports it.
     */
    static List<List<SinkBatch.Entry>> rounds(List<SinkBatch.Entry> upserts) {
        List<List<SinkBatch.Entry>> rounds = new ArrayList<>();
        rounds.add(new ArrayList<>(upserts.size()));
        Map<String, List<SinkBatch.Entry>> shared = null;
        for (SinkBatch.Entry entry : upserts) {
            if (entry.change().sourceKey() == null) {
                rounds.get(0).add(entry);
            } else {
                shared = shared == null ? new HashMap<>() : shared;
                shared.computeIfAbsent(SinkBatch.targetKeyOf(entry.change()), k -> new ArrayList<>(1)).add(entry);
            }
        }
        if (shared != null) {
            for (List<SinkBatch.Entry> sameKey : shared.values()) {
                sameKey.sort(Comparator.comparingLong(x -> x.change().lsn()));
                for (int i = 0; i < sameKey.size(); i++) {
                    if (rounds.size() <= i) {
                        rounds.add(new ArrayList<>());
                    }
                    rounds.get(i).add(sameKey.get(i));
                }
            }
        }
        return rounds;
    }

    static Rejected duplicate(SinkBatch.Entry entry, String holder) {
        RowChange rc = entry.change();
        return new Rejected(entry, RowRejected.Reason.DUPLICATE_TARGET_KEY, null, "source key " + rc.sourceKey() + " maps to target key "
                + rc.key() + ", which source key " + holder + " already holds: two source rows would become one target row (fix the key expression)");
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

    /** Rows the database rejects (DataErrors) are isolated by bisection and returned; the rest is written. */
    private void isolate(Connection c, List<SinkBatch.Entry> entries, List<Rejected> rejected, Part part) throws SQLException {
        DataErrors.bisect(c, entries, part::write,
                (entry, e) -> rejected.add(new Rejected(entry, RowRejected.Reason.DATABASE_REJECTED, e.getSQLState(), firstLine(e.getMessage()))));
    }

    private static String firstLine(String m) {
        if (m == null) {
            return "";
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private void delete(Connection c, TargetTable table, boolean tracked, List<SinkBatch.Entry> entries) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(table.deleteSql(tracked))) {
            int p = bindKeys(c, ps, table, entries);
            ps.setArray(p++, c.createArrayOf("bigint", entries.stream().map(e -> e.change().lsn()).toArray(Long[]::new)));
            if (tracked) {
                ps.setArray(p, sourceKeys(c, entries));
            }
            ps.executeUpdate();
        }
    }

    /** Binds one text[] per key column from parameter 1; returns the next parameter index. */
    private static int bindKeys(Connection c, PreparedStatement ps, TargetTable table, List<SinkBatch.Entry> entries) throws SQLException {
        List<Column> keys = table.keyColumns();
        String[][] cols = new String[keys.size()][entries.size()];
        for (int i = 0; i < entries.size(); i++) {
            RowChange rc = entries.get(i).change();
            for (int k = 0; k < keys.size(); k++) {
                cols[k][i] = rc.key().get(keys.get(k).name());
            }
        }
        int p = 1;
        for (String[] col : cols) {
            ps.setArray(p++, c.createArrayOf("text", col));
        }
        return p;
    }

    private static Array sourceKeys(Connection c, List<SinkBatch.Entry> entries) throws SQLException {
        return c.createArrayOf("text", entries.stream().map(e -> e.change().sourceKey()).toArray(String[]::new));
    }

    private void upsert(Connection c, TargetTable table, TargetTable.Shape shape, List<SinkBatch.Entry> entries, List<Rejected> rejected,
                        List<SinkBatch.Entry> rereads) throws SQLException {
        boolean large = entries.size() >= config.copyThreshold() || bytes(entries) >= COPY_BYTES;
        int written;
        boolean tryDirect = table.keyIsUnique() && shape.unchanged().isEmpty() && !shape.tracked() && (large || entries.size() >= DIRECT_COPY_ROWS);
        if (tryDirect && direct.tryNow(table.name()) && copyIntoTarget(c, table, entries)) {
            written = entries.size();
        } else {
            written = large ? upsertWithCopy(c, table, shape.unchanged(), shape.tracked(), entries)
                    : upsertWithArrays(c, table, shape.unchanged(), shape.tracked(), entries);
        }
        if (written < entries.size() && !shape.unchanged().isEmpty()) {
            // Some rows did not apply: older versions (a replay), or rows the target does not have at all.
            missingRows(c, table, shape, entries, rejected, rereads);
        }
        if (written < entries.size() && shape.tracked()) {
            // Some rows did not apply: older versions (a replay), or target keys another source row holds.
            rejected.addAll(heldByAnotherSourceKey(c, table, entries));
        }
    }

    /**
     * Changes without some (unchanged TOAST) columns for rows the target does not hold: the row started to match the
     * filter, or its earlier version is in the DLQ. Written, they would get NULL in those columns: the source row is
     * read again instead. (A row deleted on the source since then is read as nothing: its delete is in the stream.)
     */
    private static void missingRows(Connection c, TargetTable table, TargetTable.Shape shape, List<SinkBatch.Entry> entries,
                                    List<Rejected> rejected, List<SinkBatch.Entry> rereads) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(table.missingKeysSql())) {
            bindKeys(c, ps, table, entries);
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    SinkBatch.Entry e = entries.get(rs.getInt(1) - 1);
                    if (e.change().rereadKey() != null) {
                        rereads.add(e);
                    } else {
                        // written by a transformer older than re-reads: nothing says which source row to read
                        rejected.add(new Rejected(e, RowRejected.Reason.TOAST_UNAVAILABLE, null, "the target has no row " + e.change().key()
                                + " to update, and the change did not carry " + shape.unchanged() + " (unchanged TOAST values) nor its"
                                + " source key (an older transformer wrote it): rewrite the value on the source (UPDATE … SET col = col || '' for this key)"
                                + " to send the whole row"));
                    }
                }
            }
        }
    }

    private static List<Rejected> heldByAnotherSourceKey(Connection c, TargetTable table, List<SinkBatch.Entry> entries) throws SQLException {
        List<Rejected> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(table.heldByAnotherSourceKeySql())) {
            ps.setArray(bindKeys(c, ps, table, entries), sourceKeys(c, entries));
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(duplicate(entries.get(rs.getInt(1) - 1), rs.getString(2)));
                }
            }
        }
        return out;
    }

    int upsertWithArrays(Connection c, TargetTable table, Set<String> unchanged, List<SinkBatch.Entry> entries) throws SQLException {
        return upsertWithArrays(c, table, unchanged, false, entries);
    }

    int upsertWithArrays(Connection c, TargetTable table, Set<String> unchanged, boolean tracked, List<SinkBatch.Entry> entries) throws SQLException {
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
        try (PreparedStatement ps = c.prepareStatement(table.upsertFromArraysSql(unchanged, tracked))) {
            int p = 1;
            for (String[] col : cols) {
                Array a = c.createArrayOf("text", col);
                ps.setArray(p++, a);
            }
            ps.setArray(p++, c.createArrayOf("bigint", lsns));
            if (tracked) {
                ps.setArray(p, sourceKeys(c, entries));
            }
            return ps.executeUpdate();
        }
    }

    /**
     * The whole part as one COPY into the target itself, under a savepoint: true if every row went in. Only for a table
     * whose key has a unique index ({@link TargetTable#keyIsUnique()}): without one, a key it holds would not fail the
     * COPY but be added a second time (the upsert, which needs that index, refuses such a table instead). A table being
     * filled (a snapshot, the rows of a bulk insert) mostly gets keys it does not hold yet, and then this costs the
     * database well under half of the upsert through the stage (measured: 1.9 s against 4.9 s of a backend's CPU per 1M
     * rows; ON CONFLICT's speculative insertion and the stage's write and read are what it skips). A key the target
     * already holds is a unique violation, and any other error is one too: the savepoint is rolled back, nothing of the
     * attempt stays, and the caller writes the part through the guarded upsert, which decides what applies and which
     * rows are refused, as always. The attempt's inserted rows leave dead tuples then, so after a failure the next
     * parts of that table skip the attempt ({@link DirectCopyBackoff}).
     */
    boolean copyIntoTarget(Connection c, TargetTable table, List<SinkBatch.Entry> entries) throws SQLException {
        java.sql.Savepoint sp = c.setSavepoint();
        try {
            copyRows(c, table.copyIntoTargetSql(), table, false, entries);
            c.releaseSavepoint(sp);
            direct.succeeded(table.name());
            return true;
        } catch (SQLException e) {
            try {
                c.rollback(sp);
            } catch (SQLException rollback) {
                e.addSuppressed(rollback);
                throw e; // the connection is gone: the caller retries the batch
            }
            direct.failed(table.name());
            return false;
        }
    }

    /** Parts written by {@link #copyIntoTarget} and parts where it gave way to the upsert, since this writer was made. */
    long directCopies() {
        return direct.copies();
    }

    long directFallbacks() {
        return direct.fallbacks();
    }

    int upsertWithCopy(Connection c, TargetTable table, Set<String> unchanged, List<SinkBatch.Entry> entries) throws SQLException {
        return upsertWithCopy(c, table, unchanged, false, entries);
    }

    int upsertWithCopy(Connection c, TargetTable table, Set<String> unchanged, boolean tracked, List<SinkBatch.Entry> entries) throws SQLException {
        // Create-if-missing on every call, in the same round trip as the TRUNCATE: this runs under a
        // savepoint, and when a bad row rolls the savepoint back, a CREATE made there is undone too, so
        // "created on this connection" cannot be remembered client-side. The TRUNCATE empties what an
        // earlier part of this transaction (another bisection half, another unchanged-column group) left.
        try (Statement st = c.createStatement()) {
            st.execute(table.createStageSql() + "; TRUNCATE " + table.stageName());
        }
        // Streamed row by row: a batch of large rows is sent as it is encoded, never held as one text (CopyStream).
        copyRows(c, table.copySql(tracked), table, tracked, entries);
        try (Statement st = c.createStatement()) {
            return st.executeUpdate(table.upsertFromStageSql(unchanged, tracked));
        }
    }

    /** One COPY of the entries: the table's columns, the LSN, and the source key when tracked (the column order of both COPY statements). */
    private static void copyRows(Connection c, String copySql, TargetTable table, boolean tracked, List<SinkBatch.Entry> entries) throws SQLException {
        try (CopyStream copy = CopyStream.open(c, copySql)) {
            for (SinkBatch.Entry e : entries) {
                RowChange rc = e.change();
                for (Column col : table.columns()) {
                    copy.value(rc.values().get(col.name())).raw('\t');
                }
                copy.raw(Long.toString(rc.lsn()));
                if (tracked) {
                    copy.raw('\t').value(rc.sourceKey());
                }
                copy.raw('\n');
            }
            copy.finish();
        }
    }

    /** Bytes of the entries as read from Kafka: close to the text they carry. */
    static long bytes(List<SinkBatch.Entry> entries) {
        long sum = 0;
        for (SinkBatch.Entry e : entries) {
            sum += e.value() == null ? 0 : e.value().length;
        }
        return sum;
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
