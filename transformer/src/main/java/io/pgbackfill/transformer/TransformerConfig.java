package io.pgbackfill.transformer;

import io.pgbackfill.core.spec.SpecOptions;
import java.nio.file.Path;

/**
 * Transformer settings beyond the spec.
 *
 * @param stateDir         Kafka Streams' state.dir (no state stores are used; Streams still wants one)
 * @param threads          stream threads in this instance (default 1); instances × threads ≤ partitions is useful
 * @param commitIntervalMs how often a transaction commits (default 200 ms): latency vs. throughput under exactly_once_v2
 * @param stagesInJvm      stages sharing this JVM's heap (3 for {@code backfill up}): the byte budget is divided by it
 */
public record TransformerConfig(Path stateDir, int threads, long commitIntervalMs, int stagesInJvm) {
    public TransformerConfig(Path stateDir, int threads, long commitIntervalMs) {
        this(stateDir, threads, commitIntervalMs, 1);
    }

    public static TransformerConfig of(Path stateDir) {
        return new TransformerConfig(stateDir, 1, SpecOptions.STREAMS_COMMIT_INTERVAL_MS.value(), 1);
    }

    public TransformerConfig withStagesInJvm(int stages) {
        return new TransformerConfig(stateDir, threads, commitIntervalMs, stages);
    }
}
