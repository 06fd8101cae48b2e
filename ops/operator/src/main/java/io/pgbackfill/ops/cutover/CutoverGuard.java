package io.pgbackfill.ops.cutover;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.ops.preflight.Check;
import io.pgbackfill.ops.preflight.Preflight;
import io.pgbackfill.ops.status.PipelineStatus;
import io.pgbackfill.ops.verify.VerifyLog;
import io.pgbackfill.ops.dlq.DeadLetterTopic;
import io.pgbackfill.ops.pipeline.CatchUp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The conditions under which a cutover may even start (gh-ost style: never cut over with lag):
 * preflight passes, the target catches up with a fence within max-lag, the last verify was clean, and the dead letters
 * are none or accepted. Each refusal says why.
 */
public final class CutoverGuard {
    private CutoverGuard() {
    }

    private static boolean caughtUpWithin(PipelineSpec spec, Duration maxLag) {
        try {
            CatchUp.await(spec, false, maxLag, () -> true);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** Why not (empty: go), and the dead letters counted, which the cutover compares with what arrives later. */
    public record Verdict(List<String> refusals, DeadLetterTopic.Outstanding deadLetters) {
        public boolean go() {
            return refusals.isEmpty();
        }
    }

    /**
     * @param acceptDeadLetters the operator accepts that the rows in the dead-letter topics are not migrated
     * @param out               where acceptance is reported
     */
    public static Verdict check(PipelineSpec spec, String specFile, Duration maxLag, boolean acceptDeadLetters, java.io.PrintStream out) throws Exception {
        List<String> why = new ArrayList<>();
        List<Check> checks = new Preflight(spec, specFile).run();
        if (!Preflight.passed(checks)) {
            checks.stream().filter(c -> c.verdict() == Check.Verdict.FAIL).forEach(c -> why.add("preflight: " + c.name() + ": " + c.detail()));
        }
        PipelineStatus status = PipelineStatus.read(spec, null);
        if (!status.slot().exists()) {
            why.add("the replication slot " + spec.slotName() + " does not exist: the pipeline is not running");
        }
        if (status.slot().exists() && !caughtUpWithin(spec, maxLag)) {
            // Under live writes a group's lag is rarely exactly 0 at one instant; "no lag" means the target reaches a
            // fence written now within maxLag (gh-ost's max-lag-millis).
            why.add("lag: the target did not catch up with the source within " + maxLag.toMillis() + " ms (consumer lag now: transformer "
                    + status.groups().get(0).total() + ", sink " + status.groups().get(1).total() + " events); wait until `backfill status` shows it draining");
        }
        status.snapshot().forEach((t, s) -> {
            if (!s.done()) {
                why.add("the snapshot of " + t + " has not finished");
            }
        });
        Optional<VerifyLog.Run> last = VerifyLog.last(spec);
        if (last.isEmpty()) {
            why.add("no verify has run: run `backfill verify SPEC` first");
        } else if (!last.get().clean()) {
            why.add("the last verify found " + last.get().mismatches() + " mismatches: fix them and verify again");
        }
        // One notion of "expected" with verify: rows in the DLQ are not differences, but they are not migrated either,
        // so the operator must say knowingly that they stay behind.
        DeadLetterTopic.Outstanding letters = new DeadLetterTopic(spec).outstanding();
        if (letters.total() > 0) {
            if (acceptDeadLetters) {
                out.printf(Locale.ROOT, "accepting %,d dead letters (rows that will not be in the new table): %s%n", letters.total(), letters.describe());
            } else {
                why.add(String.format(Locale.ROOT, "the dead-letter topics hold %,d rows that are not in the target (%s). Review them with "
                        + "`backfill dlq show SPEC` and replay them after a fix with `backfill dlq replay SPEC`, or cut over without them "
                        + "with --accept-dead-letters", letters.total(), letters.describe()));
            }
        }
        return new Verdict(why, letters);
    }
}
