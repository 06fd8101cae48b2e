package io.pgbackfill.ops.commands;

import io.pgbackfill.core.reverse.ReversePlan;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.ops.rollback.Rollback;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "rollback", mixinStandardHelpOptions = true,
        description = {"Switches the application back to the old tables after `cutover --reverse-stream`, keeping every write made since.",
                "The reverse stream (`backfill up SPEC --reverse`) keeps the old tables current with every write made to the new tables since the cutover.",
                "It refuses unless the reverse stream catches up within --max-lag-ms, a verify of the reverse mapping is clean (every old",
                "row equals the reverse mapping of its new row) and the reverse dead-letter topics are empty or accepted. Then it blocks",
                "writes to the new tables, drains, re-checks the rows written in the last moments, and either renames them back (same",
                "database: the new table gets its own name again) or moves the old cluster's sequences past the new cluster's values,",
                "runs --switch-command or waits for --confirm-file and makes the new tables read-only (new cluster). It reports the pause.",
                "Runbook: ops/runbooks/rollback.md. Exit codes: 0 rolled back; 1 refused or aborted, and nothing changed."})
public final class RollbackCommand implements Callable<Integer> {
    @Mixin
    SpecArgs spec;

    @Option(names = "--accept-dead-letters", description = "Roll back although the reverse dead-letter topics hold rows: those new rows will not be in the old tables.")
    boolean acceptDeadLetters;

    @Option(names = "--max-lag-ms", defaultValue = "5000", description = "Refuse unless the old tables catch up with the new ones within this many milliseconds (default ${DEFAULT-VALUE}).")
    long maxLagMs;

    @Option(names = "--drain-timeout", defaultValue = "30", description = "Seconds writes may stay blocked while the old tables drain (default ${DEFAULT-VALUE}).")
    long drainTimeout;

    @Option(names = "--switch-command", description = "New cluster: the command that points the application back at the old cluster (run with $PGBACKFILL_LSN).")
    String switchCommand;

    @Option(names = "--confirm-file", defaultValue = "rollback.confirm", description = "New cluster without --switch-command: create this file once the application points at the old cluster.")
    Path confirmFile;

    @Option(names = "--confirm-timeout", defaultValue = "60", description = "Seconds to wait for the switch back on a new cluster; writes to the new tables stay blocked meanwhile (default ${DEFAULT-VALUE}).")
    long confirmTimeout;

    @Override
    public Integer call() throws Exception {
        if (spec.reverse()) {
            System.out.println("rollback works on the spec as written: drop --reverse");
            return ExitCode.CANNOT_START;
        }
        PipelineSpec forward = spec.forwardSpec();
        MigrationPlan reverse = ReversePlan.connect(forward, spec.file().toString(), switchCommand);
        Rollback.Outcome o = new Rollback(forward, reverse, System.out).run(new Rollback.Options(Duration.ofMillis(maxLagMs), Duration.ofSeconds(drainTimeout),
                confirmFile, Duration.ofSeconds(confirmTimeout), switchCommand, acceptDeadLetters));
        if (!o.refusals().isEmpty()) {
            System.out.println("rollback refused:");
            o.refusals().forEach(r -> System.out.println("  - " + r));
            return ExitCode.PROBLEM;
        }
        System.out.println(o.done() ? "rollback: DONE, write pause " + o.cutover().pauseMillis() + " ms" : "rollback: NOT DONE (nothing changed)");
        return o.done() ? ExitCode.OK : ExitCode.PROBLEM;
    }
}
