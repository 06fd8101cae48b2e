package io.pgbackfill.ops.rehearse;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.catalog.ColumnType;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rehearsal's small parts, without a database. */
class RehearsalPartsTest {

    @Test
    void keyHashSetFindsDuplicatesAcrossGrowthAndStopsGrowingAtItsCap() {
        KeyHashSet keys = new KeyHashSet(50_000);
        for (int i = 0; i < 50_000; i++) {
            assertThat(keys.add(List.of("k" + i))).isTrue();
        }
        assertThat(keys.capHit()).isFalse();
        assertThat(keys.add(List.of("k123"))).as("seen before the table grew many times").isFalse();
        assertThat(keys.add(List.of("k49999"))).isFalse();
        assertThat(keys.add(List.of("new"))).as("not a duplicate, but no longer remembered").isTrue();
        assertThat(keys.capHit()).isTrue();
        assertThat(keys.add(List.of("new"))).as("forgotten: the cap is reported instead").isTrue();
        assertThat(keys.add(List.of("k7"))).as("kept keys are still checked").isFalse();
        assertThat(keys.size()).isEqualTo(50_000);
    }

    @Test
    void keyHashesKeepPartsAndNullsApart() {
        assertThat(KeyHashSet.hash(List.of("ab", "c"))).isNotEqualTo(KeyHashSet.hash(List.of("a", "bc")));
        assertThat(KeyHashSet.hash(java.util.Arrays.asList("a", null))).isNotEqualTo(KeyHashSet.hash(List.of("a", "")));
        assertThat(KeyHashSet.hash(List.of("x"))).isEqualTo(KeyHashSet.hash(List.of("x"))).isNotZero();
    }

    @Test
    void sampleSizeByRowsAsksForSlightlyMorePagesAndLimits() {
        RehearsalOptions byRows = new RehearsalOptions(null, 10_000, 7, 0, 0, 10, Duration.ZERO);
        SamplePlan big = SamplePlan.of(byRows, 1_000_000);
        assertThat(big.percent()).isCloseTo(1.15, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(big.clause()).isEqualTo("TABLESAMPLE SYSTEM (1.150000) REPEATABLE (7) LIMIT 10000");
        assertThat(SamplePlan.of(byRows, 5_000).percent()).as("a small table is read whole").isEqualTo(100);
        SamplePlan byPercent = SamplePlan.of(new RehearsalOptions(2.5, 0, 3, 0, 0, 10, Duration.ZERO), 1_000_000);
        assertThat(byPercent.clause()).isEqualTo("TABLESAMPLE SYSTEM (2.500000) REPEATABLE (3)");
    }

    @Test
    void columnProfileCountsCharactersBytesNullsAndLengthsInPowersOfTwo() {
        ColumnProfile p = new ColumnProfile(new Column("c", ColumnType.parse("text"), false));
        p.observe(null);
        p.observe("");
        p.observe("a");
        p.observe("Zoë 🙂");
        p.observe("x".repeat(2_097_152));
        assertThat(p.values()).isEqualTo(5);
        assertThat(p.nullShare()).isEqualTo(0.2);
        assertThat(p.longestChars()).isEqualTo(2_097_152);
        assertThat(ColumnProfile.utf8Length("Zoë 🙂")).as("Z o ë(2) space 🙂(4)").isEqualTo(9);
        long[] h = p.lengthHistogram();
        assertThat(h[0]).as("empty").isEqualTo(1);
        assertThat(h[1]).as("1 char").isEqualTo(1);
        assertThat(h[3]).as("5 chars: 4..7").isEqualTo(1);
        assertThat(h[22]).as("2^21 chars").isEqualTo(1);
    }

    @Test
    void dlqShareAtTheAllowedMaximumIsReadyAndAnyDuplicateBlocks() {
        RehearsalReport.Wal wal = new RehearsalReport.Wal(0.0, 1, null);
        RehearsalReport.TableReport atMax = table(10, 0);
        assertThat(VerdictRules.judge(List.of(atMax), wal, 0.01).ready()).isTrue();
        assertThat(VerdictRules.judge(List.of(atMax), wal, 0.01).warnings()).anySatisfy(w -> assertThat(w).contains("within --max-dlq-share"));
        assertThat(VerdictRules.judge(List.of(atMax), wal, 0.009).ready()).isFalse();
        RehearsalReport.Verdict dup = VerdictRules.judge(List.of(table(0, 1)), wal, 1);
        assertThat(dup.ready()).isFalse();
        assertThat(dup.line()).contains("1 sampled rows map to a target key another row already has");
    }

    private static RehearsalReport.TableReport table(long dlq, long duplicates) {
        long rows = 1000;
        List<RehearsalReport.RejectGroup> reasons = dlq == 0 ? List.of()
                : List.of(new RehearsalReport.RejectGroup("cast failure", "amount", dlq, (double) dlq / rows, List.of("id=1"), "m"));
        RehearsalReport.Outcome o = new RehearsalReport.Outcome(rows - dlq - duplicates, 0, dlq, (double) dlq / rows, reasons, duplicates,
                (double) duplicates / rows, List.of(), duplicates, duplicates, false, null);
        return new RehearsalReport.TableReport("public.t", "public.t2", new TableFacts(rows, "catalog", 8192, 0),
                new RehearsalReport.Sample("SYSTEM(100%)", rows, 1, 0.1, 0), o, List.of(), new RehearsalReport.CostPerRow(1, 1, 1, 1),
                new RehearsalReport.Projection(new DurationModel.Estimate(0.004, 0.003, 0.005, List.of()), 100, 1.0, 8192, 0L, true));
    }
}
