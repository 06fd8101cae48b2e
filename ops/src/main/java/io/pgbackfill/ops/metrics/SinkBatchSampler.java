package io.pgbackfill.ops.metrics;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.pgbackfill.sink.RowSink;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Rows per sink batch. The sink counts rows and batches but does not report each batch, so this samples
 * both once a second and records the interval's batches at their mean size: {@code _count} and
 * {@code _sum} are exact (batches and rows), {@code _max} is the largest per-interval mean.
 */
public final class SinkBatchSampler implements AutoCloseable {
    public static final String SINK_BATCH_SIZE = "pgbackfill.sink.batch.size";
    private final RowSink sink;
    private final DistributionSummary size;
    private final ScheduledExecutorService timer;
    private long rows;
    private long batches;

    private SinkBatchSampler(RowSink sink, MeterRegistry registry) {
        this.sink = sink;
        this.size = DistributionSummary.builder(SINK_BATCH_SIZE).description("rows written per batch to the target").register(registry);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgbackfill-sink-batch-sampler");
            t.setDaemon(true);
            return t;
        });
    }

    public static SinkBatchSampler start(RowSink sink, MeterRegistry registry) {
        SinkBatchSampler s = new SinkBatchSampler(sink, registry);
        s.timer.scheduleAtFixedRate(s::sample, 1, 1, TimeUnit.SECONDS);
        return s;
    }

    /** Records what happened since the last sample; visible for the endpoint test. */
    synchronized void sample() {
        long r = sink.rowsWritten();
        long b = sink.batches();
        long newBatches = b - batches;
        if (newBatches > 0) {
            long newRows = r - rows;
            long mean = newRows / newBatches;
            long remainder = newRows % newBatches;
            for (long i = 0; i < newBatches; i++) {
                size.record(mean + (i < remainder ? 1 : 0));
            }
        }
        rows = r;
        batches = b;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
