package io.pgbackfill.ops.bench;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Everything one bench run measured, in the order it ran; the reports are views of it. */
public record BenchResults(Instant startedAt, double totalSeconds, MachineInfo machine, String loadAverageAtEnd, BenchOptions options,
                           List<ApproachResult> approaches, List<LagResult> lagPhases, List<String> problems) {

    /** pgbackfill's own result: every ratio in the reports is to it. */
    public Optional<ApproachResult> pgbackfill() {
        return approaches.stream().filter(a -> a.key().equals("pgbackfill")).findFirst();
    }

    /** An approach's rows/s over pgbackfill's, NaN when either did not produce a verified result. */
    public double ratioToPgbackfill(ApproachResult a) {
        double base = pgbackfill().map(ApproachResult::rowsPerSecond).orElse(Double.NaN);
        return a.rowsPerSecond() / base;
    }

    /** True when every approach that ran verified, every lag phase verified, and nothing else went wrong. */
    public boolean ok() {
        return problems.isEmpty()
                && approaches.stream().allMatch(a -> a.status() != ApproachResult.Status.FAILED)
                && lagPhases.stream().allMatch(LagResult::ok);
    }
}
