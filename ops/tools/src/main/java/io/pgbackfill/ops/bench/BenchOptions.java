package io.pgbackfill.ops.bench;

import java.nio.file.Path;
import java.util.List;

/**
 * What one {@code backfill bench} run does.
 *
 * @param rows            rows of the generated {@code users} table every approach copies
 * @param rowByRowSample  rows the row-by-row loop copies (it is too slow for the whole table; its rate is what counts)
 * @param kafkaConnect    run the Kafka Connect baseline (Debezium source + Debezium JDBC sink)
 * @param lagPhase        run the CDC-lag and memory phases (pgbackfill with a writer at {@code writeRate})
 * @param lagRows         table sizes of the lag phases: memory must not grow with them
 * @param writeRate       writes per second (inserts and updates) during a lag phase
 * @param lagSeconds      how long a lag phase keeps writing after its snapshot is done (the streaming steady state)
 * @param partitions      Kafka partitions per topic, for pgbackfill and for the Connect topic alike
 * @param snapshotMode    pgbackfill's {@code snapshot.mode} (null: the spec's default), to compare modes in like conditions
 * @param outDir          where bench.txt, bench.json and bench.html go
 * @param only            keys of the approaches to run (empty: all), for before/after CPU runs of one approach
 */
public record BenchOptions(long rows, long rowByRowSample, boolean kafkaConnect, boolean lagPhase, List<Long> lagRows,
                           int writeRate, int lagSeconds, int partitions, Path outDir, String snapshotMode, List<String> only) {
    /** The in-place UPDATE approach's key range per statement (the brief's 10k). */
    public static final int IN_PLACE_RANGE = 10_000;

    public BenchOptions(long rows, long rowByRowSample, boolean kafkaConnect, boolean lagPhase, List<Long> lagRows, int writeRate, int lagSeconds,
                        int partitions, Path outDir) {
        this(rows, rowByRowSample, kafkaConnect, lagPhase, lagRows, writeRate, lagSeconds, partitions, outDir, null, List.of());
    }

    public BenchOptions {
        lagRows = List.copyOf(lagRows);
        only = only == null ? List.of() : List.copyOf(only);
        if (rows < 1) {
            throw new IllegalArgumentException("--rows must be at least 1");
        }
    }
}
