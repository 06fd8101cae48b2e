package io.pgbackfill.producer;

import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.sql.SqlIdentifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** SQL conditions on the primary key (row comparisons, so composite keys work), with typed literals. */
final class KeyCondition {
    private KeyCondition() {
    }

    /** "Rows after this key": the rest of an interrupted scan. */
    static String after(TableSchema schema, Map<String, Object> key) {
        List<String> cols = new ArrayList<>();
        List<String> values = new ArrayList<>();
        for (String k : schema.primaryKey()) {
            Object v = key.get(k);
            cols.add(SqlIdentifier.of(k).quoted());
            values.add(v == null ? "NULL" : literal(schema, k, v));
        }
        return "(" + String.join(", ", cols) + ") > (" + String.join(", ", values) + ")";
    }

    /** "Rows with one of these keys": a re-read. An IN list on the key columns, so the index finds them. */
    static String in(TableSchema schema, List<Map<String, Object>> keys) {
        List<String> cols = new ArrayList<>();
        for (String k : schema.primaryKey()) {
            cols.add(SqlIdentifier.of(k).quoted());
        }
        List<String> rows = new ArrayList<>();
        for (Map<String, Object> key : keys) {
            List<String> values = new ArrayList<>();
            for (String k : schema.primaryKey()) {
                values.add(literal(schema, k, key.get(k)));
            }
            rows.add("(" + String.join(", ", values) + ")");
        }
        return "(" + String.join(", ", cols) + ") IN (" + String.join(", ", rows) + ")";
    }

    private static String literal(TableSchema schema, String column, Object v) {
        if (v == null) {
            throw new IllegalArgumentException("key column " + column + " of " + schema.name() + " has no value");
        }
        return "'" + v.toString().replace("'", "''") + "'::" + schema.columns().get(column).type().baseSql();
    }
}
