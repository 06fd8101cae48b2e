package io.pgbackfill.ops.verify;

import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.core.transform.TableTransform;
import io.pgbackfill.ops.pipeline.CatchUp;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Source vs target, in chunks, never a table in memory, correct while the application writes.
 * <p>
 * <b>Pass 1</b>: for each chunk of source keys, read the rows, run them through the transformer's own
 * {@link TableTransform}, COPY the expected rows into a temporary table on the target (so PostgreSQL parses them as
 * it parsed the sink's writes) and compare one checksum with the target's rows of that key range. Keys the transform
 * rejects belong to the DLQ and are compared with nothing. Only a chunk that differs lists its keys. Chunks are key
 * ranges fixed up front, checked by {@link #DEFAULT_PARALLELISM} workers at once.
 * <p>
 * <b>Settling</b> (while the pipeline runs): a key found different in pass 1 may only be in flight. Each re-check
 * round reads the key's target version ({@code _pgbackfill_lsn}), then opens a REPEATABLE READ snapshot of the
 * source, waits until the sink has passed a fence written after that snapshot, and compares the key's source row
 * (as of the snapshot) with its target row. If the target row is still the version read before the snapshot, the
 * comparison is exact: that version was committed before the snapshot and the sink has applied everything committed
 * before it, so the two must agree. A key reported different is one that differed with an unchanged target version,
 * after the pipeline passed a later snapshot; a key whose target version moved is re-checked in the next round.
 */
public final class Verifier {
    public record Mismatch(String table, String key, String kind) {
        @Override
        public String toString() {
            return kind + " " + table + " " + key;
        }
    }

    /**
     * @param rechecked keys compared again by the re-check rounds (or by a check of changed rows)
     * @param note      what was not checked and why, or empty
     */
    public record Report(String table, long sourceRows, long expectedRows, long rejectedRows, long chunks, long chunksDiffering,
                         List<Mismatch> mismatches, long rechecked, String note) {
        public boolean clean() {
            return mismatches.isEmpty();
        }
    }

    /**
     * How differences seen while the pipeline runs are re-checked before they are reported: at most {@code rounds}
     * rounds, each waiting at most {@code fenceTimeout} for the sink to pass a fresh fence.
     */
    public record Settling(int rounds, Duration fenceTimeout) {
        /** Report what pass 1 sees: for a stopped pipeline, where source and target do not move relative to each other. */
        public static final Settling NONE = new Settling(0, Duration.ZERO);

        /** For a running pipeline. */
        public static Settling whilePipelineRuns() {
            return new Settling(6, Duration.ofSeconds(60));
        }

        boolean enabled() {
            return rounds > 0;
        }
    }

    /**
     * Two workers: per chunk the work alternates between this JVM and PostgreSQL, so one worker keeps about one
     * core busy. 1M rows on 2 cores (shared, load ~10): 15-16 s with one worker, 6-10 s with two.
     */
    public static final int DEFAULT_PARALLELISM = 2;

    /** Differences kept for re-checking and reporting per table; beyond it verify says so instead of listing. */
    static final int MAX_KEYS = 200_000;

    /** Keys per {@code IN (…)} list. */
    private static final int SLICE = 1000;

    private final MigrationPlan plan;
    private final int chunkSize;
    private final long rowsPerSecond;
    private final Consumer<String> progress;
    private final int parallelism;
    private final Settling settling;

    /** A verifier with {@link #DEFAULT_PARALLELISM} workers that reports what it sees (no settling). */
    public Verifier(MigrationPlan plan, int chunkSize, long rowsPerSecond, Consumer<String> progress) {
        this(plan, chunkSize, rowsPerSecond, progress, DEFAULT_PARALLELISM, Settling.NONE);
    }

    /**
     * @param parallelism chunks checked at the same time, each worker with one source and one target connection;
     *                    {@code rowsPerSecond} bounds them together
     */
    public Verifier(MigrationPlan plan, int chunkSize, long rowsPerSecond, Consumer<String> progress, int parallelism, Settling settling) {
        this.plan = plan;
        this.chunkSize = chunkSize;
        this.rowsPerSecond = rowsPerSecond;
        this.progress = progress;
        this.parallelism = Math.max(1, parallelism);
        this.settling = settling;
    }

    public Verifier withSettling(Settling s) {
        return new Verifier(plan, chunkSize, rowsPerSecond, progress, parallelism, s);
    }

    /** Every table, whole. */
    public List<Report> verify() throws SQLException {
        List<Report> out = new ArrayList<>();
        for (TableTransform t : plan.tables()) {
            out.add(verifyTable(t));
        }
        return out;
    }

    /**
     * Only the target rows the sink wrote after {@code sinceLsn} (continuous verify, cutover's preparation), each
     * re-checked as in settling. Deletions are the stream's: a deleted row has no version left to compare. Tables
     * whose target key is computed are covered by the full verify only.
     */
    public List<Report> verifyChangedSince(long sinceLsn) throws SQLException {
        return changedSince(sinceLsn, false);
    }

    /**
     * As {@link #verifyChangedSince}, in one exact round without waiting: for cutover, while writes to the source are
     * blocked and the target has drained, when source and target cannot move.
     */
    public List<Report> checkChangedSinceWhileBlocked(long sinceLsn) throws SQLException {
        return changedSince(sinceLsn, true);
    }

    private List<Report> changedSince(long sinceLsn, boolean blocked) throws SQLException {
        List<Report> out = new ArrayList<>();
        for (TableTransform t : plan.tables()) {
            TableShape shape = shape(t);
            if (!shape.identityKey) {
                out.add(new Report(t.target().id(), 0, 0, 0, 0, 0, List.of(), 0, "target key is computed: changed rows are covered by the full verify only"));
                continue;
            }
            RowComparison cmp = new RowComparison(shape);
            List<RowKey> keys;
            try (Connection tgt = plan.spec().targetOrSource().open()) {
                if (!blocked) {
                    // Never under cutover's lock: a concurrent index build would wait for the lock's own transaction.
                    // The rounds before the lock have built it.
                    LsnIndex.ensure(tgt, t.target());
                }
                keys = cmp.changedSince(tgt, sinceLsn);
            }
            Map<RowKey, String> candidates = new LinkedHashMap<>();
            keys.forEach(k -> candidates.put(k, "different"));
            Map<RowKey, String> confirmed = recheck(cmp, candidates, blocked);
            out.add(new Report(t.target().id(), keys.size(), keys.size(), 0, 1, confirmed.isEmpty() ? 0 : 1, mismatches(shape, confirmed), keys.size(), ""));
        }
        return out;
    }

    private TableShape shape(TableTransform t) {
        TableSchema schema = plan.sourceSchema(t.source()).orElseThrow(() -> new IllegalStateException("no catalog for " + t.source()));
        return new TableShape(t, schema);
    }

    /**
     * One table: pass 1 in chunks of about {@code chunkSize} source keys, whose bounds come first from one key-only
     * scan, so that {@link #parallelism} workers can check chunks at the same time. Rows inserted after the bounds
     * were read still fall in a chunk: chunks are key ranges, the first and last open-ended. Then settling.
     */
    private Report verifyTable(TableTransform t) throws SQLException {
        TableShape shape = shape(t);
        RowComparison cmp = new RowComparison(shape);
        List<String[]> bounds;
        try (Connection src = plan.spec().source().open()) {
            bounds = chunkBounds(src, shape);
        }
        int chunkCount = bounds.size() + 1;
        ChunkResult[] results = new ChunkResult[chunkCount];
        AtomicInteger next = new AtomicInteger();
        Progress tally = new Progress(t.target().id(), System.nanoTime());
        int workers = Math.min(parallelism, chunkCount);
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread th = new Thread(r, "pgbackfill-verify");
            th.setDaemon(true);
            return th;
        });
        try {
            List<Future<Void>> running = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                running.add(pool.submit(() -> {
                    try (Connection src = plan.spec().source().open(); Connection tgt = plan.spec().targetOrSource().open()) {
                        src.setAutoCommit(false);
                        shape.createStages(tgt);
                        for (int i = next.getAndIncrement(); i < chunkCount; i = next.getAndIncrement()) {
                            String[] lo = i == 0 ? null : bounds.get(i - 1);
                            String[] hi = i == bounds.size() ? null : bounds.get(i);
                            results[i] = checkChunk(src, tgt, cmp, lo, hi);
                            tally.add(results[i]);
                        }
                        shape.dropStages(tgt);
                    }
                    return null;
                }));
            }
            for (Future<Void> f : running) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("verify interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SQLException se) {
                throw se;
            }
            throw new IllegalStateException("verify of " + t.target() + " failed", e.getCause());
        } finally {
            pool.shutdownNow();
        }
        Map<RowKey, String> candidates = new LinkedHashMap<>();
        long sourceRows = 0;
        long expected = 0;
        long rejected = 0;
        long differing = 0;
        boolean tooMany = false;
        for (ChunkResult r : results) {
            sourceRows += r.read();
            expected += r.expected();
            rejected += r.rejected();
            differing += r.differs() ? 1 : 0;
            for (var e : r.differences().entrySet()) {
                if (candidates.size() >= MAX_KEYS) {
                    tooMany = true;
                    break;
                }
                candidates.put(e.getKey(), e.getValue());
            }
        }
        if (!shape.identityKey) {
            List<Mismatch> mismatches = mismatches(shape, candidates);
            long targetRows = targetCount(t);
            if (targetRows != expected) {
                mismatches.add(new Mismatch(t.target().id(), "(all)", "count " + targetRows + " in target vs " + expected + " expected"));
            }
            if (!mismatches.isEmpty() && settling.enabled()) {
                // A computed key has no key range to re-check: once the pipeline has caught up, check the table again.
                progress.accept(t.target().id() + ": " + mismatches.size() + " differences; waiting for the pipeline to catch up, then checking again");
                awaitFence();
                return new Verifier(plan, chunkSize, rowsPerSecond, progress, parallelism, Settling.NONE).verifyTable(t);
            }
            return new Report(t.target().id(), sourceRows, expected, rejected, chunkCount, differing, mismatches, 0, "");
        }
        long rechecked = candidates.size();
        Map<RowKey, String> confirmed = candidates;
        if (settling.enabled() && !candidates.isEmpty()) {
            progress.accept(t.target().id() + ": " + candidates.size() + " keys differ in pass 1; re-checking them at a point in time the pipeline has passed");
            confirmed = recheck(cmp, candidates, false);
        }
        List<Mismatch> mismatches = mismatches(shape, confirmed);
        String note = "";
        if (tooMany) {
            mismatches.add(new Mismatch(t.target().id(), "(more)", "more than " + MAX_KEYS + " keys differ; only the first are listed"));
            note = "more than " + MAX_KEYS + " keys differed";
        }
        return new Report(t.target().id(), sourceRows, expected, rejected, chunkCount, differing, mismatches, rechecked, note);
    }

    private long targetCount(TableTransform t) throws SQLException {
        try (Connection tgt = plan.spec().targetOrSource().open(); Statement st = tgt.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM " + t.target().quoted())) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private long awaitFence() throws SQLException {
        try {
            return CatchUp.await(plan.spec(), false, settling.fenceTimeout(), () -> true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("verify interrupted", e);
        }
    }

    private static List<Mismatch> mismatches(TableShape s, Map<RowKey, String> keys) {
        List<Mismatch> out = new ArrayList<>();
        keys.forEach((k, kind) -> out.add(new Mismatch(s.t.target().id(), k.display(s.tgtKey), kind)));
        return out;
    }

    /**
     * Re-check rounds over {@code candidates} (see the class comment); returns the keys that really differ. With
     * {@code blocked} (source writes blocked, target drained) one exact round, without snapshot or fence.
     */
    private Map<RowKey, String> recheck(RowComparison cmp, Map<RowKey, String> candidates, boolean blocked) throws SQLException {
        TableShape s = cmp.shape();
        Map<RowKey, String> confirmed = new LinkedHashMap<>();
        if (candidates.isEmpty()) {
            return confirmed;
        }
        int rounds = blocked ? 1 : Math.max(1, settling.rounds());
        try (Connection src = plan.spec().source().open(); Connection tgt = plan.spec().targetOrSource().open()) {
            s.createStages(tgt);
            List<RowKey> pending = new ArrayList<>(candidates.keySet());
            Map<RowKey, Long> before = blocked ? Map.of() : versions(cmp, tgt, pending);
            for (int round = 1; round <= rounds && !pending.isEmpty(); round++) {
                boolean caughtUp = true;
                src.setAutoCommit(false);
                src.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                try (Statement st = src.createStatement()) {
                    st.execute("SELECT 1"); // takes the snapshot the fence below must pass
                }
                if (!blocked) {
                    try {
                        awaitFence();
                    } catch (IllegalStateException e) {
                        caughtUp = false;
                    }
                }
                for (int from = 0; from < pending.size(); from += SLICE) {
                    s.load(tgt, cmp.expectedOf(src, pending.subList(from, Math.min(pending.size(), from + SLICE))));
                }
                src.commit();
                src.setAutoCommit(true);
                tgt.setAutoCommit(false);
                tgt.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                Map<RowKey, String> diffs = new LinkedHashMap<>();
                for (int from = 0; from < pending.size(); from += SLICE) {
                    diffs.putAll(cmp.differences(tgt, s.targetKeyIn(pending.subList(from, Math.min(pending.size(), from + SLICE)))));
                }
                Map<RowKey, Long> after = blocked ? Map.of() : versions(cmp, tgt, new ArrayList<>(diffs.keySet()));
                tgt.commit();
                tgt.setAutoCommit(true);
                s.clearStages(tgt);
                List<RowKey> again = new ArrayList<>();
                for (var d : diffs.entrySet()) {
                    RowKey k = d.getKey();
                    if (blocked || Objects.equals(before.get(k), after.get(k))) {
                        confirmed.put(k, d.getValue());
                    } else if (!caughtUp) {
                        confirmed.put(k, d.getValue() + " (the pipeline did not catch up within " + settling.fenceTimeout().toSeconds() + " s to re-check it)");
                    } else {
                        again.add(k);
                    }
                }
                pending = again;
                before = after;
            }
            for (RowKey k : pending) {
                confirmed.put(k, "changing (its target row changed in each of " + rounds + " re-checks; verify again)");
            }
            s.dropStages(tgt);
        }
        return confirmed;
    }

    private static Map<RowKey, Long> versions(RowComparison cmp, Connection tgt, List<RowKey> keys) throws SQLException {
        Map<RowKey, Long> out = new java.util.HashMap<>();
        for (int from = 0; from < keys.size(); from += SLICE) {
            out.putAll(cmp.versions(tgt, keys.subList(from, Math.min(keys.size(), from + SLICE))));
        }
        return out;
    }

    /** What one chunk found. */
    private record ChunkResult(long read, long expected, long rejected, boolean differs, Map<RowKey, String> differences) {
    }

    /** Rows and chunks checked so far, across workers: progress lines and the throttle. */
    private final class Progress {
        private final String table;
        private final long startedNanos;
        private long rows;
        private long chunks;
        private long differing;

        Progress(String table, long startedNanos) {
            this.table = table;
            this.startedNanos = startedNanos;
        }

        void add(ChunkResult r) {
            long total;
            synchronized (this) {
                rows += r.read();
                chunks++;
                differing += r.differs() ? 1 : 0;
                total = rows;
                if (chunks % 20 == 0) {
                    progress.accept("verify " + table + ": " + rows + " rows, " + chunks + " chunks, " + differing + " differing");
                }
            }
            throttle(startedNanos, total);
        }
    }

    /** Every {@code chunkSize}-th source key in key order, read from the key columns only (an index-only scan). */
    private List<String[]> chunkBounds(Connection src, TableShape shape) throws SQLException {
        String sql = "SELECT " + shape.pkList + " FROM (SELECT " + shape.pkList + ", row_number() OVER (ORDER BY " + shape.pkList
                + ") AS pgbackfill_rn FROM " + shape.schema.name().quoted() + ") s WHERE pgbackfill_rn % " + chunkSize + " = 0 ORDER BY pgbackfill_rn";
        List<String[]> bounds = new ArrayList<>();
        try (Statement st = src.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                String[] k = new String[shape.pk.size()];
                for (int i = 0; i < k.length; i++) {
                    k[i] = rs.getString(i + 1);
                }
                bounds.add(k);
            }
        }
        return bounds;
    }

    /** Source keys in (lo, hi] (null: unbounded) through the transform, into the stage, compared with the target. */
    private ChunkResult checkChunk(Connection src, Connection tgt, RowComparison cmp, String[] lo, String[] hi) throws SQLException {
        TableShape s = cmp.shape();
        List<String> where = new ArrayList<>();
        if (lo != null) {
            where.add(s.keyBound(">"));
        }
        if (hi != null) {
            where.add(s.keyBound("<="));
        }
        TableShape.ExpectedRows rows;
        try (PreparedStatement ps = src.prepareStatement(s.select + (where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where)))) {
            int p = 1;
            for (String[] bound : new String[][] {lo, hi}) {
                if (bound != null) {
                    for (String v : bound) {
                        ps.setString(p++, v);
                    }
                }
            }
            ps.setFetchSize(chunkSize);
            rows = cmp.expected(ps);
        }
        src.commit();
        s.load(tgt, rows);
        String range = s.identityKey ? s.targetRange(lo, hi) : null;
        boolean differs = !cmp.sameRows(tgt, range);
        Map<RowKey, String> differences = differs ? cmp.differences(tgt, range) : Map.of();
        s.clearStages(tgt);
        return new ChunkResult(rows.read(), rows.expected().size(), rows.rejected().size(), differs, differences);
    }

    private void throttle(long startedNanos, long rows) {
        if (rowsPerSecond <= 0) {
            return;
        }
        long dueNanos = startedNanos + rows * 1_000_000_000L / rowsPerSecond;
        long wait = dueNanos - System.nanoTime();
        if (wait > 0) {
            try {
                Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
