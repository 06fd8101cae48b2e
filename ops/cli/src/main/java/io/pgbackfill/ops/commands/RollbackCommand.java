package io.pgbackfill.ops.commands;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.reverse.ReversePlan;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.ops.rollback.Rollback;
import java.io.PrintStream;
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

    @Option(names = "--json", description = "Prints the outcome as one JSON object on stdout; the progress lines go to stderr (schema: docs/json-output.md).")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (spec.reverse()) {
            System.out.println("rollback works on the spec as written: drop --reverse");
            return ExitCode.CANNOT_START;
        }
        PipelineSpec forward = spec.forwardSpec();
        MigrationPlan reverse = ReversePlan.connect(forward, spec.file().toString(), switchCommand);
        PrintStream out = json ? System.err : System.out;
        Rollback.Outcome o = new Rollback(forward, reverse, out).run(new Rollback.Options(Duration.ofMillis(maxLagMs), Duration.ofSeconds(drainTimeout),
                confirmFile, Duration.ofSeconds(confirmTimeout), switchCommand, acceptDeadLetters));
        if (!o.refusals().isEmpty()) {
            out.println("rollback refused:");
            o.refusals().forEach(r -> out.println("  - " + r));
            return json(ExitCode.PROBLEM, "refused", o);
        }
        out.println(o.done() ? "rollback: DONE, write pause " + o.cutover().pauseMillis() + " ms" : "rollback: NOT DONE (nothing changed)");
        return json(o.done() ? ExitCode.OK : ExitCode.PROBLEM, o.done() ? "done" : "not done", o);
    }

    /** With --json, the outcome as one object on stdout, in the shape of cutover's (docs/json-output.md); returns {@code exit}. */
    private int json(int exit, String result, Rollback.Outcome o) throws Exception {
        if (!json) {
            return exit;
        }
        ObjectNode root = EventCodec.MAPPER.createObjectNode();
        root.put("kind", "rollback");
        root.put("result", result);
        root.put("done", o.done());
        ArrayNode refusals = root.putArray("refusals");
        o.refusals().forEach(refusals::add);
        if (o.cutover() != null) {
            root.put("writePauseMillis", o.cutover().pauseMillis());
            ArrayNode log = root.putArray("log");
            o.cutover().log().forEach(log::add);
        }
        System.out.println(EventCodec.MAPPER.writeValueAsString(root));
        return exit;
    }
}
