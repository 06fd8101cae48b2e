package io.pgbackfill.ops.commands;

import io.pgbackfill.embedded.Infrastructure;
import io.pgbackfill.ops.demo.DemoRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs the demo backfill on a bare machine.",
                "It uses embedded PostgreSQL (wal_level=logical) and an in-process Kafka broker (KRaft), or Testcontainers when Docker is reachable. Seeds users, migrates it into users_v2 with",
                "ops/examples/users-split.yaml while a writer keeps changing it, waits for the target to catch up and",
                "verifies it row for row. Exit 0 only when there are no mismatches."})
public final class DemoCommand implements Callable<Integer>, ToolCommand {
    @Option(names = "--rows", defaultValue = "100000", description = "users to seed (default ${DEFAULT-VALUE})")
    long rows;

    @Option(names = "--write-rate", defaultValue = "300", description = "writer operations per second during the backfill; 0 = no writer (default ${DEFAULT-VALUE})")
    int writeRate;

    @Option(names = "--partitions", defaultValue = "4", description = "Kafka partitions per topic (default ${DEFAULT-VALUE})")
    int partitions;

    @Option(names = "--spec", description = "spec file to run instead of the bundled ops/examples/users-split.yaml")
    Path spec;

    @Option(names = "--cutover", description = "After the verified backfill, run verify and cutover while a writer runs at --cutover-write-rate, and report the write pause.")
    boolean cutover;

    @Option(names = "--cutover-write-rate", defaultValue = "1000", description = "Writer operations per second during --cutover (default ${DEFAULT-VALUE}).")
    int cutoverWriteRate;

    @Option(names = "--seed", defaultValue = "42", description = "random seed of the writer (default ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws Exception {
        Path state = Files.createTempDirectory("pgbackfill-demo");
        System.out.println("starting PostgreSQL and Kafka...");
        try (Infrastructure infra = Infrastructure.start()) {
            System.out.println("infrastructure: " + infra.kind() + ", Kafka at " + infra.kafkaBootstrapServers());
            DemoRun.Result r = new DemoRun(infra, new DemoRun.Options(rows, writeRate, partitions, state, spec, seed, cutover, cutoverWriteRate), System.out).run();
            System.out.printf(Locale.ROOT, "%nsummary: %,d source rows, %,d target rows, %,d snapshot reads, %,d writer operations%n",
                    r.sourceRows(), r.targetRows(), r.snapshotRowsRead(), r.writerOps());
            System.out.printf(Locale.ROOT, "         %.1f s end to end incl. verify (%,.0f rows/s), verify %.1f s, peak heap %d MiB%n",
                    r.seconds(), r.sourceRows() / r.seconds(), r.verifyMillis() / 1000.0, r.peakHeapBytes() >> 20);
            System.out.printf(Locale.ROOT, "         mismatches: %d (spec transform), %d (independent SQL check)%n", r.mismatches(), r.oracleMismatches());
            System.out.println(r.ok() ? "RESULT: OK" : "RESULT: MISMATCHES");
            return r.ok() ? ExitCode.OK : ExitCode.PROBLEM;
        }
    }
}
