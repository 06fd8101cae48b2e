package io.pgbackfill.ops.commands;

import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.ops.BackfillCli;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.verify.Verifier;
import io.pgbackfill.ops.verify.VerifyLog;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Compares source and target without loading either into memory: walks the source key space in chunks,",
                "applies the spec's transform (the transformer's own code), compares one hash per chunk with the target and",
                "lists the keys of differing chunks (missing, different, extra). While the pipeline runs, differences are",
                "re-checked once the target has caught up. Exit 0 clean, 1 mismatches."})
public final class VerifyCommand implements Callable<Integer> {
    @Mixin
    SpecArgs spec;

    @Option(names = "--chunk", defaultValue = "10000", description = "rows per chunk (default ${DEFAULT-VALUE})")
    int chunk;

    @Option(names = "--throttle", defaultValue = "0", description = "at most this many source rows per second; 0 = unthrottled (default)")
    long throttle;

    @Option(names = "--no-recheck", description = "report differences at once, without waiting for the pipeline to catch up")
    boolean noRecheck;

    @Override
    public Integer call() throws Exception {
        MigrationPlan plan = spec.plan();
        long lsn = CatchUp.fence(plan.spec());
        List<Verifier.Report> reports = new Verifier(plan, chunk, throttle, System.out::println).verify();
        long mismatches = reports.stream().mapToLong(r -> r.mismatches().size()).sum();
        if (mismatches > 0 && !noRecheck) {
            System.out.println(mismatches + " differences; waiting for the pipeline to catch up, then checking again...");
            try {
                lsn = CatchUp.await(plan.spec(), false, Duration.ofMinutes(5), () -> true);
                reports = new Verifier(plan, chunk, throttle, System.out::println).verify();
                mismatches = reports.stream().mapToLong(r -> r.mismatches().size()).sum();
            } catch (IllegalStateException e) {
                System.out.println("the pipeline did not catch up (" + e.getMessage() + "); reporting the first pass");
            }
        }
        for (Verifier.Report r : reports) {
            System.out.printf(Locale.ROOT, "%s: %,d source rows, %,d expected in target, %,d would go to the DLQ, %d chunks, %d differing%n",
                    r.table(), r.sourceRows(), r.expectedRows(), r.rejectedRows(), r.chunks(), r.chunksDiffering());
            r.mismatches().stream().limit(100).forEach(m -> System.out.println("  " + m));
            if (r.mismatches().size() > 100) {
                System.out.println("  ... and " + (r.mismatches().size() - 100) + " more");
            }
        }
        VerifyLog.record(plan.spec(), mismatches == 0, lsn, mismatches);
        System.out.println(mismatches == 0 ? "verify: CLEAN" : "verify: " + mismatches + " MISMATCHES");
        return mismatches == 0 ? BackfillCli.OK : BackfillCli.PROBLEM;
    }
}
