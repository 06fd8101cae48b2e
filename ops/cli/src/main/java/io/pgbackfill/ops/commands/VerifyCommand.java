package io.pgbackfill.ops.commands;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.verify.ContinuousVerify;
import io.pgbackfill.ops.verify.Verifier;
import io.pgbackfill.ops.verify.VerifyLog;
import java.time.Duration;
import java.time.LocalTime;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Compares the target with the spec's transform of the source, without loading either into memory.",
                "It walks the source key space in chunks, applies the transformer's own code, compares one checksum per chunk",
                "with the target and lists the keys of differing chunks (missing, different, extra). Rows the transform rejects",
                "belong to the dead-letter topics and are counted, not compared.",
                "While the pipeline runs, a key that differs is re-checked at a point in time: a snapshot of the source that",
                "the pipeline has passed, compared with a target row that did not change meanwhile. So a verify during",
                "writes is CLEAN when the pipeline is correct, and still reports rows changed behind its back, missing and extra.",
                "With --watch it then keeps re-checking the rows written since, so that cutover has little left to check.",
                "Exit codes: 0 clean; 1 mismatches; 2 cannot start."})
public final class VerifyCommand implements Callable<Integer> {
    @Mixin
    SpecArgs spec;

    @Option(names = "--chunk", defaultValue = "10000", description = "Rows per chunk (default ${DEFAULT-VALUE}).")
    int chunk;

    @Option(names = "--throttle", defaultValue = "0", description = "At most this many source rows per second; 0 means unthrottled (the default).")
    long throttle;

    @Option(names = "--no-recheck", description = "Report what the first pass sees, without re-checking differences at a point in time.")
    boolean noRecheck;

    @Option(names = "--watch", description = "After the full verify, re-check the rows written since, every --interval seconds, until stopped.")
    boolean watch;

    @Option(names = "--interval", defaultValue = "10", description = "Seconds between --watch rounds (default ${DEFAULT-VALUE}).")
    long interval;

    @Option(names = "--rounds", defaultValue = "0", description = "Stop --watch after this many rounds; 0 means run until stopped (the default).")
    int rounds;

    @Option(names = "--json", description = "Print the result as one JSON object per verify (and per --watch round) instead of text.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        MigrationPlan plan = spec.plan();
        boolean running = ContinuousVerify.pipelineRunning(plan.spec());
        Verifier.Settling settling = running && !noRecheck ? Verifier.Settling.whilePipelineRuns() : Verifier.Settling.NONE;
        // The mark: every target row written before this fence is covered by this verify (later ones by --watch or cutover).
        long mark = running ? CatchUp.await(plan.spec(), false, Duration.ofMinutes(5), () -> true) : CatchUp.fence(plan.spec());
        Verifier verifier = new Verifier(plan, chunk, throttle, json ? s -> { } : System.out::println, Verifier.DEFAULT_PARALLELISM, settling);
        List<Verifier.Report> reports = verifier.verify();
        long mismatches = reports.stream().mapToLong(r -> r.mismatches().size()).sum();
        VerifyLog.record(plan.spec(), mismatches == 0, mark, mismatches);
        print(reports, mismatches, "verify");
        if (!watch) {
            return mismatches == 0 ? ExitCode.OK : ExitCode.PROBLEM;
        }
        ContinuousVerify continuous = new ContinuousVerify(plan.spec(), verifier, Duration.ofMinutes(5));
        long since = mark;
        for (int round = 1; rounds == 0 || round <= rounds; round++) {
            Thread.sleep(Duration.ofSeconds(interval).toMillis());
            ContinuousVerify.Round r = continuous.round(since);
            since = r.mark();
            mismatches = r.mismatches();
            if (json) {
                print(r.reports(), r.mismatches(), "watch");
            } else {
                System.out.println(LocalTime.now().withNano(0) + " re-checked " + r.rechecked() + " rows written since the last round: "
                        + (r.clean() ? "CLEAN" : r.mismatches() + " MISMATCHES"));
                r.reports().forEach(rep -> rep.mismatches().stream().limit(100).forEach(m -> System.out.println("  " + m)));
            }
        }
        return mismatches == 0 ? ExitCode.OK : ExitCode.PROBLEM;
    }

    private void print(List<Verifier.Report> reports, long mismatches, String kind) throws Exception {
        if (json) {
            ObjectMapper om = new ObjectMapper();
            ObjectNode root = om.createObjectNode();
            root.put("kind", kind);
            root.put("clean", mismatches == 0);
            root.put("mismatches", mismatches);
            ArrayNode tables = root.putArray("tables");
            for (Verifier.Report r : reports) {
                ObjectNode t = tables.addObject();
                t.put("table", r.table());
                t.put("sourceRows", r.sourceRows());
                t.put("expectedRows", r.expectedRows());
                t.put("deadLetterRows", r.rejectedRows());
                t.put("chunks", r.chunks());
                t.put("chunksDiffering", r.chunksDiffering());
                t.put("rechecked", r.rechecked());
                t.put("note", r.note());
                ArrayNode ms = t.putArray("mismatches");
                r.mismatches().forEach(m -> ms.addObject().put("key", m.key()).put("kind", m.kind()));
            }
            System.out.println(om.writeValueAsString(root));
            return;
        }
        for (Verifier.Report r : reports) {
            System.out.printf(Locale.ROOT, "%s: %,d source rows, %,d expected in target, %,d would go to the DLQ, %d chunks, %d differing%s%n",
                    r.table(), r.sourceRows(), r.expectedRows(), r.rejectedRows(), r.chunks(), r.chunksDiffering(),
                    r.rechecked() > 0 ? String.format(Locale.ROOT, ", %,d keys re-checked at a point in time", r.rechecked()) : "");
            if (!r.note().isEmpty()) {
                System.out.println("  note: " + r.note());
            }
            r.mismatches().stream().limit(100).forEach(m -> System.out.println("  " + m));
            if (r.mismatches().size() > 100) {
                System.out.println("  ... and " + (r.mismatches().size() - 100) + " more (--json lists them all)");
            }
        }
        System.out.println(mismatches == 0 ? "verify: CLEAN" : "verify: " + mismatches + " MISMATCHES");
    }
}
