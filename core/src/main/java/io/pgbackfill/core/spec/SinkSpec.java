package io.pgbackfill.core.spec;

/**
 * Sink settings. {@code batchSize}: rows per database transaction (bounded, so VACUUM and other
 * writers are never held up long). {@code lingerMs}: how long a partial batch may wait.
 * {@code copyThreshold}: batches at least this large go through COPY + merge instead of the
 * array upsert. {@code truncate}: what a source TRUNCATE does to the target (refuse or apply).
 *
 * <p>Defaults from the sink benchmark (1M rows, 2 cores): the array upsert peaks at 5000 rows per batch
 * (124k rows/s), COPY + merge only wins from ~20000 (130k rows/s) at the price of longer transactions and
 * replays; so batches of 5000 take the array path and COPY is for configured batches of 10000 and more.
 */
public record SinkSpec(Integer batchSize, Integer lingerMs, Integer copyThreshold, String truncate) {
    public static final SinkSpec DEFAULT = new SinkSpec(null, null, null, null);

    public SinkSpec {
        // Defaults and checks: SpecOptions (docs/spec-reference.md).
        batchSize = SpecOptions.SINK_BATCH_SIZE.resolve(batchSize);
        lingerMs = SpecOptions.SINK_LINGER_MS.resolve(lingerMs);
        copyThreshold = SpecOptions.SINK_COPY_THRESHOLD.resolve(copyThreshold);
        truncate = SpecOptions.SINK_TRUNCATE.resolve(truncate);
    }

    public boolean applyTruncate() {
        return truncate.equals("apply");
    }
}
