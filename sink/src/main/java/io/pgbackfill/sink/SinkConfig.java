package io.pgbackfill.sink;

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
 */
public record SinkConfig(int batchSize, int lingerMs, int copyThreshold, boolean applyTruncate, long retryBackoffMs) {

    public static SinkConfig from(SinkSpec s) {
        return new SinkConfig(s.batchSize(), s.lingerMs(), s.copyThreshold(), s.applyTruncate(), 500);
    }

    public SinkConfig withCopyThreshold(int threshold) {
        return new SinkConfig(batchSize, lingerMs, threshold, applyTruncate, retryBackoffMs);
    }

    public SinkConfig withBatchSize(int size) {
        return new SinkConfig(size, lingerMs, copyThreshold, applyTruncate, retryBackoffMs);
    }
}
