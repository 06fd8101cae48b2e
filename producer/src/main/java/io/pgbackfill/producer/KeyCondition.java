package io.pgbackfill.producer;

import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.sql.SqlIdentifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The SQL condition "rows after this primary key" (row comparison, so composite keys work), with typed literals. */
final class KeyCondition {
    private KeyCondition() {
    }

    static String after(TableSchema schema, Map<String, Object> key) {
        List<String> cols = new ArrayList<>();
        List<String> values = new ArrayList<>();
        for (String k : schema.primaryKey()) {
            Object v = key.get(k);
            cols.add(SqlIdentifier.of(k).quoted());
            values.add(v == null ? "NULL" : "'" + v.toString().replace("'", "''") + "'::" + schema.columns().get(k).type().baseSql());
        }
        return "(" + String.join(", ", cols) + ") > (" + String.join(", ", values) + ")";
    }
}
