package io.pgbackfill.producer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.catalog.ColumnType;
import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.sql.TableName;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KeyConditionTest {
    @Test
    void aRereadNamesEachKeyWithTypedQuotedLiteralsInKeyOrder() {
        TableSchema orders = schema(List.of("region", "id"), "region", "text", "id", "bigint");
        String in = KeyCondition.in(orders, List.of(Map.of("id", 7L, "region", "eu"), Map.of("id", 8L, "region", "o'hare")));
        assertThat(in).isEqualTo("(\"region\", \"id\") IN (('eu'::text, '7'::bigint), ('o''hare'::text, '8'::bigint))");
    }

    @Test
    void aKeyWithoutAValueIsRefused() {
        TableSchema t = schema(List.of("id"), "id", "bigint");
        java.util.HashMap<String, Object> key = new java.util.HashMap<>();
        key.put("id", null);
        assertThatThrownBy(() -> KeyCondition.in(t, List.of(key))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("id");
    }

    private static TableSchema schema(List<String> key, String... nameAndType) {
        Map<String, Column> cols = new LinkedHashMap<>();
        for (int i = 0; i < nameAndType.length; i += 2) {
            cols.put(nameAndType[i], new Column(nameAndType[i], ColumnType.parse(nameAndType[i + 1]), false));
        }
        return new TableSchema(TableName.parse("public.orders"), cols, key, "d", 0);
    }
}
