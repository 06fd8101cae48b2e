package io.pgbackfill.transformer;

import java.nio.file.Path;

/**
 * Transformer settings beyond the spec.
 *
 * @param stateDir         Kafka Streams' state.dir (no state stores are used; Streams still wants one)
 * @param threads          stream threads in this instance (default 1); instances × threads ≤ partitions is useful
 * @param commitIntervalMs how often a transaction commits (default 200 ms): latency vs. throughput under exactly_once_v2
 */
public record TransformerConfig(Path stateDir, int threads, long commitIntervalMs) {
    public static TransformerConfig of(Path stateDir) {
        return new TransformerConfig(stateDir, 1, 200);
    }
}
