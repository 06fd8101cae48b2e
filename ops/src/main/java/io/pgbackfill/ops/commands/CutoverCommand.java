package io.pgbackfill.ops.commands;

import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.ops.BackfillCli;
import io.pgbackfill.ops.cutover.Cutover;
import io.pgbackfill.ops.cutover.CutoverGuard;
import io.pgbackfill.ops.status.PipelineStatus;
import io.pgbackfill.ops.verify.VerifyLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "cutover", mixinStandardHelpOptions = true,
        description = {"Guarded, atomic switch to the new table. Refuses unless preflight passes, lag is zero and the last verify was clean.",
                "Same database: blocks writes (short lock_timeout, retried), drains to a fence, re-verifies rows changed since the",
                "last verify, then renames old -> old_<suffix> and new -> old and moves sequences, in one transaction; reports the",
                "write pause. New cluster: blocks writes, drains, syncs target sequences, runs cutover.switchCommand (or waits for",
                "--confirm-file), then releases. Exit 0 switched; 1 refused or aborted (nothing changed)."})
public final class CutoverCommand implements Callable<Integer> {
    @Mixin
    SpecArgs spec;

    @Option(names = "--postpone-flag", description = "while this file exists, keep the target in sync and wait; delete it to cut over")
    Path postponeFlag;

    @Option(names = "--panic-flag", description = "if this file appears while postponed, abort (exit 1)")
    Path panicFlag;

    @Option(names = "--max-lag-ms", defaultValue = "5000", description = "refuse unless the target catches up with the source within this (default ${DEFAULT-VALUE})")
    long maxLagMs;

    @Option(names = "--drain-timeout", defaultValue = "30", description = "seconds writes may stay blocked while the target drains (default ${DEFAULT-VALUE})")
    long drainTimeout;

    @Option(names = "--confirm-file", defaultValue = "cutover.confirm", description = "new cluster without switchCommand: created by the operator once the app points at the target")
    Path confirmFile;

    @Option(names = "--confirm-timeout", defaultValue = "300", description = "seconds to wait for the switch (default ${DEFAULT-VALUE})")
    long confirmTimeout;

    @Override
    public Integer call() throws Exception {
        MigrationPlan plan = spec.plan();
        while (postponeFlag != null && Files.exists(postponeFlag)) {
            if (panicFlag != null && Files.exists(panicFlag)) {
                System.out.println("panic flag " + panicFlag + " found: cutover abandoned, nothing changed");
                return BackfillCli.PROBLEM;
            }
            PipelineStatus s = PipelineStatus.read(plan.spec(), null);
            System.out.println(java.time.LocalTime.now().withNano(0) + " postponed (delete " + postponeFlag + " to cut over, create " + panicFlag
                    + " to abort): lag " + s.totalLag() + " events, last verify " + VerifyLog.last(plan.spec()).map(r -> r.clean() ? "clean" : "NOT clean").orElse("missing"));
            long next = System.currentTimeMillis() + 5000;
            while (System.currentTimeMillis() < next && Files.exists(postponeFlag) && (panicFlag == null || !Files.exists(panicFlag))) {
                Thread.sleep(200); // react to the flags within 200 ms, report every 5 s
            }
        }
        List<String> refusals = CutoverGuard.refusals(plan.spec(), spec.file().toString(), Duration.ofMillis(maxLagMs));
        if (!refusals.isEmpty()) {
            System.out.println("cutover refused:");
            refusals.forEach(r -> System.out.println("  - " + r));
            return BackfillCli.PROBLEM;
        }
        long lastVerifyLsn = VerifyLog.last(plan.spec()).orElseThrow().sourceLsn();
        Cutover.Outcome o = new Cutover(plan, System.out, Duration.ofSeconds(drainTimeout), confirmFile, Duration.ofSeconds(confirmTimeout)).run(lastVerifyLsn);
        System.out.println(o.done() ? "cutover: DONE, write pause " + o.pauseMillis() + " ms. Next: stop the pipeline, then `backfill teardown SPEC`."
                : "cutover: NOT DONE (nothing changed)");
        return o.done() ? BackfillCli.OK : BackfillCli.PROBLEM;
    }
}
