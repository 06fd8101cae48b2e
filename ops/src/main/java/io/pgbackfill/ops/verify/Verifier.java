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
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Source vs target, in chunks, never a table in memory. For each chunk of source keys: read the rows,
 * run them through the same {@link TableTransform} the transformer runs, COPY the expected rows into a
 * temporary table on the target (so PostgreSQL parses them exactly as the sink's writes were parsed),
 * compare one checksum per chunk with the target's rows in the same key range, and only for a chunk that
 * differs, list the keys (missing, different, extra).
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

    private final MigrationPlan plan;
    private final int chunkSize;
    private final long rowsPerSecond;
    private final int maxMismatchesListed;
    private final Consumer<String> progress;

    public Verifier(MigrationPlan plan, int chunkSize, long rowsPerSecond, Consumer<String> progress) {
        this.plan = plan;
        this.chunkSize = chunkSize;
        this.rowsPerSecond = rowsPerSecond;
        this.maxMismatchesListed = 1000;
        this.progress = progress;
    }

    public List<Report> verify() throws SQLException {
        List<Report> out = new ArrayList<>();
        try (Connection src = plan.spec().source().open(); Connection tgt = plan.spec().targetOrSource().open()) {
            src.setAutoCommit(false);
            for (TableTransform t : plan.tables()) {
                out.add(verifyTable(src, tgt, t));
            }
        }
        return out;
    }

    private Report verifyTable(Connection src, Connection tgt, TableTransform t) throws SQLException {
        TableSchema schema = plan.sourceSchema(t.source()).orElseThrow(() -> new IllegalStateException("no catalog for " + t.source()));
        List<Column> srcCols = new ArrayList<>(schema.columns().values());
        List<Column> pk = schema.primaryKey().stream().map(k -> schema.columns().get(k)).toList();
        List<Column> tgtCols = t.targetColumns();
        List<String> tgtKey = t.keyColumnNames();
        boolean identityKey = identityKey(t, schema);
        String stage = SqlIdentifier.of("pgbackfill_verify_" + Integer.toHexString(t.target().id().hashCode())).quoted();
        String colList = tgtCols.stream().map(c -> SqlIdentifier.of(c.name()).quoted()).collect(Collectors.joining(", "));
        String keyList = tgtKey.stream().map(k -> SqlIdentifier.of(k).quoted()).collect(Collectors.joining(", "));
        try (Statement st = tgt.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + stage);
            st.execute("CREATE TEMP TABLE " + stage + " AS SELECT " + colList + " FROM " + t.target().quoted() + " WITH NO DATA");
        }
        String select = "SELECT " + srcCols.stream().map(c -> SqlIdentifier.of(c.name()).quoted()).collect(Collectors.joining(", "))
                + " FROM " + schema.name().quoted();
        String order = " ORDER BY " + pk.stream().map(c -> SqlIdentifier.of(c.name()).quoted()).collect(Collectors.joining(", "));
        String after = " WHERE (" + pk.stream().map(c -> SqlIdentifier.of(c.name()).quoted()).collect(Collectors.joining(", ")) + ") > ("
                + pk.stream().map(c -> "?::" + c.type().baseSql()).collect(Collectors.joining(", ")) + ")";
        List<Mismatch> mismatches = new ArrayList<>();
        long sourceRows = 0;
        long expected = 0;
        long rejected = 0;
        long chunks = 0;
        long differing = 0;
        String[] lastKey = null;
        long started = System.nanoTime();
        while (true) {
            String[] lo = lastKey;
            List<Map<String, String>> rows = new ArrayList<>();
            int read = 0;
            try (PreparedStatement ps = src.prepareStatement(select + (lastKey == null ? "" : after) + order + " LIMIT " + chunkSize)) {
                if (lastKey != null) {
                    for (int i = 0; i < lastKey.length; i++) {
                        ps.setString(i + 1, lastKey[i]);
                    }
                }
                ps.setFetchSize(chunkSize);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        read++;
                        Map<String, Object> row = new HashMap<>();
                        for (int i = 0; i < srcCols.size(); i++) {
                            row.put(srcCols.get(i).name(), CanonicalValues.fromJdbc(rs, i + 1, srcCols.get(i).type()));
                        }
                        String[] k = new String[pk.size()];
                        for (int i = 0; i < pk.size(); i++) {
                            k[i] = rs.getString(pk.get(i).name());
                        }
                        lastKey = k;
                        try {
                            TableTransform.Mapped m = t.map(row, Set.of());
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
            boolean last = read < chunkSize;
            sourceRows += read;
            expected += rows.size();
            chunks++;
            copyExpected(tgt, stage, tgtCols, rows);
            String range = identityKey ? range(tgtKey, pk, lo, last ? null : lastKey) : null;
            if (!sameHash(tgt, t, stage, colList, keyList, range)) {
                differing++;
                if (mismatches.size() < maxMismatchesListed) {
                    mismatches.addAll(drill(tgt, t, stage, colList, tgtKey, range, identityKey, lo, last ? null : lastKey));
                }
            }
            try (Statement st = tgt.createStatement()) {
                st.execute("TRUNCATE " + stage);
            }
            throttle(started, sourceRows);
            if (chunks % 20 == 0) {
                progress.accept("verify " + t.target() + ": " + sourceRows + " rows, " + chunks + " chunks, " + differing + " differing");
            }
            if (last) {
                break;
            }
        }
        if (!identityKey) {
            long targetRows;
            try (Statement st = tgt.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + t.target().quoted())) {
                rs.next();
                targetRows = rs.getLong(1);
            }
            if (targetRows != expected) {
                mismatches.add(new Mismatch(t.target().id(), "(all)", "count " + targetRows + " in target vs " + expected + " expected"));
            }
        }
        try (Statement st = tgt.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + stage);
        }
        return new Report(t.target().id(), sourceRows, expected, rejected, chunks, differing, mismatches);
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
                    out.add(verifyTable(src, tgt, t));
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
        // An order-independent chunk checksum (count + sum of 64-bit row hashes): no sort on either side.
        String sql = "SELECT (SELECT count(*) || ':' || coalesce(sum(hashtextextended(x::text, 0)::numeric), 0) FROM (SELECT " + colList + " FROM " + stage + ") x), "
                + "(SELECT count(*) || ':' || coalesce(sum(hashtextextended(y::text, 0)::numeric), 0) FROM (" + targetRows + ") y)";
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
