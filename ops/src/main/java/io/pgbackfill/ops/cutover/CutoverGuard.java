package io.pgbackfill.ops.cutover;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.ops.preflight.Check;
import io.pgbackfill.ops.preflight.Preflight;
import io.pgbackfill.ops.status.PipelineStatus;
import io.pgbackfill.ops.verify.VerifyLog;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The conditions under which a cutover may even start (gh-ost style: never cut over with lag):
 * preflight passes, no consumer group has lag, the last verify was clean. Each refusal says why.
 */
public final class CutoverGuard {
    private CutoverGuard() {
    }

    public static List<String> refusals(PipelineSpec spec, String specFile) throws Exception {
        List<String> why = new ArrayList<>();
        List<Check> checks = new Preflight(spec, specFile).run();
        if (!Preflight.passed(checks)) {
            checks.stream().filter(c -> c.verdict() == Check.Verdict.FAIL).forEach(c -> why.add("preflight: " + c.name() + ": " + c.detail()));
        }
        PipelineStatus status = PipelineStatus.read(spec, null);
        if (!status.slot().exists()) {
            why.add("the replication slot " + spec.slotName() + " does not exist: the pipeline is not running");
        }
        if (status.totalLag() > 0) {
            why.add("lag is " + status.totalLag() + " events (transformer " + status.groups().get(0).total() + ", sink " + status.groups().get(1).total()
                    + "): wait until `backfill status` shows 0");
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
        return why;
    }
}
