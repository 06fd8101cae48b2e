package io.pgbackfill.producer;

import io.pgbackfill.core.spec.PipelineSpec;
import java.nio.file.Path;

/**
 * What the producer needs beyond the spec.
 *
 * @param spec                 the pipeline
 * @param stateDir             where Debezium's source offsets ({@code offsets.dat}) and the producer's progress
 *                             ({@code producer-state.json}) live; keep it across restarts, or a restart re-snapshots
 * @param heartbeatIntervalMs  how often a heartbeat row is written to the source and a watermark emitted
 *                             (default 1000); it also keeps the slot advancing on an idle table
 * @param offsetFlushIntervalMs how often Debezium offsets (and so the slot's confirmed LSN) are committed (default 1000)
 * @param maxBatchSize         Debezium batch size handed to one Kafka flush (default 8192)
 */
public record ProducerConfig(PipelineSpec spec, Path stateDir, long heartbeatIntervalMs, long offsetFlushIntervalMs, int maxBatchSize) {

    public static ProducerConfig of(PipelineSpec spec, Path stateDir) {
        return new ProducerConfig(spec, stateDir, 1000, 1000, 8192);
    }

    public ProducerConfig withHeartbeatIntervalMs(long ms) {
        return new ProducerConfig(spec, stateDir, ms, offsetFlushIntervalMs, maxBatchSize);
    }
}
