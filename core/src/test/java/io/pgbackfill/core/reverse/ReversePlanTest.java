package io.pgbackfill.core.reverse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.catalog.ColumnType;
import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecException;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.sql.TableName;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.core.transform.TableTransform;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The reverse blocks are checked like the forward columns, against both catalogs, and refused with file:line. */
class ReversePlanTest {
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

    // the old table (same database, after the cutover: users_old) and the new one (under the old name)
    static final TableSchema OLD = schema("public.users_old", List.of("id"), "id:bigint!", "name:text!", "email:text", "status:text!",
            "created_at:timestamp with time zone!");
    static final TableSchema NEW = schema("public.users", List.of("id"), "id:bigint!", "first_name:text!", "last_name:text", "email:text", "status:text!");

    static String yaml(String reverse) {
        return """
                name: users-split
                source: {jdbcUrl: "jdbc:postgresql://localhost/app"}
                tables:
                  - source: public.users
                    target: public.users_v2
                    columns:
                      id: id
                      first_name: before(name, ' ')
                      last_name: after(name, ' ')
                      email: email
                      status: status
                    reverse:
                """ + reverse.indent(6);
    }

    static MigrationPlan compile(String reverse) {
        PipelineSpec spec = SpecLoader.parse(yaml(reverse), "spec.yaml");
        return ReversePlan.compile(spec, "spec.yaml", Map.of("public.users", NEW), Map.of("public.users_old", OLD),
                Map.of("public.users_old", Set.of("created_at")), true);
    }

    @Test
    void aReverseBlockCompilesFromTheNewTableIntoTheOldOneKeyedByTheOldPrimaryKey() {
        MigrationPlan plan = compile("""
                id: id
                name: "last_name == null ? first_name : first_name + ' ' + last_name"
                email: email
                status: status
                """);
        assertThat(plan.spec().pipelineName()).isEqualTo("users-split-reverse");
        assertThat(plan.spec().snapshot().none()).isTrue();
        TableTransform t = plan.tables().get(0);
        assertThat(t.source().id()).isEqualTo("public.users");
        assertThat(t.target().id()).isEqualTo("public.users_old");
        assertThat(t.keyColumnNames()).containsExactly("id");
    }

    @Test
    void aNotNullOldColumnWithoutDefaultLeftUnfilledIsRefusedWithFileAndLine() {
        // status is NOT NULL without a default; created_at is NOT NULL but has one (it is left to PostgreSQL)
        assertThatThrownBy(() -> compile("""
                id: id
                name: first_name
                email: email
                """)).isInstanceOf(SpecException.class)
                .hasMessageContaining("spec.yaml:13:")
                .hasMessageContaining("old column status of public.users_old is NOT NULL and has no default, but the reverse block does not fill it")
                .hasMessageNotContaining("created_at").hasMessageStartingWith("invalid spec: ");
    }

    @Test
    void aKeyThatCannotBeInvertedIsRefusedWithTheReason() {
        assertThatThrownBy(() -> compile("""
                id: "size(first_name)"
                name: first_name
                email: email
                status: status
                """)).isInstanceOf(SpecException.class)
                .hasMessageContaining("key column id may only read the source primary key [id] (deletes carry nothing else), but it reads [first_name]");
        assertThatThrownBy(() -> compile("""
                name: first_name
                status: status
                """)).isInstanceOf(SpecException.class).hasMessageContaining("key column id has no expression");
    }

    @Test
    void expressionsAreTypeCheckedAgainstTheNewTable() {
        assertThatThrownBy(() -> compile("""
                id: id
                name: full_name
                status: status
                """)).isInstanceOf(SpecException.class).hasMessageContaining("spec.yaml:14:").hasMessageContaining("full_name");
    }

    @Test
    void everyTableNeedsAReverseBlockOnceOneHasIt() {
        String two = yaml("id: id\nname: first_name\nstatus: status\n") + """
                  - source: public.orders
                    target: public.orders_v2
                    columns: {id: id}
                """;
        PipelineSpec spec = SpecLoader.parse(two, "spec.yaml");
        assertThat(ReversePipeline.missing(spec)).hasSize(1);
        assertThatThrownBy(() -> ReversePlan.compile(spec, "spec.yaml", Map.of(), Map.of(), Map.of(), false))
                .hasMessageContaining("table public.orders_v2 has no 'reverse' block");
    }

    @Test
    void aNewClusterReverseWritesTheOldClusterWithTheWriterSetting() {
        PipelineSpec spec = SpecLoader.parse(yaml("id: id\nname: first_name\nstatus: status\n")
                .replace("source: {jdbcUrl: \"jdbc:postgresql://localhost/app\"}",
                        "source: {jdbcUrl: \"jdbc:postgresql://localhost/app?sslmode=disable\"}\ntarget: {jdbcUrl: \"jdbc:postgresql://other/app\"}"), "spec.yaml");
        PipelineSpec reverse = ReversePipeline.of(spec);
        assertThat(reverse.source().jdbcUrl()).isEqualTo("jdbc:postgresql://other/app");
        assertThat(reverse.target().jdbcUrl()).isEqualTo("jdbc:postgresql://localhost/app?sslmode=disable&options=-c%20pgbackfill.writer%3Dreverse");
        assertThat(reverse.tables().get(0).sourceName().id()).isEqualTo("public.users_v2");
        assertThat(reverse.tables().get(0).targetName().id()).isEqualTo("public.users");
        assertThat(reverse.rawTopic(reverse.tables().get(0))).isEqualTo("pgbackfill.users-split-reverse.raw.public.users_v2");
    }
}
