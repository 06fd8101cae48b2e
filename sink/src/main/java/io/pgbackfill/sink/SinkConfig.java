package io.pgbackfill.sink;

import io.pgbackfill.core.spec.SpecOptions;
import io.pgbackfill.core.spec.SinkSpec;

/**
 * Sink settings.
 *
 * @param batchSize       most rows per database transaction (default 5000): bounds transaction length
 *                        and memory; the array upsert's best in the sink benchmark (124k rows/s)
 * @param lingerMs        longest a partial batch waits before it is written (default 50)
 * @param copyThreshold   batches with at least this many upserts go through COPY into a staging table
 *                        and one merge (faster only from ~20000 rows); smaller ones through one
 *                        array-upsert statement (default 10000)
 * @param applyTruncate   apply a source TRUNCATE to the target (true) or stop with an error (false, default)
 * @param retryBackoffMs  first wait after a lost connection; doubles up to 30 s, forever (default 500)
 * @param batchBytes      most bytes of row changes (as read from Kafka) per batch: a batch closes on {@code batchSize}
 *                        rows or this many bytes, whichever comes first; 0 (default) = the stage's byte budget
 *                        ({@link io.pgbackfill.core.memory.MemoryBudget}, {@code memory.stageBudgetMiB}). One row
 *                        larger than it still makes a batch of its own
 * @param stagesInJvm     stages sharing this JVM's heap (3 for {@code backfill up}): the byte budget is divided by it
 */
public record SinkConfig(int batchSize, int lingerMs, int copyThreshold, boolean applyTruncate, long retryBackoffMs, long batchBytes,
                         int stagesInJvm) {

    public SinkConfig(int batchSize, int lingerMs, int copyThreshold, boolean applyTruncate, long retryBackoffMs) {
        this(batchSize, lingerMs, copyThreshold, applyTruncate, retryBackoffMs, 0, 1);
    }

    public static SinkConfig from(SinkSpec s) {
        return new SinkConfig(s.batchSize(), s.lingerMs(), s.copyThreshold(), s.applyTruncate(), SpecOptions.SINK_RETRY_BACKOFF_MS.value(), 0, 1);
    }

    public SinkConfig withCopyThreshold(int threshold) {
        return new SinkConfig(batchSize, lingerMs, threshold, applyTruncate, retryBackoffMs, batchBytes, stagesInJvm);
    }

    public SinkConfig withBatchSize(int size) {
        return new SinkConfig(size, lingerMs, copyThreshold, applyTruncate, retryBackoffMs, batchBytes, stagesInJvm);
    }

    public SinkConfig withBatchBytes(long bytes) {
        return new SinkConfig(batchSize, lingerMs, copyThreshold, applyTruncate, retryBackoffMs, bytes, stagesInJvm);
    }

    public SinkConfig withStagesInJvm(int stages) {
        return new SinkConfig(batchSize, lingerMs, copyThreshold, applyTruncate, retryBackoffMs, batchBytes, stages);
    }
}
