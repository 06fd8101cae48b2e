package io.pgbackfill.ops.commands;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.core.control.ControlTopic;
import io.pgbackfill.ops.control.CutoverHold;
import io.pgbackfill.ops.control.Hooks;
import io.pgbackfill.ops.cutover.Cutover;
import io.pgbackfill.ops.cutover.CutoverGuard;
import io.pgbackfill.ops.cutover.SwitchSteps;
import io.pgbackfill.ops.cutover.reverse.ReverseStream;
import io.pgbackfill.core.reverse.ReversePipeline;
import io.pgbackfill.core.reverse.ReversePlan;
import io.pgbackfill.ops.status.PipelineStatus;
import io.pgbackfill.ops.verify.ContinuousVerify;
import io.pgbackfill.ops.verify.Verifier;
import io.pgbackfill.ops.verify.VerifyLog;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "cutover", mixinStandardHelpOptions = true,
        description = {"Switches the application to the new table in one short, guarded step.",
                "It refuses unless preflight passes, the target catches up within --max-lag-ms, the snapshot is done, the last verify",
                "was clean, and the dead-letter topics are empty or --accept-dead-letters says that their rows may stay behind.",
                "While the application still writes, it re-checks the rows written since the last verify. Then it blocks writes",
                "to the source tables (short lock_timeout, retried), waits until the target has everything, re-checks only the rows",
                "written in the last moments (never a whole table), and either renames old -> old_<suffix> and new -> old and moves",
                "sequences in one transaction (same database), or syncs the target's sequences and runs cutover.switchCommand or",
                "waits for --confirm-file (new cluster). It reports the write pause.",
                "With --postpone-flag it keeps verifying what changes and waits while the file exists; `backfill ctl SPEC postpone-cutover`",
                "makes it wait too (shown in status), and `backfill ctl SPEC cancel-cutover` abandons it. A failing hooks.beforeCutover refuses it.",
                "Exit codes: 0 switched; 1 refused or aborted, and nothing changed."})
public final class CutoverCommand implements Callable<Integer> {
    @Mixin
    SpecArgs spec;

    @Option(names = "--accept-dead-letters", description = "Cut over although the dead-letter topics hold rows: those rows will not be in the new table. "
            + "The count by reason is printed.")
    boolean acceptDeadLetters;

    @Option(names = "--postpone-flag", description = "While this file exists, keep the target in sync, keep verifying what changes, and wait; delete it to cut over.")
    Path postponeFlag;

    @Option(names = "--panic-flag", description = "If this file appears while postponed, abandon the cutover (exit 1).")
    Path panicFlag;

    @Option(names = "--max-lag-ms", defaultValue = "5000", description = "Refuse unless the target catches up with the source within this many milliseconds (default ${DEFAULT-VALUE}).")
    long maxLagMs;

    @Option(names = "--drain-timeout", defaultValue = "30", description = "Seconds writes may stay blocked while the target drains (default ${DEFAULT-VALUE}).")
    long drainTimeout;

    @Option(names = "--confirm-file", defaultValue = "cutover.confirm", description = "New cluster without switchCommand: the operator creates this file once the application points at the target.")
    Path confirmFile;

    @Option(names = "--confirm-timeout", defaultValue = "60", description = {"Seconds to wait for the switch on a new cluster (default ${DEFAULT-VALUE}).",
            "Writes to the source stay blocked meanwhile: set it to what the switch really needs."})
    long confirmTimeout;

    @Option(names = "--reverse-stream", description = {"Keep a way back: the old tables stay (same database: renamed NAME_<oldSuffix>), and a reverse",
            "stream from the switch point (start it with `backfill up SPEC --reverse`) keeps them current through the spec's 'reverse'",
            "blocks, for `backfill rollback SPEC`. Every table needs a 'reverse' block."})
    boolean reverseStream;

    @Option(names = "--json", description = "Prints the outcome as one JSON object on stdout; the progress lines go to stderr (schema: docs/json-output.md).")
    boolean json;

    @Override
    public Integer call() throws Exception {
        PrintStream out = json ? System.err : System.out;
        if (spec.reverse()) {
            out.println("cutover of the reverse stream: that is `backfill rollback SPEC`");
            return ExitCode.CANNOT_START;
        }
        long startedAt = System.currentTimeMillis();
        MigrationPlan plan = spec.plan();
        java.util.Optional<String> cancelled = CutoverHold.await(plan.spec(), startedAt, out); // backfill ctl SPEC postpone-cutover
        if (cancelled.isPresent()) {
            out.println(cancelled.get() + ": nothing changed");
            return json(ExitCode.PROBLEM, "abandoned", null, null);
        }
        SwitchSteps steps = SwitchSteps.NONE;
        if (reverseStream) {
            if (!ReversePipeline.missing(plan.spec()).isEmpty()) {
                out.println("--reverse-stream: tables without a 'reverse' block: " + ReversePipeline.missing(plan.spec()).stream().map(t -> t.target().text()).toList());
                return ExitCode.CANNOT_START;
            }
            ReversePlan.connect(plan.spec(), spec.file().toString()); // the reverse mappings compile against both catalogs, or nothing starts
            steps = new ReverseStream(plan.spec(), out);
        }
        if (postponeFlag != null && Files.exists(postponeFlag)) {
            Integer abandoned = postponed(plan, out);
            if (abandoned != null) {
                return json(abandoned, "abandoned", null, null);
            }
        }
        CutoverGuard.Verdict verdict = CutoverGuard.check(plan.spec(), spec.file().toString(), Duration.ofMillis(maxLagMs), acceptDeadLetters, out);
        if (!verdict.go()) {
            out.println("cutover refused:");
            verdict.refusals().forEach(r -> out.println("  - " + r));
            return json(ExitCode.PROBLEM, "refused", verdict, null);
        }
        Hooks hooks = new Hooks(plan.spec(), "cutover");
        Hooks.Outcome before = hooks.run(Hooks.BEFORE_CUTOVER, ControlTopic.read(plan.spec()), java.util.Map.of());
        if (!before.ok()) {
            out.println("cutover refused:");
            out.println("  - the beforeCutover hook failed (exit " + before.exitCode() + ")" + (before.output().isEmpty() ? "" : ": " + before.output()));
            return json(ExitCode.PROBLEM, "refused", verdict, null);
        }
        long lastVerifyLsn = VerifyLog.last(plan.spec()).orElseThrow().sourceLsn();
        Cutover.Outcome o = new Cutover(plan, out, Duration.ofSeconds(drainTimeout), confirmFile, Duration.ofSeconds(confirmTimeout), steps)
                .run(lastVerifyLsn, verdict.deadLetters(), acceptDeadLetters);
        if (o.done()) {
            hooks.run(Hooks.AFTER_CUTOVER, ControlTopic.read(plan.spec()), java.util.Map.of("PGBACKFILL_WRITE_PAUSE_MS", Long.toString(o.pauseMillis())));
        }
        out.println(o.done() ? "cutover: DONE, write pause " + o.pauseMillis() + " ms. Next: stop the pipeline, then `backfill teardown SPEC`"
                + (reverseStream ? "; start the reverse stream: `backfill up SPEC --reverse`." : ".") : "cutover: NOT DONE (nothing changed)");
        return json(o.done() ? ExitCode.OK : ExitCode.PROBLEM, o.done() ? "done" : "not done", verdict, o);
    }

    /** With --json, the outcome as one object on stdout (docs/json-output.md); returns {@code exit}. */
    private int json(int exit, String result, CutoverGuard.Verdict verdict, Cutover.Outcome outcome) throws Exception {
        if (!json) {
            return exit;
        }
        ObjectNode root = EventCodec.MAPPER.createObjectNode();
        root.put("kind", "cutover");
        root.put("result", result);
        root.put("done", outcome != null && outcome.done());
        ArrayNode refusals = root.putArray("refusals");
        if (verdict != null) {
            verdict.refusals().forEach(refusals::add);
            ObjectNode letters = root.putObject("deadLetters");
            letters.put("total", verdict.deadLetters() == null ? 0 : verdict.deadLetters().total());
            ObjectNode byReason = letters.putObject("byReason");
            if (verdict.deadLetters() != null) {
                verdict.deadLetters().byReason().forEach(byReason::put);
            }
            letters.put("accepted", acceptDeadLetters);
        }
        if (outcome != null) {
            root.put("writePauseMillis", outcome.pauseMillis());
            ArrayNode log = root.putArray("log");
            outcome.log().forEach(log::add);
        }
        System.out.println(EventCodec.MAPPER.writeValueAsString(root));
        return exit;
    }

    /** Waits while the postpone flag exists, verifying what changes every round; non-null when abandoned. */
    private Integer postponed(MigrationPlan plan, PrintStream out) throws Exception {
        ContinuousVerify watch = new ContinuousVerify(plan.spec(), new Verifier(plan, 10_000, 0, s -> { }), Duration.ofSeconds(drainTimeout));
        while (Files.exists(postponeFlag)) {
            if (panicFlag != null && Files.exists(panicFlag)) {
                out.println("panic flag " + panicFlag + " found: cutover abandoned, nothing changed");
                return ExitCode.PROBLEM;
            }
            PipelineStatus s = PipelineStatus.read(plan.spec(), null);
            String verified = VerifyLog.last(plan.spec()).map(r -> {
                if (!r.clean()) {
                    return "last verify NOT clean";
                }
                try {
                    ContinuousVerify.Round round = watch.round(r.sourceLsn());
                    return round.clean() ? "re-checked " + round.rechecked() + " changed rows: clean" : round.mismatches() + " changed rows differ";
                } catch (Exception e) {
                    return "re-check failed: " + e.getMessage();
                }
            }).orElse("no verify yet: run `backfill verify SPEC`");
            out.println(LocalTime.now().withNano(0) + " postponed (delete " + postponeFlag + " to cut over" + (panicFlag == null ? "" : ", create " + panicFlag
                    + " to abort") + "): lag " + s.totalLag() + " events; " + verified);
            long next = System.currentTimeMillis() + 5000;
            while (System.currentTimeMillis() < next && Files.exists(postponeFlag) && (panicFlag == null || !Files.exists(panicFlag))) {
                Thread.sleep(200); // react to the flags within 200 ms, report every 5 s
            }
        }
        return null;
    }
}
