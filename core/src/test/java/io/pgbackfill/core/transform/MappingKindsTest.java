package io.pgbackfill.core.transform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.spec.SpecException;
import io.pgbackfill.core.spec.SpecLoader;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** One test per kind of mapping the spec promises: each expression's output as the sink will write it. */
class MappingKindsTest {
    static final TableSchema SRC = TableTransformTest.schema("public.src", List.of("id"), "id:bigint!", "s:text", "n:text", "j:jsonb",
            "flag:text", "d:text", "u:text", "price:numeric(10,2)", "qty:integer");
    static final TableSchema DST = TableTransformTest.schema("public.dst", List.of("id"), "id:bigint!", "out_text:text", "out_int:integer",
            "out_big:bigint", "out_num:numeric(8,3)", "out_bool:boolean", "out_date:date", "out_ts:timestamp with time zone", "out_uuid:uuid",
            "out_json:jsonb", "extra:text");

    static TableTransform compile(String columns, String extra) {
        String yaml = "name: kinds\nsource: {jdbcUrl: x}\ntables:\n  - source: public.src\n    target: public.dst\n" + (extra == null ? "" : extra)
                + "    columns:\n      id: id\n" + columns;
        return MigrationPlan.compile(SpecLoader.parse(yaml, "k.yaml"), "k.yaml", Map.of("public.src", SRC), Map.of("public.dst", DST), true).tables().get(0);
    }

    static Map<String, Object> row(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        SRC.columns().keySet().forEach(c -> m.put(c, null));
        m.put("id", 1L);
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    static String one(String expression, String column, Object... kv) throws RowRejected {
        return compile("      " + column + ": \"" + expression.replace("\"", "\\\"") + "\"\n", null).map(row(kv), Set.of()).values().get(column);
    }

    @Test
    void renamesAndCasts() throws Exception {
        assertThat(one("s", "out_text", "s", "plain")).isEqualTo("plain");
        assertThat(one("to_int(n)", "out_int", "n", " 42 ")).isEqualTo("42");
        assertThat(one("qty * 1000000", "out_big", "qty", 5L)).isEqualTo("5000000");
        assertThat(one("to_numeric(n, 3)", "out_num", "n", "3.14159")).isEqualTo("3.142");
        assertThat(one("to_bool(flag)", "out_bool", "flag", "yes")).isEqualTo("true");
        assertThat(one("to_date(d)", "out_date", "d", "2024-02-29")).isEqualTo("2024-02-29");
        assertThat(one("to_timestamptz(d)", "out_ts", "d", "2024-02-29T10:00:00Z")).isEqualTo("2024-02-29T10:00:00Z");
        assertThat(one("to_uuid(u)", "out_uuid", "u", "6F9619FF-8B86-D011-B42D-00C04FC964FF")).isEqualTo("6f9619ff-8b86-d011-b42d-00c04fc964ff");
        assertThat(one("to_text(qty)", "out_text", "qty", 7L)).isEqualTo("7");
        assertThat(one("price", "out_num", "price", "12.50")).isEqualTo("12.500");
    }

    @Test
    void stringFunctions() throws Exception {
        assertThat(one("upper(trim(s))", "out_text", "s", "  Zoë ")).isEqualTo("ZOË");
        assertThat(one("lower(s)", "out_text", "s", "ÀB")).isEqualTo("àb");
        assertThat(one("split_part(s, '-', 2)", "out_text", "s", "a-b-c")).isEqualTo("b");
        assertThat(one("split_part(s, '-', -1)", "out_text", "s", "a-b-c")).isEqualTo("c");
        assertThat(one("substr(s, 2, 3)", "out_text", "s", "🙂abcd")).isEqualTo("abc");
        assertThat(one("regex_replace(s, '[^0-9]', '')", "out_text", "s", "+55 (11) 9-8765")).isEqualTo("55119876" + "5");
        assertThat(one("s.split(' ')[1]", "out_text", "s", "first second")).isEqualTo("second");
        assertThat(one("before(s, '@')", "out_text", "s", "ana@x.com")).isEqualTo("ana");
    }

    @Test
    void coalesceDefaultsArithmeticAndConditionals() throws Exception {
        assertThat(one("coalesce(s, 'BRL')", "out_text")).isEqualTo("BRL");
        assertThat(one("coalesce(s, 'BRL')", "out_text", "s", "USD")).isEqualTo("USD");
        assertThat(one("nullif(s, '')", "out_text", "s", "")).isNull();
        assertThat(one("qty * 2 + 1", "out_int", "qty", 20L)).isEqualTo("41");
        assertThat(one("qty > 10 ? 'big' : 'small'", "out_text", "qty", 11L)).isEqualTo("big");
        assertThat(one("s == null ? 'none' : s", "out_text")).isEqualTo("none");
        assertThat(one("upper(s)", "out_text")).as("NULL propagates").isNull();
    }

    @Test
    void jsonFieldAccess() throws Exception {
        String doc = "{\"address\": {\"country\": \"BR\", \"zip\": 123}, \"tags\": [\"a\", \"b\"]}";
        assertThat(one("json_get(j, 'address.country')", "out_text", "j", doc)).isEqualTo("BR");
        assertThat(one("json_get(j, 'tags.1')", "out_text", "j", doc)).isEqualTo("b");
        assertThat(one("json_get(j, 'address')", "out_json", "j", doc)).isEqualTo("{\"country\":\"BR\",\"zip\":123}");
        assertThat(one("json_get(j, 'missing')", "out_text", "j", doc)).isNull();
    }

    @Test
    void runtimeFailuresNameTheirReason() {
        assertThatThrownBy(() -> one("to_int(n)", "out_int", "n", "12x")).isInstanceOfSatisfying(RowRejected.class,
                r -> assertThat(r.reason()).isEqualTo(RowRejected.Reason.CAST_FAILURE));
        assertThatThrownBy(() -> one("qty * 1000000", "out_int", "qty", 5000L)).isInstanceOfSatisfying(RowRejected.class,
                r -> assertThat(r.reason()).isEqualTo(RowRejected.Reason.NUMERIC_OVERFLOW));
        assertThatThrownBy(() -> one("s.split(' ')[3]", "out_text", "s", "a b")).isInstanceOfSatisfying(RowRejected.class,
                r -> assertThat(r.reason()).isEqualTo(RowRejected.Reason.EXPRESSION_ERROR));
        assertThatThrownBy(() -> one("s", "out_json", "s", "{not json")).isInstanceOfSatisfying(RowRejected.class,
                r -> assertThat(r.reason()).isEqualTo(RowRejected.Reason.CAST_FAILURE));
    }

    @Test
    void aFilterMustBeBoolean() {
        assertThatThrownBy(() -> compile("      out_text: s\n", "    filter: 1 + 2\n")).isInstanceOfSatisfying(SpecException.class,
                e -> assertThat(e.getMessage()).contains("k.yaml:6:13").contains("filter must be a boolean expression, not int"));
    }

    /** The SPI: a custom mapper sees the source row and the computed columns, and may override, add or drop. */
    public static final class Shouting implements RowMapper {
        @Override
        public Map<String, Object> map(Map<String, Object> source, Map<String, Object> computed) {
            if ("drop me".equals(source.get("s"))) {
                return null;
            }
            if ("boom".equals(source.get("s"))) {
                throw new IllegalStateException("cannot shout 'boom'");
            }
            return Map.of("out_text", computed.get("out_text") + "!", "extra", "by mapper");
        }
    }

    @Test
    void javaMapperSpi() throws Exception {
        TableTransform t = compile("      out_text: upper(s)\n      extra: s\n", "    mapper: " + Shouting.class.getName() + "\n");
        TableTransform.Mapped m = t.map(row("id", 1L, "s", "hi"), Set.of());
        assertThat(m.values()).containsEntry("out_text", "HI!").containsEntry("extra", "by mapper");
        assertThat(t.map(row("id", 2L, "s", "drop me"), Set.of()).included()).isFalse();
        assertThatThrownBy(() -> t.map(row("id", 3L, "s", "boom"), Set.of())).isInstanceOfSatisfying(RowRejected.class, r -> {
            assertThat(r.reason()).isEqualTo(RowRejected.Reason.MAPPER_ERROR);
            assertThat(r.getMessage()).contains("cannot shout 'boom'");
        });
        assertThatThrownBy(() -> compile("      out_text: s\n", "    mapper: com.example.Missing\n"))
                .isInstanceOf(SpecException.class).hasMessageContaining("mapper class com.example.Missing cannot be loaded");
        assertThatThrownBy(() -> compile("      out_text: s\n", "    mapper: java.lang.String\n"))
                .isInstanceOf(SpecException.class).hasMessageContaining("does not implement");
    }
}
