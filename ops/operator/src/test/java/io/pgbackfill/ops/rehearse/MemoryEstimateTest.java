package io.pgbackfill.ops.rehearse;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbackfill.core.memory.MemoryBudget;
import io.pgbackfill.core.spec.MemorySpec;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The peak-heap estimate of rehearse, against hand-computed figures (docs/rehearse.md). */
class MemoryEstimateTest {
    static final long MIB = MemoryBudget.MIB;

    @Test
    void smallRowsAreHeldByRowCountsAndFitAnyHeap() {
        MemoryBudget budget = MemoryBudget.derive(MemorySpec.DEFAULT, 1024 * MIB, 3); // backfill up at -Xmx1g
        assertThat(budget.stageBytes()).isEqualTo((1024 - 96) * MIB / 24);
        MemoryEstimate e = MemoryEstimate.of(budget, 5000, 300, 2_000);
        assertThat(e.heldPerStageBytes()).as("8192 rows of 300 bytes, under the budget").isEqualTo(8192 * 300L);
        assertThat(e.peakBytes()).isEqualTo(96 * MIB + 3 * (4 * 8192 * 300L + 6 * 2_000L));
        assertThat(e.fits()).isTrue();
        assertThat(e.problem()).isNull();
    }

    @Test
    void megabyteRowsAreHeldByTheByteBudgetSoTheIssueTableFitsTheDefaultHeap() {
        // Issue 22: 1 MiB documents through backfill up at -Xmx1g; with row counts alone 8192 of them would be 8 GiB.
        MemoryBudget budget = MemoryBudget.derive(MemorySpec.DEFAULT, 1024 * MIB, 3);
        MemoryEstimate e = MemoryEstimate.of(budget, 5000, MIB + 200, MIB + 200);
        assertThat(e.heldPerStageBytes()).isEqualTo(budget.stageBytes());
        assertThat(e.peakBytes()).isEqualTo(96 * MIB + 3 * (4 * budget.stageBytes() + 6 * (MIB + 200)));
        assertThat(e.fits()).isTrue();
    }

    @Test
    void aBudgetTooLargeForTheHeapIsNotReadyAndNamesTheBudgetToLower() {
        MemoryBudget budget = MemoryBudget.derive(new MemorySpec(200), 1024 * MIB, 3);
        MemoryEstimate e = MemoryEstimate.of(budget, 5000, MIB, 2 * MIB);
        // 96 + 3 × (4 × 200 + 6 × 2) MiB = 2532 MiB
        assertThat(e.peakBytes()).isEqualTo(2532 * MIB);
        assertThat(e.fits()).isFalse();
        // Room per stage: (1024 − 96 − 3 × 12) / 3 / 4 = 74 MiB
        // The budget is set in the spec, so a larger heap does not grow it: 1024 + 24 × 64 MiB is the first step that fits.
        assertThat(e.neededHeapBytes()).isEqualTo(2560 * MIB);
        assertThat(e.problem()).contains("lower memory.stageBudgetMiB to 74").contains("it is 200)").contains("-Xmx2560m");
        RehearsalReport.Verdict v = VerdictRules.judge(List.of(), new RehearsalReport.Wal(1.0, 1, null), 0, e);
        assertThat(v.ready()).isFalse();
        assertThat(v.blocking()).singleElement().asString().startsWith("predicted peak heap");
    }

    @Test
    void aRecordTooLargeForTheHeapAsksForMoreHeapOrSeparateServices() {
        // 62 MiB values through backfill up at -Xmx512m: even one at a time, three stages need 96 + 3 × 6 × 62 MiB.
        MemoryBudget up = MemoryBudget.derive(MemorySpec.DEFAULT, 512 * MIB, 3);
        MemoryEstimate e = MemoryEstimate.of(up, 5000, MIB, 62 * MIB);
        assertThat(e.fits()).isFalse();
        // A derived budget grows with the heap: the heap must cover 96 MiB + twice the largest records' share.
        assertThat(e.neededHeapBytes()).isGreaterThanOrEqualTo((96 + 2 * 3 * 6 * 62) * MIB);
        assertThat(MemoryEstimate.of(MemoryBudget.derive(MemorySpec.DEFAULT, e.neededHeapBytes(), 3), 5000, MIB, 62 * MIB).fits()).isTrue();
        assertThat(e.problem()).contains("raise the heap to at least -Xmx" + e.neededHeapBytes() / MIB + "m").contains("separate services");
        // The same rows through the three services, one JVM of 512 MiB each: 96 + 4 × 52 + 6 × 62 = 676 MiB > 512 still,
        // and 1 GiB each fits.
        MemoryEstimate service512 = MemoryEstimate.of(MemoryBudget.derive(MemorySpec.DEFAULT, 512 * MIB, 1), 5000, MIB, 62 * MIB);
        assertThat(service512.peakBytes()).isEqualTo(676 * MIB);
        MemoryEstimate service = MemoryEstimate.of(MemoryBudget.derive(MemorySpec.DEFAULT, 1024 * MIB, 1), 5000, MIB, 62 * MIB);
        assertThat(service.fits()).isTrue();
    }

    @Test
    void rehearseDefaultsToThreeStagesInThisJvmsHeap() {
        RehearsalOptions o = new RehearsalOptions(null, 10, 1, 0, 0, 10, Duration.ZERO);
        assertThat(o.stagesPerJvm()).isEqualTo(3);
        assertThat(o.heapBytes()).isZero();
    }
}
