package io.pgbackfill.ops.commands;

import io.pgbackfill.embedded.Infrastructure;
import io.pgbackfill.ops.bench.BenchOptions;
import io.pgbackfill.ops.bench.BenchReports;
import io.pgbackfill.ops.bench.BenchResults;
import io.pgbackfill.ops.bench.BenchRun;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Benchmarks pgbackfill against the alternatives, side by side in one run.",
                "It runs on embedded PostgreSQL and an in-process Kafka broker: the same generated users table and transform (name split into first_name/last_name, lower(email)) by",
                "(1) a row-by-row loop, (2) batched in-place UPDATEs, (3) one offline INSERT ... SELECT, (4) pgbackfill end to end,",
                "(5) Kafka Connect with the Debezium PostgreSQL source and JDBC sink (plain copy). Each is timed until its target holds",
                "every row and then verified with SQL EXCEPT; a wrong target is FAILED, not a time. The lag phase runs pgbackfill with",
                "a writer at a fixed rate and measures CDC lag (commit -> visible in the target), peak heap and RSS per table size.",
                "Writes bench.txt, bench.json and bench.html to --out. Exit 0 when everything that ran verified."})
public final class BenchCommand implements Callable<Integer>, ToolCommand {
    @Option(names = "--rows", defaultValue = "1000000", description = "rows of the users table the approaches copy (default ${DEFAULT-VALUE})")
    long rows;

    @Option(names = "--row-by-row-sample", defaultValue = "20000", description = "rows the row-by-row loop copies; its rate is reported (default ${DEFAULT-VALUE})")
    long rowByRowSample;

    @Option(names = "--kafka-connect", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "run the Kafka Connect baseline (default ${DEFAULT-VALUE}; --no-kafka-connect to skip it)")
    boolean kafkaConnect;

    @Option(names = "--lag-phase", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "run the CDC lag and memory phases (default ${DEFAULT-VALUE}; --no-lag-phase to skip them)")
    boolean lagPhase;

    @Option(names = "--lag-rows", split = ",", defaultValue = "100000,1000000", description = "table sizes of the lag phases (default ${DEFAULT-VALUE})")
    List<Long> lagRows;

    @Option(names = "--write-rate", defaultValue = "2000", description = "writes per second during a lag phase (default ${DEFAULT-VALUE})")
    int writeRate;

    @Option(names = "--lag-seconds", defaultValue = "20", description = "seconds of steady streaming a lag phase measures, after the first 10 s past its snapshot (default ${DEFAULT-VALUE})")
    int lagSeconds;

    @Option(names = "--partitions", defaultValue = "4", description = "Kafka partitions per topic (default ${DEFAULT-VALUE})")
    int partitions;

    @Option(names = "--snapshot-mode", description = "pgbackfill's snapshot.mode: chunked, initial or incremental (default: the spec's, chunked)")
    String snapshotMode;

    @Option(names = "--only", split = ",", description = "run only these approaches (keys: row-by-row, in-place-update, offline-insert-select,"
            + " pgbackfill, debezium-snapshot, kafka-connect), e.g. for before/after CPU runs of pgbackfill alone")
    List<String> only;

    @Option(names = "--out", defaultValue = "target/bench", description = "directory of the reports (default ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws Exception {
        BenchOptions options = new BenchOptions(rows, rowByRowSample, kafkaConnect, lagPhase, lagRows, writeRate, lagSeconds, partitions, out, snapshotMode, only);
        System.out.println("starting PostgreSQL and Kafka...");
        BenchResults results;
        try (Infrastructure infra = Infrastructure.start()) {
            System.out.println("infrastructure: " + infra.kind() + ", Kafka at " + infra.kafkaBootstrapServers());
            results = new BenchRun(infra, options, System.out).run();
        }
        List<Path> files = BenchReports.write(results, out);
        System.out.println();
        System.out.print(BenchReports.text(results));
        System.out.println("reports: " + files.stream().map(p -> p.toAbsolutePath().normalize().toString()).reduce((a, b) -> a + ", " + b).orElse(""));
        return results.ok() ? ExitCode.OK : ExitCode.PROBLEM;
    }
}
