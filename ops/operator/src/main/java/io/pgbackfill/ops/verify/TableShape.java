package io.pgbackfill.ops.verify;

import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.sql.SqlIdentifier;
import io.pgbackfill.core.transform.TableTransform;
import io.pgbackfill.sink.CopyText;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What verify needs of one table, worked out once: column lists, the keys on both sides, SQL fragments, and the two
 * temporary tables on the target connection (the expected rows of a chunk, and the keys the transform rejects, which
 * belong to the DLQ and are compared with nothing).
 */
final class TableShape {
    final TableTransform t;
    final TableSchema schema;
    final List<Column> srcCols;
    /** Source primary key columns, and their positions in {@link #srcCols}. */
    final List<Column> pk;
    final int[] pkIndex;
    final List<Column> tgtCols;
    final List<String> tgtKey;
    final List<Column> tgtKeyCols;
    /** The target key is the source primary key, copied: a source key range is a target key range. */
    final boolean identityKey;
    final String stage;
    final String rejected;
    final String colList;
    final String keyList;
    final String pkList;
    final String select;

    TableShape(TableTransform t, TableSchema schema) {
        this.t = t;
        this.schema = schema;
        this.srcCols = new ArrayList<>(schema.columns().values());
        this.pk = schema.primaryKey().stream().map(k -> schema.columns().get(k)).toList();
        this.pkIndex = pk.stream().mapToInt(srcCols::indexOf).toArray();
        this.tgtCols = t.targetColumns();
        this.tgtKey = t.keyColumnNames();
        this.tgtKeyCols = tgtKey.stream().map(k -> t.targetCatalog().get(k)).toList();
        this.identityKey = identityKey(t, schema);
        // Temporary tables are per session: every worker's target connection has its own of these names.
        String tag = Integer.toHexString(t.target().id().hashCode());
        this.stage = SqlIdentifier.of("pgbackfill_verify_" + tag).quoted();
        this.rejected = SqlIdentifier.of("pgbackfill_verify_dlq_" + tag).quoted();
        this.colList = quotedList(tgtCols.stream().map(Column::name).toList());
        this.keyList = quotedList(tgtKey);
        this.pkList = quotedList(pk.stream().map(Column::name).toList());
        this.select = "SELECT " + quotedList(srcCols.stream().map(Column::name).toList()) + " FROM " + schema.name().quoted();
    }

    /** True when the target key columns are the source primary key columns, unchanged: chunks then map to key ranges. */
    static boolean identityKey(TableTransform t, TableSchema schema) {
        if (!t.keyColumnNames().equals(schema.primaryKey())) {
            return false;
        }
        for (TableTransform.TargetColumn c : t.columns()) {
            if (c.key() && !c.expression().trim().equals(c.name())) {
                return false;
            }
        }
        return true;
    }

    private static String quotedList(List<String> names) {
        return names.stream().map(n -> SqlIdentifier.of(n).quoted()).collect(Collectors.joining(", "));
    }

    /** {@code (pk) > (?, …)} or {@code (pk) <= (?, …)}, the values bound as text and cast to the key types. */
    String keyBound(String op) {
        return "(" + pkList + ") " + op + " (" + pk.stream().map(c -> "?::" + c.type().baseSql()).collect(Collectors.joining(", ")) + ")";
    }

    /** The target's rows of a source key range (identity keys only); null bounds are open. */
    String targetRange(String[] lo, String[] hi) {
        List<String> cond = new ArrayList<>();
        if (lo != null) {
            cond.add("(" + keyList + ") > (" + literalRow(lo, tgtKeyCols) + ")");
        }
        if (hi != null) {
            cond.add("(" + keyList + ") <= (" + literalRow(hi, tgtKeyCols) + ")");
        }
        return cond.isEmpty() ? "true" : String.join(" AND ", cond);
    }

    /** {@code (pk) IN ((…), …)} over the source table. */
    String sourceKeyIn(List<RowKey> keys) {
        return "(" + pkList + ") IN (" + keys.stream().map(k -> "(" + literalRow(k.values(), pk) + ")").collect(Collectors.joining(", ")) + ")";
    }

    /** {@code (key) IN ((…), …)} over the target table. */
    String targetKeyIn(List<RowKey> keys) {
        return "(" + keyList + ") IN (" + keys.stream().map(k -> "(" + literalRow(k.values(), tgtKeyCols) + ")").collect(Collectors.joining(", ")) + ")";
    }

    /** Target rows whose key the transform rejects are the DLQ's, not differences: left out of every comparison. */
    String notRejected() {
        return "(" + keyList + ") NOT IN (SELECT " + keyList + " FROM " + rejected + ")";
    }

    private static String literalRow(String[] key, List<Column> types) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < key.length; i++) {
            parts.add("'" + key[i].replace("'", "''") + "'::" + types.get(i).type().baseSql());
        }
        return String.join(", ", parts);
    }

    void createStages(Connection tgt) throws SQLException {
        try (Statement st = tgt.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + stage);
            st.execute("DROP TABLE IF EXISTS " + rejected);
            st.execute("CREATE TEMP TABLE " + stage + " AS SELECT " + colList + " FROM " + t.target().quoted() + " WITH NO DATA");
            st.execute("CREATE TEMP TABLE " + rejected + " AS SELECT " + keyList + " FROM " + t.target().quoted() + " WITH NO DATA");
        }
    }

    void clearStages(Connection tgt) throws SQLException {
        try (Statement st = tgt.createStatement()) {
            st.execute("TRUNCATE " + stage + ", " + rejected);
        }
    }

    void dropStages(Connection tgt) throws SQLException {
        try (Statement st = tgt.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + stage);
            st.execute("DROP TABLE IF EXISTS " + rejected);
        }
    }

    /** Expected rows and rejected keys into the stages, parsed by PostgreSQL exactly as the sink's writes were. */
    void load(Connection tgt, ExpectedRows rows) throws SQLException {
        if (!rows.expected().isEmpty()) {
            StringBuilder sb = new StringBuilder(rows.expected().size() * 64);
            for (Map<String, String> r : rows.expected()) {
                for (int i = 0; i < tgtCols.size(); i++) {
                    if (i > 0) {
                        sb.append('\t');
                    }
                    CopyText.append(sb, r.get(tgtCols.get(i).name()));
                }
                sb.append('\n');
            }
            CopyText.copyIn(tgt, "COPY " + stage + " FROM STDIN (FORMAT text)", sb);
        }
        if (identityKey && !rows.rejected().isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (RowKey k : rows.rejected()) {
                for (int i = 0; i < k.values().length; i++) {
                    if (i > 0) {
                        sb.append('\t');
                    }
                    CopyText.append(sb, k.values()[i]);
                }
                sb.append('\n');
            }
            CopyText.copyIn(tgt, "COPY " + rejected + " FROM STDIN (FORMAT text)", sb);
        }
    }

    /** What the transform makes of some source rows: the rows the target should hold, and the keys it rejects. */
    record ExpectedRows(List<Map<String, String>> expected, List<RowKey> rejected, long read) {
    }
}
