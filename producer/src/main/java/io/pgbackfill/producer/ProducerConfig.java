package io.pgbackfill.producer;

import io.pgbackfill.core.spec.SpecOptions;
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
 * @param maxBatchSize         Debezium batch size handed to one Kafka flush (default 2048); Debezium's queue holds four
 *                             batches. Both stay in the young generation until sent, and every young collection copies
 *                             them: 8192 (a 32k-record queue) cost ~40% more GC time in the 1M-row demo, 1024 no less
 *                             than 2048. For large rows it is lowered to fit the stage's byte budget, and the queue is
 *                             bounded in bytes too ({@link io.pgbackfill.core.memory.MemoryBudget})
 * @param freshState           discard a state directory that belongs to another source (see {@link SourceIdentity})
 *                             instead of refusing to start
 * @param stagesInJvm          stages sharing this JVM's heap (3 for {@code backfill up}): the byte budget is divided by it
 */
public record ProducerConfig(PipelineSpec spec, Path stateDir, long heartbeatIntervalMs, long offsetFlushIntervalMs, int maxBatchSize,
                             boolean freshState, int stagesInJvm) {

    public ProducerConfig(PipelineSpec spec, Path stateDir, long heartbeatIntervalMs, long offsetFlushIntervalMs, int maxBatchSize,
                          boolean freshState) {
        this(spec, stateDir, heartbeatIntervalMs, offsetFlushIntervalMs, maxBatchSize, freshState, 1);
    }

    public static ProducerConfig of(PipelineSpec spec, Path stateDir) {
        return new ProducerConfig(spec, stateDir, SpecOptions.HEARTBEAT_INTERVAL_MS.value(), SpecOptions.OFFSET_FLUSH_INTERVAL_MS.value(),
                (int) SpecOptions.DEBEZIUM_MAX_BATCH_SIZE.value(), false, 1);
    }

    public ProducerConfig withHeartbeatIntervalMs(long ms) {
        return new ProducerConfig(spec, stateDir, ms, offsetFlushIntervalMs, maxBatchSize, freshState, stagesInJvm);
    }

    public ProducerConfig withFreshState(boolean fresh) {
        return new ProducerConfig(spec, stateDir, heartbeatIntervalMs, offsetFlushIntervalMs, maxBatchSize, fresh, stagesInJvm);
    }

    public ProducerConfig withStagesInJvm(int stages) {
        return new ProducerConfig(spec, stateDir, heartbeatIntervalMs, offsetFlushIntervalMs, maxBatchSize, freshState, stages);
    }
}
