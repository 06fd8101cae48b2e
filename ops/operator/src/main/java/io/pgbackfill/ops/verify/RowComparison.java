package io.pgbackfill.ops.verify;

import io.pgbackfill.core.event.CanonicalValues;
import io.pgbackfill.core.transform.RowRejected;
import io.pgbackfill.core.transform.TableTransform;
import io.pgbackfill.sink.TargetTable;
import io.pgbackfill.core.sql.SqlIdentifier;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The comparisons verify is made of, for one table: source rows through the transform, one checksum per key range,
 * the differing keys of a range or a key set, and the row versions ({@code _pgbackfill_lsn}) the target holds.
 */
final class RowComparison {
    /** The version of a target row that has no LSN (written behind the pipeline's back). */
    static final long NO_LSN = Long.MIN_VALUE;

    private final TableShape s;

    RowComparison(TableShape s) {
        this.s = s;
    }

    TableShape shape() {
        return s;
    }

    /** Reads source rows from {@code ps} and runs them through the transformer's own {@link TableTransform}. */
    TableShape.ExpectedRows expected(PreparedStatement ps) throws SQLException {
        List<Map<String, String>> rows = new ArrayList<>();
        List<RowKey> rejected = new ArrayList<>();
        long read = 0;
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
                    String[] k = new String[s.pk.size()];
                    for (int i = 0; i < k.length; i++) {
                        k[i] = rs.getString(s.pkIndex[i] + 1);
                    }
                    rejected.add(new RowKey(k));
                }
            }
        }
        return new TableShape.ExpectedRows(rows, rejected, read);
    }

    /** Source rows of some keys, read on {@code src} (in whatever transaction the caller holds). */
    TableShape.ExpectedRows expectedOf(Connection src, List<RowKey> keys) throws SQLException {
        try (PreparedStatement ps = src.prepareStatement(s.select + " WHERE " + s.sourceKeyIn(keys))) {
            return expected(ps);
        }
    }

    /** The target's rows selected by {@code where}, minus the DLQ's keys (identity keys only). */
    private String targetRows(String where) {
        return "SELECT " + s.colList + " FROM " + s.t.target().quoted() + " WHERE (" + where + ")" + (s.identityKey ? " AND " + s.notRejected() : "");
    }

    /**
     * Does the stage hold exactly the target's rows of {@code range}? An order-independent checksum (count + sum of
     * 64-bit row hashes): no sort on either side. sum(bigint) cannot overflow (its result is numeric). Without an
     * identity key ({@code range} null) each staged row must be in the target; counts are compared by the caller.
     */
    boolean sameRows(Connection tgt, String range) throws SQLException {
        String sql;
        if (range == null) {
            sql = "SELECT count(*) = 0 FROM (SELECT " + s.colList + " FROM " + s.stage + " EXCEPT SELECT " + s.colList + " FROM " + s.t.target().quoted() + ") d";
        } else {
            sql = "SELECT (SELECT count(*) || ':' || coalesce(sum(hashtextextended(x::text, 0)), 0) FROM (SELECT " + s.colList + " FROM " + s.stage + ") x) = "
                    + "(SELECT count(*) || ':' || coalesce(sum(hashtextextended(y::text, 0)), 0) FROM (" + targetRows(range) + ") y)";
        }
        try (Statement st = tgt.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /**
     * The keys where the stage's and the target's rows of {@code range} differ: missing, different or extra. A null
     * range (computed target key) lists the staged rows the target lacks.
     */
    Map<RowKey, String> differences(Connection tgt, String range) throws SQLException {
        String target = range == null ? "SELECT " + s.colList + " FROM " + s.t.target().quoted() : targetRows(range);
        String staged = "SELECT " + s.colList + " FROM " + s.stage + (range == null ? "" : " WHERE " + range);
        String sql = "SELECT 'expected' AS side, " + keyText() + " FROM (" + staged + " EXCEPT " + target + ") a"
                + (range != null ? " UNION ALL SELECT 'target', " + keyText() + " FROM (" + target + " EXCEPT " + staged + ") b" : "");
        Map<RowKey, Set<String>> sides = new LinkedHashMap<>();
        try (Statement st = tgt.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                String[] k = new String[s.tgtKey.size()];
                for (int i = 0; i < k.length; i++) {
                    k[i] = rs.getString(i + 2);
                }
                sides.computeIfAbsent(new RowKey(k), x -> new HashSet<>()).add(rs.getString(1));
            }
        }
        Map<RowKey, String> out = new LinkedHashMap<>();
        sides.forEach((k, v) -> out.put(k, v.size() == 2 ? "different" : v.contains("expected") ? "missing" : "extra"));
        return out;
    }

    private String keyText() {
        return String.join(", ", s.tgtKey.stream().map(k -> SqlIdentifier.of(k).quoted() + "::text").toList());
    }

    /** The version ({@code _pgbackfill_lsn}) of each of {@code keys} the target holds; an absent key has none. */
    Map<RowKey, Long> versions(Connection tgt, List<RowKey> keys) throws SQLException {
        Map<RowKey, Long> out = new HashMap<>();
        if (keys.isEmpty()) {
            return out;
        }
        String sql = "SELECT " + keyText() + ", " + SqlIdentifier.of(TargetTable.LSN_COLUMN).quoted() + " FROM " + s.t.target().quoted()
                + " WHERE " + s.targetKeyIn(keys);
        try (Statement st = tgt.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                String[] k = new String[s.tgtKey.size()];
                for (int i = 0; i < k.length; i++) {
                    k[i] = rs.getString(i + 1);
                }
                long lsn = rs.getLong(k.length + 1);
                out.put(new RowKey(k), rs.wasNull() ? NO_LSN : lsn);
            }
        }
        return out;
    }

    /** Keys of the target rows the sink wrote after {@code sinceLsn} (an index range scan once {@link LsnIndex} exists). */
    List<RowKey> changedSince(Connection tgt, long sinceLsn) throws SQLException {
        List<RowKey> keys = new ArrayList<>();
        try (PreparedStatement ps = tgt.prepareStatement("SELECT " + keyText() + " FROM " + s.t.target().quoted() + " WHERE "
                + SqlIdentifier.of(TargetTable.LSN_COLUMN).quoted() + " > ?")) {
            ps.setLong(1, sinceLsn);
            ps.setFetchSize(10_000);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String[] k = new String[s.tgtKey.size()];
                    for (int i = 0; i < k.length; i++) {
                        k[i] = rs.getString(i + 1);
                    }
                    keys.add(new RowKey(k));
                }
            }
        }
        return keys;
    }
}
