package io.pgbackfill.ops.rollback;

import io.pgbackfill.core.reverse.ReversePipeline;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.ops.cutover.Cutover;
import io.pgbackfill.ops.dlq.DeadLetterTopic;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.verify.Verifier;
import io.pgbackfill.ops.verify.VerifyLog;
import io.pgbackfill.producer.SourceSetup;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code backfill rollback SPEC}: the guarded switch back to the old tables, which the reverse stream has kept
 * current since the cutover. Guard: the reverse slot exists, the old tables catch up with a fence within max-lag, a
 * verify of the reverse mapping (every old row equals the reverse mapping of its new row, at a point in time, while
 * the application writes) is clean, and the reverse dead letters are none or accepted. Then the cutover of the reverse
 * pipeline ({@link Cutover} with {@link RollbackSteps}): writes to the new tables are blocked only for the drain and
 * the re-check of the last moments, and the pause is reported.
 */
public final class Rollback {
    /** Refusals (empty when it went ahead) and, when it went ahead, the reverse cutover's outcome. */
    public record Outcome(List<String> refusals, Cutover.Outcome cutover) {
        public boolean done() {
            return cutover != null && cutover.done();
        }
    }

    /** How the rollback runs; the same knobs as cutover's. */
    public record Options(Duration maxLag, Duration drainTimeout, Path confirmFile, Duration confirmTimeout, String switchCommand, boolean acceptDeadLetters) {
    }

    private final PipelineSpec forward;
    private final MigrationPlan reverse;
    private final PrintStream out;

    public Rollback(PipelineSpec forward, MigrationPlan reverse, PrintStream out) {
        this.forward = forward;
        this.reverse = reverse;
        this.out = out;
    }

    public Outcome run(Options o) throws Exception {
        PipelineSpec rs = reverse.spec();
        List<String> why = new ArrayList<>();
        ReversePipeline.missing(forward).forEach(t -> why.add("table " + t.target().text() + " has no 'reverse' block"));
        try (Connection c = rs.source().open()) {
            if (!SourceSetup.slotExists(c, rs)) {
                why.add("no reverse stream: slot " + rs.slotName() + " does not exist (cut over with --reverse-stream, then run `backfill up SPEC --reverse`)");
            }
        }
        if (!why.isEmpty()) {
            return new Outcome(why, null);
        }
        try {
            CatchUp.await(rs, false, o.maxLag(), () -> true);
        } catch (Exception e) {
            why.add("lag: the old tables did not catch up with the new ones within " + o.maxLag().toMillis()
                    + " ms; is the reverse stream running (`backfill status SPEC --reverse`)?");
            return new Outcome(why, null);
        }
        // The verify of the reverse mapping: with writes open, at a point in time, like `backfill verify SPEC --reverse`.
        long mark = CatchUp.await(rs, false, o.drainTimeout(), () -> true);
        List<Verifier.Report> reports = new Verifier(reverse, 10_000, 0, s -> { }, Verifier.DEFAULT_PARALLELISM, Verifier.Settling.whilePipelineRuns()).verify();
        long mismatches = reports.stream().mapToLong(r -> r.mismatches().size()).sum();
        VerifyLog.record(rs, mismatches == 0, mark, mismatches);
        long rows = reports.stream().mapToLong(Verifier.Report::expectedRows).sum();
        if (mismatches > 0) {
            reports.forEach(r -> r.mismatches().stream().limit(20).forEach(m -> out.println("  " + m)));
            why.add(mismatches + " old rows differ from the reverse mapping of their new rows: the reverse mapping is not the inverse of the forward one "
                    + "for them, or they changed behind the reverse stream (see `backfill verify SPEC --reverse`)");
            return new Outcome(why, null);
        }
        out.printf(Locale.ROOT, "verify of the reverse mapping: CLEAN (%,d rows)%n", rows);
        DeadLetterTopic.Outstanding letters = new DeadLetterTopic(rs).outstanding();
        if (letters.total() > 0) {
            if (o.acceptDeadLetters()) {
                out.printf(Locale.ROOT, "accepting %,d reverse dead letters (new rows the old tables will not have): %s%n", letters.total(), letters.describe());
            } else {
                why.add(String.format(Locale.ROOT, "the reverse dead-letter topics hold %,d rows the old tables lack (%s): see `backfill dlq show SPEC --reverse`, "
                        + "fix the reverse mapping and `backfill dlq replay SPEC --reverse`, or roll back without them with --accept-dead-letters",
                        letters.total(), letters.describe()));
                return new Outcome(why, null);
            }
        }
        Cutover.Outcome done = new Cutover(reverse, out, o.drainTimeout(), o.confirmFile(), o.confirmTimeout(), new RollbackSteps(forward, rs, out))
                .run(mark, letters, o.acceptDeadLetters());
        return new Outcome(List.of(), done);
    }
}
