package io.pgbackfill.core.transform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.catalog.ColumnType;
import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.event.ChangeEvent;
import io.pgbackfill.core.event.RowChange;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecException;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.sql.TableName;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TableTransformTest {

    static TableSchema schema(String table, List<String> pk, String... colTypes) {
        Map<String, Column> cols = new LinkedHashMap<>();
        for (String ct : colTypes) {
            String[] p = ct.split(":", 2);
            boolean notNull = p[1].endsWith("!");
            String type = notNull ? p[1].substring(0, p[1].length() - 1) : p[1];
            cols.put(p[0], new Column(p[0], ColumnType.parse(type), notNull));
        }
        return new TableSchema(TableName.parse(table), cols, pk, "d", 0);
    }

    static final TableSchema USERS = schema("public.users", List.of("id"), "id:bigint!", "name:text", "email:text", "created_at:timestamp with time zone", "bio:text", "amount:text", "payload:jsonb");
    static final TableSchema USERS_V2 = schema("public.users_v2", List.of("id"), "id:bigint!", "first_name:text", "last_name:text", "email:text",
            "created_at:timestamp with time zone", "bio:text", "amount:numeric(8,2)", "code:character varying(5)", "currency:text!", "city:text");

    static MigrationPlan plan(String yaml) {
        PipelineSpec spec = SpecLoader.parse(yaml, "spec.yaml");
        return MigrationPlan.compile(spec, "spec.yaml", Map.of("public.users", USERS), Map.of("public.users_v2", USERS_V2), true);
    }

    static final String HEAD = "name: t\nsource:\n  jdbcUrl: jdbc:postgresql://h/db\ntables:\n  - source: public.users\n    target: public.users_v2\n";

    static final String DEMO = HEAD + """
                columns:
                  id: id
                  first_name: before(name, ' ')
                  last_name: after(name, ' ')
                  email: lower(email)
                  created_at: created_at
                  currency: "'BRL'"
            """;

    /** A full source row, as Debezium sends it: every column present, unnamed ones NULL. */
    static Map<String, Object> row(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        USERS.columns().keySet().forEach(c -> m.put(c, null));
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void splitsNamesLikeTheDemoSays() throws Exception {
        TableTransform t = plan(DEMO).tables().get(0);
        assertThat(t.map(row("id", 1L, "name", "Ana Maria Souza", "email", "Ana@X.COM"), Set.of()).values())
                .containsEntry("first_name", "Ana").containsEntry("last_name", "Maria Souza").containsEntry("email", "ana@x.com").containsEntry("id", "1");
        assertThat(t.map(row("id", 2L, "name", "Zoë"), Set.of()).values()).containsEntry("first_name", "Zoë").containsEntry("last_name", null);
        assertThat(t.map(row("id", 3L, "name", null, "email", null), Set.of()).values()).containsEntry("first_name", null).containsEntry("email", null);
        assertThat(t.map(row("id", 4L, "name", "李 小龍 🐉"), Set.of()).values()).containsEntry("first_name", "李").containsEntry("last_name", "小龍 🐉");
    }

    @Test
    void copiedColumnsGiveWhatTheirProgramGives() throws Exception {
        // Columns whose expression is a bare source column skip the interpreter; the result must not change.
        TableTransform t = plan(HEAD + """
                    columns:
                      id: id
                      first_name: name
                      created_at: created_at
                      bio: bio
                      city: amount
                      currency: email
                """).tables().get(0);
        for (Map<String, Object> r : List.of(row("id", 1L, "name", "Zoë 🙂", "created_at", "2020-01-01T00:00:00.000000Z", "bio", "x", "amount", "1.5", "email", "E"),
                row("id", Long.MAX_VALUE, "email", "e"), row("id", 3L, "name", "", "email", "é"))) {
            Map<String, String> values = t.map(r, Set.of()).values();
            for (TableTransform.TargetColumn c : t.columns()) {
                assertThat(values.get(c.name())).as(c.name()).isEqualTo(TargetValues.convert(c.evaluate(r), c.column()));
            }
        }
    }

    @Test
    void directCallsGiveWhatTheirProgramGives() {
        // One call of a pgbackfill function on columns and literals skips the interpreter (DirectCall): for every strict
        // function, on NULLs, unicode, empty text, separators at either end, and values its body refuses, map() must give
        // the program's value, or fail the same way.
        List<String> expressions = List.of("lower(name)", "upper(name)", "trim(name)", "before(name, ' ')", "after(name, ' ')",
                "before(name, '')", "after(name, 'ä')", "split_part(name, ' ', 2)", "split_part(name, ' ', -1)", "split_part(name, ' ', 0)",
                "substr(name, 2, 3)", "regex_replace(name, 'a+', '_')", "json_get(name, 'a.0')", "to_int(name)", "to_double(name)",
                "to_text(name)", "to_bool(name)", "to_date(name)", "to_timestamptz(name)", "to_uuid(name)", "to_numeric(name, 2)");
        List<String> names = new java.util.ArrayList<>(java.util.Arrays.asList(null, "", " ", "Ana Maria Souza", " lead", "trail ", "ÄÖü straße",
                "李 小龍 🐉", "aaa bbb", "42", " 7 ", "1.5e3", "true", "off", "2020-02-29", "2020-01-01T00:00:00.000000Z",
                "123e4567-e89b-12d3-a456-426614174000", "{\"a\": [\"x\", 2]}", "{\"a\": null}", "9999999999999999999", "x\u0000y"));
        java.util.Random random = new java.util.Random(7);
        String alphabet = "aA äÄ🐉-1.e";
        for (int i = 0; i < 200; i++) {
            StringBuilder sb = new StringBuilder();
            for (int n = random.nextInt(8); n > 0; n--) {
                sb.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0, random.nextInt(alphabet.codePointCount(0, alphabet.length())))));
            }
            names.add(sb.toString());
        }
        for (String expression : expressions) {
            TableTransform t = plan(HEAD + "    columns:\n      id: id\n      currency: \"'BRL'\"\n      city: \"" + expression + "\"\n").tables().get(0);
            assertThat(t.isDirect("city")).as(expression + " is evaluated directly").isTrue();
            TableTransform.TargetColumn city = t.columns().stream().filter(c -> c.name().equals("city")).findFirst().orElseThrow();
            for (String name : names) {
                Map<String, Object> r = row("id", 1L, "name", name);
                String through;
                String direct;
                try {
                    through = "value " + TargetValues.convert(city.evaluate(r), city.column());
                } catch (RowRejected e) {
                    through = "rejected " + e.reason() + ": " + e.getMessage();
                }
                try {
                    direct = "value " + t.map(r, Set.of()).values().get("city");
                } catch (RowRejected e) {
                    direct = "rejected " + e.reason() + ": " + e.getMessage();
                }
                assertThat(direct).as(expression + " of " + name).isEqualTo(through);
            }
        }
        // Not a single call of one function on columns and literals: through CEL.
        for (String expression : List.of("lower(name) + 'x'", "lower(coalesce(name, 'x'))", "coalesce(name, 'x')", "name.size() > 0 ? 'a' : 'b'")) {
            assertThat(plan(HEAD + "    columns:\n      id: id\n      currency: \"'BRL'\"\n      city: \"" + expression + "\"\n").tables().get(0).isDirect("city"))
                    .as(expression).isFalse();
        }
    }

    @Test
    void dateCheckWithoutRegexAcceptsWhatTheRegexAccepts() {
        for (String v : List.of("2020-01-01", "2020-01-01T00:00:00.000000Z", "-44-3-15", "12345678-1-1", "1234567-12-31x", "2020-001-01",
                "2020-01-1", "2020-01-", "2020--01", "-2020-1-1 BC", "2020-01-01\n", "2020-01-01 x\u2028", "", "-", "abc", "２０２０-01-01",
                "2020-01-011", "0-0-0", "2020/01/01", "2020-01-01\r", "2020-01-01\u0085")) {
            assertThat(TargetValues.dateLike(v)).as(v).isEqualTo(TargetValues.DATE_LIKE.matcher(v).matches());
        }
    }

    @Test
    void coalesceFillsDefaultsAndCastsRejectBadValues() throws Exception {
        TableTransform t = plan(HEAD + """
                    columns:
                      id: id
                      currency: coalesce(name, 'BRL')
                      amount: to_numeric(amount, 2)
                """).tables().get(0);
        assertThat(t.map(row("id", 1L, "amount", "12.345"), Set.of()).values()).containsEntry("currency", "BRL").containsEntry("amount", "12.35");
        assertThatThrownBy(() -> t.map(row("id", 1L, "amount", "abc"), Set.of()))
                .isInstanceOfSatisfying(RowRejected.class, r -> assertThat(r.reason()).isEqualTo(RowRejected.Reason.CAST_FAILURE));
        assertThatThrownBy(() -> t.map(row("id", 1L, "amount", "123456789"), Set.of()))
                .isInstanceOfSatisfying(RowRejected.class, r -> assertThat(r.reason()).isEqualTo(RowRejected.Reason.NUMERIC_OVERFLOW));
    }

    @Test
    void rejectsNullIntoNotNullAndTooLongValues() {
        TableTransform t = plan(HEAD + """
                    columns:
                      id: id
                      currency: name
                      code: email
                """).tables().get(0);
        assertThatThrownBy(() -> t.map(row("id", 1L, "name", null, "email", "x"), Set.of()))
                .isInstanceOfSatisfying(RowRejected.class, r -> assertThat(r.reason()).isEqualTo(RowRejected.Reason.NOT_NULL));
        assertThatThrownBy(() -> t.map(row("id", 1L, "name", "n", "email", "toolong"), Set.of()))
                .isInstanceOfSatisfying(RowRejected.class, r -> assertThat(r.reason()).isEqualTo(RowRejected.Reason.VALUE_TOO_LONG));
    }

    @Test
    void unchangedToastColumnsAreLeftAloneNotWritten() throws Exception {
        TableTransform t = plan(DEMO.replace("      currency: \"'BRL'\"\n", "      currency: \"'BRL'\"\n      bio: upper(bio)\n")).tables().get(0);
        Map<String, Object> after = row("id", 7L, "name", "A B");
        after.remove("bio"); // unchanged TOAST: not in the event
        ChangeEvent e = new ChangeEvent("u", "public.users", 100, 0, false, Map.of("id", 7L), after, Set.of("bio"), null);
        RowChange rc = t.apply(e).get(0);
        assertThat(rc.unchanged()).containsExactly("bio");
        assertThat(rc.values()).containsEntry("first_name", "A");
    }

    @Test
    void aNewKeyWithoutItsUnchangedToastValueIsReadAgainNotWrittenWithNull() throws Exception {
        TableTransform t = plan(DEMO.replace("      currency: \"'BRL'\"\n", "      currency: \"'BRL'\"\n      bio: upper(bio)\n")).tables().get(0);
        Map<String, Object> after = row("id", 5000L, "name", "A B");
        after.remove("bio");
        // UPDATE users SET id = 5000 WHERE id = 7: Debezium sends a delete of 7 and a create of 5000 without bio
        ChangeEvent moved = new ChangeEvent("c", "public.users", 100, 0, false, Map.of("id", 5000L), after, Set.of("bio"), null);
        assertThat(t.apply(moved)).containsExactly(RowChange.reread(100, Map.of("id", "5000"), null, "{\"id\":5000}"));
        // a spec that does not read the unchanged column writes the new key as usual
        TableTransform noBio = plan(DEMO).tables().get(0);
        assertThat(noBio.apply(moved)).singleElement().satisfies(rc -> {
            assertThat(rc.values()).containsEntry("id", "5000").containsEntry("first_name", "A");
            assertThat(rc.isUpsert()).isTrue();
            assertThat(rc.rereadKey()).as("a whole row needs no re-read").isNull();
        });
    }

    @Test
    void anUpdateWithoutItsUnchangedToastValueCarriesTheSourceKeyToReadItAgain() throws Exception {
        TableTransform t = plan(DEMO.replace("      currency: \"'BRL'\"\n", "      currency: \"'BRL'\"\n      bio: upper(bio)\n")).tables().get(0);
        Map<String, Object> after = row("id", 7L, "name", "A B");
        after.remove("bio");
        RowChange rc = t.apply(new ChangeEvent("u", "public.users", 100, 0, false, Map.of("id", 7L), after, Set.of("bio"), null)).get(0);
        assertThat(rc.unchanged()).containsExactly("bio");
        assertThat(rc.rereadKey()).isEqualTo("{\"id\":7}");
    }

    @Test
    void aFilterThatReadsAnUnchangedToastValueAsksForTheRowAgain() throws Exception {
        TableTransform t = plan(DEMO + "    filter: bio != null && bio.startsWith('x')\n").tables().get(0);
        Map<String, Object> after = row("id", 9L, "name", "A B");
        after.remove("bio");
        ChangeEvent upd = new ChangeEvent("u", "public.users", 5, 0, false, Map.of("id", 9L), after, Set.of("bio"), null);
        assertThat(t.apply(upd)).containsExactly(RowChange.reread(5, Map.of("id", "9"), null, "{\"id\":9}"));
    }

    @Test
    void filterDeletesRowsThatStopMatchingAndDeletesUseTheKeyOnly() throws Exception {
        TableTransform t = plan(DEMO + "    filter: email != null && email.endsWith('.com')\n").tables().get(0);
        ChangeEvent upd = new ChangeEvent("u", "public.users", 5, 0, false, row("id", 9L), row("id", 9L, "email", "a@b.org"), null, null);
        assertThat(t.apply(upd)).containsExactly(RowChange.delete(5, Map.of("id", "9")));
        ChangeEvent read = new ChangeEvent("r", "public.users", 5, 0, true, row("id", 9L), row("id", 9L, "email", "a@b.org"), null, null);
        assertThat(t.apply(read)).isEmpty();
        ChangeEvent del = new ChangeEvent("d", "public.users", 6, 0, false, Map.of("id", 9L), null, null, null);
        assertThat(t.apply(del)).containsExactly(RowChange.delete(6, Map.of("id", "9")));
    }

    @Test
    void unknownColumnFailsAtStartWithLineAndColumn() {
        assertThatThrownBy(() -> plan(HEAD + """
                    columns:
                      id: id
                      first_name: before(nmae, ' ')
                      currency: "'BRL'"
                """)).isInstanceOfSatisfying(SpecException.class, e -> {
            assertThat(e.problems()).hasSize(1);
            assertThat(e.problems().get(0).line()).isEqualTo(9);
            assertThat(e.problems().get(0).column()).isEqualTo(26);
            assertThat(e.getMessage()).contains("spec.yaml:9:26").contains("unknown column or function 'nmae'");
        });
    }

    @Test
    void aColumnMissingFromTheEventIsASchemaChangeNotANull() {
        TableTransform t = plan(DEMO).tables().get(0);
        Map<String, Object> after = row("id", 1L, "name", "A B");
        after.remove("email"); // dropped on the source while streaming
        assertThatThrownBy(() -> t.map(after, Set.of()))
                .isInstanceOfSatisfying(RowRejected.class, r -> assertThat(r.reason()).isEqualTo(RowRejected.Reason.SCHEMA_CHANGED));
    }

    @Test
    void expressionsCannotReachJavaFilesOrTheNetwork() {
        for (String evil : List.of("java.lang.Runtime.getRuntime()", "read_file('/etc/passwd')", "http_get('http://x')", "System.exit(1)")) {
            assertThatThrownBy(() -> plan(HEAD + "    columns:\n      id: id\n      first_name: " + evil + "\n"))
                    .as(evil).isInstanceOf(SpecException.class);
        }
    }
}
