package io.pgbackfill.ops.verify;

import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.event.CanonicalValues;
import io.pgbackfill.core.sql.SqlIdentifier;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.core.transform.RowRejected;
import io.pgbackfill.core.transform.TableTransform;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Source vs target, in chunks, never a table in memory. For each chunk of source keys: read the rows,
 * run them through the same {@link TableTransform} the transformer runs, COPY the expected rows into a
 * temporary table on the target (so PostgreSQL parses them exactly as the sink's writes were parsed),
 * compare one checksum per chunk with the target's rows in the same key range, and only for a chunk that
 * differs, list the keys (missing, different, extra). Chunks are key ranges fixed up front and checked by
 * {@link #DEFAULT_PARALLELISM} workers at once.
 */
public final class Verifier {
    public record Mismatch(String table, String key, String kind) {
        @Override
        public String toString() {
            return kind + " " + table + " " + key;
        }
    }

    public record Report(String table, long sourceRows, long expectedRows, long rejectedRows, long chunks, long chunksDiffering, List<Mismatch> mismatches) {
        public boolean clean() {
            return mismatches.isEmpty();
        }
    }

    /**
     * Two workers: per chunk the work alternates between this JVM and PostgreSQL, so one worker keeps about one
     * core busy. 1M rows on 2 cores (shared, load ~10): 15-16 s with one worker, 6-10 s with two.
     */
    public static final int DEFAULT_PARALLELISM = 2;

    private final MigrationPlan plan;
    private final int chunkSize;
    private final long rowsPerSecond;
    private final int maxMismatchesListed;
    private final Consumer<String> progress;
    private final int parallelism;

    /** A verifier with {@link #DEFAULT_PARALLELISM} workers. */
    public Verifier(MigrationPlan plan, int chunkSize, long rowsPerSecond, Consumer<String> progress) {
        this(plan, chunkSize, rowsPerSecond, progress, DEFAULT_PARALLELISM);
    }

    /**
     * @param parallelism chunks checked at the same time, each worker with one source and one target connection;
     *                    {@code rowsPerSecond} bounds them together
     */
    public Verifier(MigrationPlan plan, int chunkSize, long rowsPerSecond, Consumer<String> progress, int parallelism) {
        this.plan = plan;
        this.chunkSize = chunkSize;
        this.rowsPerSecond = rowsPerSecond;
        this.maxMismatchesListed = 1000;
        this.progress = progress;
        this.parallelism = Math.max(1, parallelism);
    }

    public List<Report> verify() throws SQLException {
        List<Report> out = new ArrayList<>();
        for (TableTransform t : plan.tables()) {
            out.add(verifyTable(t));
        }
        return out;
    }

    /**
     * One table, in chunks of about {@code chunkSize} source keys. The chunk bounds come first from one key-only
     * scan, so that {@link #parallelism} workers (each with its own source and target connection) can check chunks
     * at the same time: per chunk the work alternates between this JVM (transform) and PostgreSQL (read, COPY,
     * hash), so a single worker leaves a core idle. Rows inserted after the bounds were read still fall in a chunk:
     * chunks are key ranges, the first and last open-ended.
     */
    private Report verifyTable(TableTransform t) throws SQLException {
        TableSchema schema = plan.sourceSchema(t.source()).orElseThrow(() -> new IllegalStateException("no catalog for " + t.source()));
        ChunkShape shape = new ChunkShape(t, schema, identityKey(t, schema));
        List<String[]> bounds;
        try (Connection src = plan.spec().source().open()) {
            bounds = chunkBounds(src, shape);
        }
        int chunkCount = bounds.size() + 1;
        ChunkResult[] results = new ChunkResult[chunkCount];
        AtomicInteger next = new AtomicInteger();
        AtomicInteger listed = new AtomicInteger();
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
                        shape.createStage(tgt);
                        for (int i = next.getAndIncrement(); i < chunkCount; i = next.getAndIncrement()) {
                            String[] lo = i == 0 ? null : bounds.get(i - 1);
                            String[] hi = i == bounds.size() ? null : bounds.get(i);
                            results[i] = checkChunk(src, tgt, shape, lo, hi, listed);
                            tally.add(results[i]);
                        }
                        shape.dropStage(tgt);
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
        List<Mismatch> mismatches = new ArrayList<>();
        long sourceRows = 0;
        long expected = 0;
        long rejected = 0;
        long differing = 0;
        for (ChunkResult r : results) {
            sourceRows += r.read();
            expected += r.expected();
            rejected += r.rejected();
            differing += r.differs() ? 1 : 0;
            mismatches.addAll(r.mismatches());
        }
        if (!shape.identityKey()) {
            long targetRows;
            try (Connection tgt = plan.spec().targetOrSource().open(); Statement st = tgt.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM " + t.target().quoted())) {
                rs.next();
                targetRows = rs.getLong(1);
            }
            if (targetRows != expected) {
                mismatches.add(new Mismatch(t.target().id(), "(all)", "count " + targetRows + " in target vs " + expected + " expected"));
            }
        }
        return new Report(t.target().id(), sourceRows, expected, rejected, chunkCount, differing, mismatches);
    }

    /** What a chunk check needs of a table, worked out once: column lists, key, SQL fragments. */
    private static final class ChunkShape {
        final TableTransform t;
        final List<Column> srcCols;
        final List<Column> pk;
        final List<Column> tgtCols;
        final List<String> tgtKey;
        final boolean identityKey;
        final String stage;
        final String colList;
        final String keyList;
        final String pkList;
        final String select;

        ChunkShape(TableTransform t, TableSchema schema, boolean identityKey) {
            this.t = t;
            this.srcCols = new ArrayList<>(schema.columns().values());
            this.pk = schema.primaryKey().stream().map(k -> schema.columns().get(k)).toList();
            this.tgtCols = t.targetColumns();
            this.tgtKey = t.keyColumnNames();
            this.identityKey = identityKey;
            // Temporary tables are per session: every worker's target connection has its own stage of this name.
            this.stage = SqlIdentifier.of("pgbackfill_verify_" + Integer.toHexString(t.target().id().hashCode())).quoted();
            this.colList = tgtCols.stream().map(c -> SqlIdentifier.of(c.name()).quoted()).collect(Collectors.joining(", "));
            this.keyList = tgtKey.stream().map(k -> SqlIdentifier.of(k).quoted()).collect(Collectors.joining(", "));
            this.pkList = pk.stream().map(c -> SqlIdentifier.of(c.name()).quoted()).collect(Collectors.joining(", "));
            this.select = "SELECT " + srcCols.stream().map(c -> SqlIdentifier.of(c.name()).quoted()).collect(Collectors.joining(", "))
                    + " FROM " + schema.name().quoted();
        }

        boolean identityKey() {
            return identityKey;
        }

        /** {@code (pk) > (?, …)} or {@code (pk) <= (?, …)}, the values bound as text and cast to the key types. */
        String keyBound(String op) {
            return "(" + pkList + ") " + op + " (" + pk.stream().map(c -> "?::" + c.type().baseSql()).collect(Collectors.joining(", ")) + ")";
        }

        void createStage(Connection tgt) throws SQLException {
            try (Statement st = tgt.createStatement()) {
                st.execute("DROP TABLE IF EXISTS " + stage);
                st.execute("CREATE TEMP TABLE " + stage + " AS SELECT " + colList + " FROM " + t.target().quoted() + " WITH NO DATA");
            }
        }

        void dropStage(Connection tgt) throws SQLException {
            try (Statement st = tgt.createStatement()) {
                st.execute("DROP TABLE IF EXISTS " + stage);
            }
        }
    }

    /** What one chunk found. */
    private record ChunkResult(long read, long expected, long rejected, boolean differs, List<Mismatch> mismatches) {
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
    private List<String[]> chunkBounds(Connection src, ChunkShape shape) throws SQLException {
        String sql = "SELECT " + shape.pkList + " FROM (SELECT " + shape.pkList + ", row_number() OVER (ORDER BY " + shape.pkList
                + ") AS pgbackfill_rn FROM " + plan.sourceSchema(shape.t.source()).orElseThrow().name().quoted() + ") s WHERE pgbackfill_rn % "
                + chunkSize + " = 0 ORDER BY pgbackfill_rn";
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
    private ChunkResult checkChunk(Connection src, Connection tgt, ChunkShape s, String[] lo, String[] hi, AtomicInteger listed) throws SQLException {
        List<String> where = new ArrayList<>();
        if (lo != null) {
            where.add(s.keyBound(">"));
        }
        if (hi != null) {
            where.add(s.keyBound("<="));
        }
        String sql = s.select + (where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where));
        List<Map<String, String>> rows = new ArrayList<>();
        long read = 0;
        long rejected = 0;
        try (PreparedStatement ps = src.prepareStatement(sql)) {
            int p = 1;
            for (String[] bound : new String[][] {lo, hi}) {
                if (bound != null) {
                    for (String v : bound) {
                        ps.setString(p++, v);
                    }
                }
            }
            ps.setFetchSize(chunkSize);
            try (ResultSet rs = ps.executeQuery()) {
                Map<String, Object> row = new HashMap<>();
                while (rs.next()) {
                    read++;
                    for (int i = 0; i < s.srcCols.size(); i++) {
                        row.put(s.srcCols.get(i).name(), CanonicalValues.fromJdbc(rs, i + 1, s.srcCols.get(i).type()));
                    }
                    try {
                        TableTransform.Mapped m = s.t.map(row, Set.of());
                        if (m.included()) {
                            rows.add(m.values());
                        }
                    } catch (RowRejected e) {
                        rejected++;
                    }
                }
            }
        }
        src.commit();
        copyExpected(tgt, s.stage, s.tgtCols, rows);
        String range = s.identityKey ? range(s.tgtKey, s.pk, lo, hi) : null;
        boolean differs = !sameHash(tgt, s.t, s.stage, s.colList, s.keyList, range);
        List<Mismatch> mismatches = List.of();
        if (differs && listed.get() < maxMismatchesListed) {
            mismatches = drill(tgt, s.t, s.stage, s.colList, s.tgtKey, range, s.identityKey, lo, hi);
            listed.addAndGet(mismatches.size());
        }
        try (Statement st = tgt.createStatement()) {
            st.execute("TRUNCATE " + s.stage);
        }
        return new ChunkResult(read, rows.size(), rejected, differs, mismatches);
    }

    /**
     * Re-checks only what changed since a verify: target rows the sink wrote after {@code sinceLsn}
     * (their LSN column says so), against their source rows, plus row counts (deletions). Cutover runs this
     * while writes are blocked, so it must be short: it reads only changed keys. Tables whose key is not
     * the source key, or that have a filter, get a full verify instead.
     */
    public List<Report> verifyChangedSince(long sinceLsn) throws SQLException {
        List<Report> out = new ArrayList<>();
        try (Connection src = plan.spec().source().open(); Connection tgt = plan.spec().targetOrSource().open()) {
            for (TableTransform t : plan.tables()) {
                TableSchema schema = plan.sourceSchema(t.source()).orElseThrow();
                boolean filtered = plan.spec().tables().stream().anyMatch(ts -> ts.targetName().equals(t.target()) && ts.filter() != null);
                if (!identityKey(t, schema) || filtered) {
                    out.add(verifyTable(t));
                    continue;
                }
                out.add(changedRows(src, tgt, t, schema, sinceLsn));
            }
        }
        return out;
    }

    private Report changedRows(Connection src, Connection tgt, TableTransform t, TableSchema schema, long sinceLsn) throws SQLException {
        List<Column> srcCols = new ArrayList<>(schema.columns().values());
        List<Column> pk = schema.primaryKey().stream().map(k -> schema.columns().get(k)).toList();
        List<Column> tgtCols = t.targetColumns();
        String stage = SqlIdentifier.of("pgbackfill_recheck_" + Integer.toHexString(t.target().id().hashCode())).quoted();
        String colList = tgtCols.stream().map(c -> SqlIdentifier.of(c.name()).quoted()).collect(Collectors.joining(", "));
        String keyCols = pk.stream().map(c -> SqlIdentifier.of(c.name()).quoted()).collect(Collectors.joining(", "));
        List<String[]> changed = new ArrayList<>();
        try (PreparedStatement ps = tgt.prepareStatement("SELECT " + pk.stream().map(c -> SqlIdentifier.of(c.name()).quoted() + "::text").collect(Collectors.joining(", "))
                + " FROM " + t.target().quoted() + " WHERE " + SqlIdentifier.of("_pgbackfill_lsn").quoted() + " > ?")) {
            ps.setLong(1, sinceLsn);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String[] k = new String[pk.size()];
                    for (int i = 0; i < k.length; i++) {
                        k[i] = rs.getString(i + 1);
                    }
                    changed.add(k);
                }
            }
        }
        try (Statement st = tgt.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + stage);
            st.execute("CREATE TEMP TABLE " + stage + " AS SELECT " + colList + " FROM " + t.target().quoted() + " WITH NO DATA");
        }
        List<Mismatch> mismatches = new ArrayList<>();
        String select = "SELECT " + srcCols.stream().map(c -> SqlIdentifier.of(c.name()).quoted()).collect(Collectors.joining(", ")) + " FROM " + schema.name().quoted();
        for (int from = 0; from < changed.size(); from += 500) {
            List<String[]> keys = changed.subList(from, Math.min(changed.size(), from + 500));
            String in = keys.stream().map(k -> "(" + literalRow(k, pk) + ")").collect(Collectors.joining(", "));
            List<Map<String, String>> rows = new ArrayList<>();
            try (Statement st = src.createStatement(); ResultSet rs = st.executeQuery(select + " WHERE (" + keyCols + ") IN (" + in + ")")) {
                while (rs.next()) {
                    Map<String, Object> row = new HashMap<>();
                    for (int i = 0; i < srcCols.size(); i++) {
                        row.put(srcCols.get(i).name(), CanonicalValues.fromJdbc(rs, i + 1, srcCols.get(i).type()));
                    }
                    try {
                        TableTransform.Mapped m = t.map(row, Set.of());
                        if (m.included()) {
                            rows.add(m.values());
                        }
                    } catch (RowRejected e) {
                        // would be in the DLQ, not the target
                    }
                }
            }
            copyExpected(tgt, stage, tgtCols, rows);
            String range = "(" + keyCols + ") IN (" + in + ")";
            mismatches.addAll(drill(tgt, t, stage, colList, t.keyColumnNames(), range, true, null, null));
            try (Statement st = tgt.createStatement()) {
                st.execute("TRUNCATE " + stage);
            }
        }
        long sourceCount;
        long targetCount;
        try (Statement st = src.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + schema.name().quoted())) {
            rs.next();
            sourceCount = rs.getLong(1);
        }
        try (Statement st = tgt.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + t.target().quoted())) {
            rs.next();
            targetCount = rs.getLong(1);
        }
        if (sourceCount != targetCount) {
            mismatches.add(new Mismatch(t.target().id(), "(all)", "count " + targetCount + " in target vs " + sourceCount + " in source"));
        }
        try (Statement st = tgt.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + stage);
        }
        return new Report(t.target().id(), changed.size(), changed.size(), 0, 1, mismatches.isEmpty() ? 0 : 1, mismatches);
    }

    /** True when the target key columns are the source primary key columns, unchanged: chunks then map to key ranges. */
    private static boolean identityKey(TableTransform t, TableSchema schema) {
        List<String> names = t.keyColumnNames();
        if (!names.equals(schema.primaryKey())) {
            return false;
        }
        for (TableTransform.TargetColumn c : t.columns()) {
            if (c.key() && !c.expression().trim().equals(c.name())) {
                return false;
            }
        }
        return true;
    }

    private static String range(List<String> tgtKey, List<Column> pk, String[] lo, String[] hi) {
        String cols = "(" + tgtKey.stream().map(k -> SqlIdentifier.of(k).quoted()).collect(Collectors.joining(", ")) + ")";
        List<String> cond = new ArrayList<>();
        if (lo != null) {
            cond.add(cols + " > (" + literalRow(lo, pk) + ")");
        }
        if (hi != null) {
            cond.add(cols + " <= (" + literalRow(hi, pk) + ")");
        }
        return cond.isEmpty() ? "true" : String.join(" AND ", cond);
    }

    private static String literalRow(String[] key, List<Column> pk) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < key.length; i++) {
            parts.add("'" + key[i].replace("'", "''") + "'::" + pk.get(i).type().baseSql());
        }
        return String.join(", ", parts);
    }

    private static void copyExpected(Connection tgt, String stage, List<Column> cols, List<Map<String, String>> rows) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder(rows.size() * 64);
        for (Map<String, String> r : rows) {
            for (int i = 0; i < cols.size(); i++) {
                if (i > 0) {
                    sb.append('\t');
                }
                io.pgbackfill.sink.CopyText.append(sb, r.get(cols.get(i).name()));
            }
            sb.append('\n');
        }
        io.pgbackfill.sink.CopyText.copyIn(tgt, "COPY " + stage + " FROM STDIN (FORMAT text)", sb);
    }

    private static boolean sameHash(Connection tgt, TableTransform t, String stage, String colList, String keyList, String range) throws SQLException {
        String targetRows = "SELECT " + colList + " FROM " + t.target().quoted() + (range == null ? " WHERE false" : " WHERE " + range);
        // An order-independent chunk checksum (count + sum of 64-bit row hashes): no sort on either side. sum(bigint)
        // cannot overflow (its result is numeric) and accumulates in 128-bit integers, cheaper than summing numerics.
        String sql = "SELECT (SELECT count(*) || ':' || coalesce(sum(hashtextextended(x::text, 0)), 0) FROM (SELECT " + colList + " FROM " + stage + ") x), "
                + "(SELECT count(*) || ':' || coalesce(sum(hashtextextended(y::text, 0)), 0) FROM (" + targetRows + ") y)";
        if (range == null) {
            // Non-identity keys: the chunk's rows must each be in the target (counts are compared at the end).
            try (Statement st = tgt.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM (SELECT " + colList + " FROM " + stage
                    + " EXCEPT SELECT " + colList + " FROM " + t.target().quoted() + ") d")) {
                rs.next();
                return rs.getLong(1) == 0;
            }
        }
        try (Statement st = tgt.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1).equals(rs.getString(2));
        }
    }

    private static List<Mismatch> drill(Connection tgt, TableTransform t, String stage, String colList, List<String> tgtKey, String range,
                                        boolean identityKey, String[] lo, String[] hi) throws SQLException {
        String keyCols = tgtKey.stream().map(k -> SqlIdentifier.of(k).quoted()).collect(Collectors.joining(", "));
        String targetRows = "SELECT " + colList + " FROM " + t.target().quoted() + (range == null ? "" : " WHERE " + range);
        String sql = "SELECT 'expected' AS side, " + keyCols + " FROM (SELECT " + colList + " FROM " + stage + " EXCEPT " + targetRows + ") a"
                + (identityKey ? " UNION ALL SELECT 'target', " + keyCols + " FROM (" + targetRows + " EXCEPT SELECT " + colList + " FROM " + stage + ") b" : "");
        Map<String, Set<String>> sides = new LinkedHashMap<>();
        try (Statement st = tgt.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                List<String> k = new ArrayList<>();
                for (int i = 0; i < tgtKey.size(); i++) {
                    k.add(tgtKey.get(i) + "=" + rs.getString(i + 2));
                }
                sides.computeIfAbsent(String.join(",", k), x -> new java.util.HashSet<>()).add(rs.getString(1));
            }
        }
        List<Mismatch> out = new ArrayList<>();
        for (var e : sides.entrySet()) {
            String kind = e.getValue().size() == 2 ? "different" : e.getValue().contains("expected") ? "missing" : "extra";
            out.add(new Mismatch(t.target().id(), e.getKey(), kind));
        }
        return out;
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
