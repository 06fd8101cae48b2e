package io.pgbackfill.sink.bench;

import io.pgbackfill.core.spec.SinkSpec;
import io.pgbackfill.embedded.EmbeddedKafkaBroker;
import io.pgbackfill.embedded.EmbeddedPostgresServer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Sink throughput, one run, side by side: the sink's COPY + merge path at several batch sizes, its
 * array-upsert path, and a naive one-statement-per-row baseline (on a sample), all reading the same
 * transformed rows from an in-process Kafka broker into embedded PostgreSQL. Not a test: run it with
 * {@code mvn -o -pl sink -Psink-bench test-compile exec:java -Dbench.rows=1000000}.
 *
 * <p>Arguments: rows (default 1,000,000), COPY batch sizes (default 1000,5000,20000), naive sample rows
 * (default 20,000), array-upsert batch sizes (default: the default batch size only).
 */
public final class SinkBenchmark {
    static final String DATABASE = "bench";
    private static final int PARTITIONS = 4;

    private SinkBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        long rows = args.length > 0 ? Long.parseLong(args[0].replace("_", "")) : 1_000_000;
        List<Integer> batchSizes = args.length > 1 ? sizes(args[1]) : List.of(1000, 5000, 20000);
        long naiveRows = Math.min(rows, args.length > 2 ? Long.parseLong(args[2].replace("_", "")) : 20_000);
        int defaultBatch = SinkSpec.DEFAULT.batchSize();
        List<Integer> arrayBatchSizes = args.length > 3 ? sizes(args[3]) : List.of(defaultBatch);

        System.out.println("starting embedded PostgreSQL and an in-process Kafka broker...");
        try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(); EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start()) {
            pg.createDatabase(DATABASE);
            String bootstrap = kafka.bootstrapServers();
            double produceSeconds = BenchRows.produce(bootstrap, SinkRun.rowsTopic(), PARTITIONS, rows);
            System.out.printf("produced %,d rows to %s (%d partitions) in %.1f s%n", rows, SinkRun.rowsTopic(), PARTITIONS, produceSeconds);

            // JIT warm-up on a slice, so the first measured path does not pay for it.
            SinkRun.run("warm-up", "bench-warmup", pg, bootstrap, PARTITIONS, Math.min(rows, 100_000), defaultBatch, 1);
            System.out.println("warmed up");

            BenchResult naive = NaiveUpsert.run(pg, bootstrap, naiveRows);
            System.out.println("measured " + naive.path());
            List<BenchResult> copy = new ArrayList<>();
            for (int batchSize : batchSizes) {
                copy.add(SinkRun.run("sink: COPY + merge", "bench-copy-" + batchSize, pg, bootstrap, PARTITIONS, rows, batchSize, 1));
                System.out.println("measured COPY at batchSize " + batchSize);
            }
            List<BenchResult> arrays = new ArrayList<>();
            for (int batchSize : arrayBatchSizes) {
                arrays.add(SinkRun.run("sink: array upsert (unnest)", "bench-arrays-" + batchSize, pg, bootstrap, PARTITIONS,
                        rows, batchSize, Integer.MAX_VALUE));
                System.out.println("measured array upsert at batchSize " + batchSize);
            }
            print(rows, naive, copy, arrays, defaultBatch);
        }
    }

    private static List<Integer> sizes(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).map(Integer::parseInt).toList();
    }

    private static BenchResult atBatchSize(List<BenchResult> results, int batchSize) {
        return results.stream().filter(r -> r.batchSize() == batchSize).findFirst().orElse(results.get(0));
    }

    private static void print(long rows, BenchResult naive, List<BenchResult> copy, List<BenchResult> arrays, int defaultBatch) {
        List<BenchResult> all = new ArrayList<>();
        all.add(naive);
        all.addAll(copy);
        all.addAll(arrays);
        System.out.println();
        System.out.printf("Sink benchmark: %,d transformed users_v2 rows (bigint key, 3 text, timestamptz) from a %d-partition topic;%n", rows, PARTITIONS);
        System.out.printf("embedded PostgreSQL 17 (fsync=off, synchronous_commit=off) and Kafka in one JVM, %d cores.%n",
                Runtime.getRuntime().availableProcessors());
        System.out.println("rows/s: steady rate after the first committed batch; wall s: from sink start (group join included).");
        System.out.println();
        System.out.printf("%-50s %9s %11s %8s %10s %8s%n", "path", "batchSize", "rows", "wall s", "rows/s", "x naive");
        for (BenchResult r : all) {
            System.out.printf("%-50s %9d %,11d %8.2f %,10.0f %8.1f%n", r.path(), r.batchSize(), r.rows(), r.wallSeconds(),
                    r.steadyRowsPerSecond(), r.ratioTo(naive));
        }
        BenchResult copyAtDefault = atBatchSize(copy, defaultBatch);
        BenchResult arraysAtDefault = atBatchSize(arrays, defaultBatch);
        BenchResult best = copy.stream().max((a, b) -> Double.compare(a.steadyRowsPerSecond(), b.steadyRowsPerSecond())).orElseThrow();
        System.out.println();
        System.out.printf("COPY/naive (batchSize %d): %.1fx   upsert/naive (batchSize %d): %.1fx   COPY/upsert: %.2fx%n",
                copyAtDefault.batchSize(), copyAtDefault.ratioTo(naive), arraysAtDefault.batchSize(), arraysAtDefault.ratioTo(naive),
                copyAtDefault.ratioTo(arraysAtDefault));
        System.out.printf("fastest COPY batchSize: %d (%,.0f rows/s)%n", best.batchSize(), best.steadyRowsPerSecond());
    }
}
