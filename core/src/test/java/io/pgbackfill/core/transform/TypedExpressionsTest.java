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

/**
 * Expressions are typed: the functions' result types, the source columns' types from the catalog and the target
 * columns' types meet at spec check, so a spec that would send every row to the DLQ does not pass; what can only
 * fail per row fails with a sentence that names the column and the value.
 */
class TypedExpressionsTest {
    static final TableSchema SRC = TableTransformTest.schema("public.orders", List.of("id"), "id:bigint!", "amount_cents:integer",
            "status:text", "price:double precision", "total:numeric(10,2)", "paid:boolean", "note:text", "created:timestamp with time zone");
    static final TableSchema DST = TableTransformTest.schema("public.orders_v2", List.of("id"), "id:bigint!", "amount:double precision",
            "status:smallint", "status_text:text", "label:character varying(20)", "total:numeric(12,2)", "cents:integer", "paid:boolean",
            "created:timestamp with time zone", "doc:jsonb");

    static String yaml(String columns) {
        return "name: typed\nsource: {jdbcUrl: x}\ntables:\n  - source: public.orders\n    target: public.orders_v2\n    columns:\n      id: id\n"
                + columns;
    }

    static TableTransform compile(String columns) {
        return MigrationPlan.compile(SpecLoader.parse(yaml(columns), "typed.yaml"), "typed.yaml", Map.of("public.orders", SRC),
                Map.of("public.orders_v2", DST), true).tables().get(0);
    }

    static SpecException.Problem refused(String columns) {
        SpecException e = (SpecException) org.assertj.core.api.Assertions.catchThrowable(() -> compile(columns));
        assertThat(e).as("refused at spec check: " + columns).isNotNull();
        assertThat(e.problems()).hasSize(1);
        return e.problems().get(0);
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

    @Test
    void doubleDividedByIntIsRefusedWithFileLineAndTheFix() {
        SpecException.Problem p = refused("      amount: to_double(amount_cents) / 100\n");
        assertThat(p.toString()).startsWith("typed.yaml:8:");
        assertThat(p.message()).contains("column amount").contains("double and int").contains("100.0");
        // The fix the message names passes.
        assertThat(compile("      amount: to_double(amount_cents) / 100.0\n").columns()).hasSize(2);
    }

    @Test
    void doubleDividedByIntIsRefusedOfflineToo() {
        SpecException e = (SpecException) org.assertj.core.api.Assertions.catchThrowable(() -> MigrationPlan.compile(
                SpecLoader.parse(yaml("      amount: to_double(amount_cents) / 100\n"), "typed.yaml"), "typed.yaml", Map.of(), Map.of(), false));
        assertThat(e).isNotNull();
        assertThat(e.problems().get(0).toString()).startsWith("typed.yaml:8:").contains("double and int");
    }

    @Test
    void textIntoSmallintIsRefusedAndNamesToInt() {
        SpecException.Problem p = refused("      status: status\n");
        assertThat(p.toString()).startsWith("typed.yaml:8:15: column status: string value into smallint column")
                .contains("to_int(");
        assertThat(compile("      status: to_int(status)\n").columns()).hasSize(2);
    }

    @Test
    void aFunctionGivenAnArgumentTypeItDoesNotTakeIsRefused() {
        SpecException.Problem p = refused("      status_text: upper(amount_cents)\n");
        assertThat(p.toString()).startsWith("typed.yaml:8:");
        assertThat(p.message()).contains("upper takes (string), not (int)").contains("to_text(");
        assertThat(compile("      status_text: upper(to_text(amount_cents))\n").columns()).hasSize(2);
    }

    @Test
    void anUnknownFunctionIsRefusedAndTheFunctionsAreListed() {
        SpecException.Problem p = refused("      status_text: uppercase(note)\n");
        assertThat(p.toString()).startsWith("typed.yaml:8:");
        assertThat(p.message()).contains("unknown function 'uppercase'").contains("upper").contains("reject");
    }

    @Test
    void conditionalsWithBranchesOfTwoTypesAreRefusedWithTheFix() {
        SpecException.Problem p = refused("      total: \"total != null ? to_numeric(total, 2) : 0\"\n");
        assertThat(p.message()).contains("two branches of ?: have different types (string and int)").contains("'0' rather than 0");
        assertThat(compile("      total: \"total != null ? to_numeric(total, 2) : '0'\"\n").columns()).hasSize(2);
    }

    @Test
    void whatMayGoWhereFollowsTheSinksCasts() {
        // Fine: int into integer/numeric/double/text, numeric text into numeric, text into varchar, bool into bool, text into jsonb.
        compile("""
                      cents: amount_cents * 2
                      total: total
                      amount: price
                      status_text: amount_cents
                      label: note
                      paid: paid
                      created: created
                      doc: note
                """);
        compile("      total: amount_cents\n      amount: amount_cents\n");
        // Refused, each naming the function to use.
        assertThat(refused("      cents: price\n").message()).contains("double value into integer column").contains("to_int(");
        assertThat(refused("      paid: note\n").message()).contains("to_bool(");
        assertThat(refused("      amount: note\n").message()).contains("to_double(");
        assertThat(refused("      cents: paid\n").message()).contains("(x ? 1 : 0)");
        assertThat(refused("      created: amount_cents\n").message()).contains("to_timestamptz(");
    }

    @Test
    void nullStillPropagatesThroughTypedFunctions() throws Exception {
        TableTransform t = compile("""
                      status: "status == null ? 0 : to_int(status)"
                      status_text: upper(trim(note))
                      cents: coalesce(amount_cents, 0) + 1
                      label: coalesce(lower(note), 'none') + '!'
                """);
        Map<String, String> v = t.map(row(), Set.of()).values();
        assertThat(v).containsEntry("status", "0").containsEntry("status_text", null).containsEntry("cents", "1").containsEntry("label", "none!");
        v = t.map(row("status", "3", "note", " Hi ", "amount_cents", 41L), Set.of()).values();
        assertThat(v).containsEntry("status", "3").containsEntry("status_text", "HI").containsEntry("cents", "42").containsEntry("label", " hi !");
    }

    @Test
    void aFailedMapLookupNamesTheColumnTheValueAndTheKeys() {
        TableTransform t = compile("      status: \"{'new': 0, 'paid': 1}[status]\"\n");
        assertThatThrownBy(() -> t.map(row("status", "lost"), Set.of())).isInstanceOfSatisfying(RowRejected.class, r -> {
            assertThat(r.reason()).isEqualTo(RowRejected.Reason.EXPRESSION_ERROR);
            assertThat(r.column()).isEqualTo("status");
            assertThat(r.getMessage()).startsWith("column status: no key 'lost' in the map (keys: new, paid)");
        });
        assertThatThrownBy(() -> t.map(row(), Set.of())).isInstanceOfSatisfying(RowRejected.class,
                r -> assertThat(r.getMessage()).startsWith("column status: NULL is not a key of the map (keys: new, paid)"));
    }

    @Test
    void aNullWhereAnOperatorNeedsAValueNamesTheColumn() {
        TableTransform t = compile("      label: note + '!'\n");
        assertThatThrownBy(() -> t.map(row(), Set.of())).isInstanceOfSatisfying(RowRejected.class,
                r -> assertThat(r.getMessage()).startsWith("column label: note is NULL, and + does not take NULL").contains("coalesce(note"));
    }

    @Test
    void otherRuntimeErrorsAreSentences() {
        TableTransform t = compile("      cents: 100 / amount_cents\n      label: note.split(' ')[2]\n");
        assertThatThrownBy(() -> t.map(row("amount_cents", 0L, "note", "a b c"), Set.of())).isInstanceOfSatisfying(RowRejected.class,
                r -> assertThat(r.getMessage()).startsWith("column cents: division by zero"));
        assertThatThrownBy(() -> t.map(row("amount_cents", 1L, "note", "a b"), Set.of())).isInstanceOfSatisfying(RowRejected.class,
                r -> assertThat(r.getMessage()).startsWith("column label: no element 2 in the list"));
    }

    @Test
    void rejectSendsTheRowAwayWithTheAuthorsReasonAndIsTypedByItsBranch() throws Exception {
        TableTransform t = compile("      status_text: \"status in ['new', 'paid'] ? status : reject('unknown status ' + status)\"\n"
                + "      status: \"{'new': 0, 'paid': 1}[status]\"\n");
        assertThat(t.map(row("status", "paid"), Set.of()).values()).containsEntry("status_text", "paid").containsEntry("status", "1");
        assertThatThrownBy(() -> t.map(row("status", "lost"), Set.of())).isInstanceOfSatisfying(RowRejected.class, r -> {
            assertThat(r.reason()).isEqualTo(RowRejected.Reason.REJECTED);
            assertThat(r.column()).isEqualTo("status_text");
            assertThat(r.reasonText()).isEqualTo("rejected by the spec: unknown status lost");
            assertThat(r.getMessage()).isEqualTo("column status_text: unknown status lost");
        });
        // reject() takes the type of the other branch: an int branch into a text column is still refused.
        assertThat(refused("      paid: \"status == 'y' ? 1 : reject('no')\"\n").message()).contains("int value into boolean column");
    }

    @Test
    void aFilterMayRejectToo() {
        String y = yaml("      status_text: status\n").replace("    columns:", "    filter: \"paid != null ? paid : reject('paid is not known')\"\n    columns:");
        TableTransform t = MigrationPlan.compile(SpecLoader.parse(y, "typed.yaml"), "typed.yaml", Map.of("public.orders", SRC),
                Map.of("public.orders_v2", DST), true).tables().get(0);
        assertThatThrownBy(() -> t.map(row(), Set.of())).isInstanceOfSatisfying(RowRejected.class,
                r -> assertThat(r.reasonText()).isEqualTo("rejected by the spec: paid is not known"));
    }

    @Test
    void coalesceOfTwoTypesNamesTheFix() {
        assertThat(refused("      label: coalesce(amount_cents, 'none')\n").message())
                .contains("coalesce needs two values of the same type, not (int, string)");
    }

    @Test
    void macrosAndComprehensionsCheckOnlineAndOffline() throws Exception {
        String columns = "      label: \"note.split(' ').exists(w, w == 'x') ? 'has x' : 'no x'\"\n"
                + "      cents: \"[1, 2, 3].map(x, x * amount_cents).filter(y, y > 2).size()\"\n";
        TableTransform t = compile(columns);
        assertThat(t.map(row("note", "a x b", "amount_cents", 2L), Set.of()).values()).containsEntry("label", "has x").containsEntry("cents", "2");
        assertThat(MigrationPlan.compile(SpecLoader.parse(yaml(columns), "typed.yaml"), "typed.yaml", Map.of(), Map.of(), false).tables())
                .hasSize(1);
    }
}
