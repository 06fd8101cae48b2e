package io.pgbackfill.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.catalog.ColumnType;
import io.pgbackfill.core.sql.TableName;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The SQL a target table writes with, checked as text; {@link BatchWriterIT} runs the same SQL against PostgreSQL. */
class TargetTableTest {
    private static final String LSN = "\"_pgbackfill_lsn\"";

    /** Mixed case, a reserved word, modifiers that must not become casts. */
    private static TargetTable orders() {
        return new TargetTable(TableName.parse("Sales.Order"), List.of(
                column("tenantId", "text"),
                column("id", "bigint"),
                column("select", "character varying(5)"),
                column("code", "character(3)"),
                column("flags", "bit(3)"),
                column("amount", "numeric(10,2)"),
                column("labels", "character varying(8)[]"),
                column("bio", "text")),
                List.of("tenantId", "id"));
    }

    private static Column column(String name, String type) {
        return new Column(name, ColumnType.parse(type), false);
    }

    @Test
    void quotesEveryIdentifier() {
        String sql = orders().upsertFromArraysSql(Set.of());
        assertThat(sql).startsWith("INSERT INTO \"Sales\".\"Order\" AS t (\"tenantId\", \"id\", \"select\", \"code\", \"flags\", \"amount\", \"labels\", \"bio\", " + LSN + ")");
        assertThat(sql).contains("ON CONFLICT (\"tenantId\", \"id\") DO UPDATE SET");
        assertThat(orders().deleteSql()).startsWith("DELETE FROM \"Sales\".\"Order\" AS t USING unnest(?::text[], ?::text[], ?::bigint[]) AS d(\"tenantId\", \"id\", " + LSN + ")");
    }

    @Test
    void refusesIdentifiersThatCouldEscapeQuoting() {
        assertThatThrownBy(() -> new TargetTable(TableName.parse("public.t"), List.of(column("a\"; DROP TABLE x; --", "text")), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TargetTable(TableName.parse("public.t"), List.of(column("a", "text")), List.of("b")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key column b");
    }

    @Test
    void everyWriteIsGuardedByTheRowsLsn() {
        TargetTable t = orders();
        String guard = " WHERE t." + LSN + " IS NULL OR t." + LSN + " <= EXCLUDED." + LSN;
        assertThat(t.upsertFromArraysSql(Set.of())).endsWith(guard).contains(LSN + " = EXCLUDED." + LSN);
        assertThat(t.upsertFromStageSql(Set.of("bio"))).endsWith(" AND (t." + LSN + " IS NULL OR t." + LSN + " <= s." + LSN + ")");
        assertThat(t.deleteSql()).endsWith("AND (t." + LSN + " IS NULL OR t." + LSN + " <= d." + LSN + ")");
        // Strictly older: a row written at the truncate's own LSN or later survives it.
        assertThat(t.truncateSql()).isEqualTo("DELETE FROM \"Sales\".\"Order\" WHERE " + LSN + " IS NULL OR " + LSN + " < ?");
    }

    @Test
    void keysAreNeverUpdatedAndUnchangedToastColumnsAreLeftOutOfSet() {
        String all = orders().upsertFromArraysSql(Set.of());
        String set = all.substring(all.indexOf("DO UPDATE SET"), all.indexOf(" WHERE t."));
        assertThat(set).contains("\"select\" = EXCLUDED.\"select\"", "\"bio\" = EXCLUDED.\"bio\"").doesNotContain("\"tenantId\" =", "\"id\" =");
        String sql = orders().upsertFromArraysSql(Set.of("bio"));
        assertThat(sql.substring(sql.indexOf(" SET "), sql.indexOf(" FROM "))).contains("\"select\" = s.\"select\"::character varying")
                .doesNotContain("\"bio\" =", "\"tenantId\" =", "\"id\" =");
    }

    @Test
    void aChangeWithoutItsUnchangedToastColumnsOnlyUpdatesARowTheTargetHolds() {
        String sql = orders().upsertFromStageSql(Set.of("bio"));
        assertThat(sql).startsWith("UPDATE \"Sales\".\"Order\" AS t SET ").doesNotContain("INSERT")
                .contains("FROM " + orders().stageName() + " s WHERE t.\"tenantId\" = s.\"tenantId\"::text AND t.\"id\" = s.\"id\"::bigint AND ");
        assertThat(orders().missingKeysSql()).contains("WHERE NOT EXISTS (SELECT 1 FROM \"Sales\".\"Order\" t WHERE t.\"tenantId\" = s.\"tenantId\"::text");
    }

    @Test
    void castsDropModifiersSoAssignmentChecksLengthInsteadOfTruncating() {
        String sql = orders().upsertFromArraysSql(Set.of());
        assertThat(sql).contains("s.\"select\"::character varying,", "s.\"amount\"::numeric,", "s.\"labels\"::character varying[],")
                .doesNotContain("varying(5)", "numeric(10,2)");
        // Bare "character" and "bit" mean length 1 and would cut 'abc' to 'a': the unbounded forms are used.
        assertThat(sql).contains("s.\"code\"::bpchar,", "s.\"flags\"::varbit,");
    }

    @Test
    void oneArrayParameterPerColumnPlusTheLsns() {
        String sql = orders().upsertFromArraysSql(Set.of());
        assertThat(sql.chars().filter(ch -> ch == '?').count()).isEqualTo(orders().columns().size() + 1);
        assertThat(orders().deleteSql().chars().filter(ch -> ch == '?').count()).isEqualTo(3);
    }

    @Test
    void stagingTableIsTemporaryTextAndEmptiedAtCommit() {
        TargetTable t = orders();
        assertThat(t.createStageSql()).startsWith("CREATE TEMP TABLE IF NOT EXISTS " + t.stageName())
                .contains("\"select\" text", LSN + " bigint").endsWith("ON COMMIT DELETE ROWS");
        assertThat(t.copySql()).isEqualTo("COPY " + t.stageName() + " (\"tenantId\", \"id\", \"select\", \"code\", \"flags\", \"amount\", \"labels\", \"bio\", "
                + LSN + ") FROM STDIN (FORMAT text)");
    }
}
