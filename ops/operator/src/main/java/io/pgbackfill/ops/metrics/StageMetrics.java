package io.pgbackfill.ops.metrics;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.pgbackfill.core.DeadLetterCounts;
import io.pgbackfill.core.transform.RowRejected;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.producer.ChangeEventProducer;
import io.pgbackfill.sink.RowSink;
import io.pgbackfill.transformer.TransformerApp;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Meters over the counters each stage already keeps: nothing is counted twice, a scrape just reads them.
 * Names are shared across stages and told apart by the {@code stage} tag, so one query
 * ({@code rate(pgbackfill_events_out_total[1m])}) shows the whole pipeline. Counters count since the
 * process started; Prometheus' rate() handles restarts.
 */
public final class StageMetrics {
    public static final String EVENTS_IN = "pgbackfill.events.in";
    public static final String EVENTS_OUT = "pgbackfill.events.out";
    public static final String DEAD_LETTERS = "pgbackfill.dead.letters";
    public static final String SNAPSHOT_ROWS_READ = "pgbackfill.snapshot.rows.read";
    public static final String SNAPSHOT_DONE = "pgbackfill.snapshot.done";
    public static final String SOURCE_LAST_LSN = "pgbackfill.source.last.lsn";
    public static final String SINK_BATCHES = "pgbackfill.sink.batches";
    public static final String SINK_LAST_BATCH_DURATION = "pgbackfill.sink.last.batch.duration";
    public static final String SINK_FENCED_BATCHES = "pgbackfill.sink.fenced.batches";
    public static final String SINK_BATCH_DURATION = "pgbackfill.sink.batch.duration";
    public static final String SINK_BATCH_SIZE = "pgbackfill.sink.batch.size";
    /** Histogram buckets of the batch latency: from a small streaming batch to a slow COPY of the snapshot. */
    static final Duration[] DURATION_BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
            Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500),
            Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30)};
    /** Histogram buckets of rows per batch (sink.batchSize defaults to a few thousand). */
    static final double[] SIZE_BUCKETS = {1, 10, 50, 100, 500, 1000, 2000, 5000, 10000, 50000};
    public static final String SINK_REREADS = "pgbackfill.sink.rereads";

    private StageMetrics() {
    }

    /**
     * The producer's own counters; {@link SourceProbe} adds what needs the source database (lag, estimates).
     * Bind a started producer: before {@code start()} it knows no tables, and its snapshotDone() is vacuously true.
     */
    public static void producer(MeterRegistry registry, ChangeEventProducer producer, PipelineSpec spec) {
        FunctionCounter.builder(EVENTS_OUT, producer, ChangeEventProducer::eventsOut).tag("stage", "producer")
                .description("change events sent to the raw topics (watermarks not counted)").register(registry);
        for (TableSpec t : spec.tables()) {
            String table = t.sourceName().id();
            Gauge.builder(SNAPSHOT_ROWS_READ, producer, p -> p.snapshotRowsRead(table)).tag("table", table)
                    .description("rows read by the snapshot so far (kept across restarts)").register(registry);
        }
        Gauge.builder(SNAPSHOT_DONE, producer, p -> p.snapshotDone() ? 1 : 0)
                .description("1 once the snapshot of every table is in Kafka").register(registry);
        Gauge.builder(SOURCE_LAST_LSN, producer, p -> (double) p.lastLsn()).baseUnit("bytes")
                .description("WAL position of the last change or heartbeat the producer read").register(registry);
    }

    public static void transformer(MeterRegistry registry, TransformerApp transformer, PipelineSpec spec) {
        FunctionCounter.builder(EVENTS_IN, transformer, TransformerApp::eventsIn).tag("stage", "transformer")
                .description("records read from the raw topics (watermarks included)").register(registry);
        FunctionCounter.builder(EVENTS_OUT, transformer, TransformerApp::rowsOut).tag("stage", "transformer")
                .description("records written to the rows topics (watermarks included)").register(registry);
        deadLetters(registry, "transformer", transformer.deadLetterCounts(), spec, "events the transform rejected, sent to the DLQ topics");
    }

    /** The sink's counters, and histograms of every committed batch's size and latency. */
    public static void sink(MeterRegistry registry, RowSink sink, PipelineSpec spec) {
        FunctionCounter.builder(EVENTS_OUT, sink, RowSink::rowsWritten).tag("stage", "sink")
                .description("row changes committed to the target").register(registry);
        deadLetters(registry, "sink", sink.deadLetterCounts(), spec, "row changes the target rejected (or malformed), sent to the DLQ topics");
        FunctionCounter.builder(SINK_BATCHES, sink, RowSink::batches)
                .description("batches committed to the target").register(registry);
        FunctionCounter.builder(SINK_FENCED_BATCHES, sink, RowSink::fencedBatches)
                .description("batches dropped because another sink instance had claimed their partitions (a zombie kept out)").register(registry);
        FunctionCounter.builder(SINK_REREADS, sink, RowSink::rereadsRequested)
                .description("rows the target could not complete without unchanged TOAST values, asked from the source again").register(registry);
        TimeGauge.builder(SINK_LAST_BATCH_DURATION, sink, TimeUnit.MILLISECONDS, RowSink::lastBatchMillis)
                .description("latency of the last batch: database write, dead letters, offset commit").register(registry);
        Timer duration = Timer.builder(SINK_BATCH_DURATION).serviceLevelObjectives(DURATION_BUCKETS)
                .description("latency of each committed batch: database write, dead letters, offset commit").register(registry);
        DistributionSummary size = DistributionSummary.builder(SINK_BATCH_SIZE).serviceLevelObjectives(SIZE_BUCKETS)
                .description("rows written per committed batch").register(registry);
        sink.observeBatches((rows, nanos) -> {
            duration.record(nanos, TimeUnit.NANOSECONDS);
            size.record(rows);
        });
    }

    /**
     * One counter per (table, reason), labelled with the stage. Every reason the transform and the target can
     * give is declared at 0 for each target table, so that rate() and increase() see the first letter.
     */
    static void deadLetters(MeterRegistry registry, String stage, DeadLetterCounts counts, PipelineSpec spec, String description) {
        for (TableSpec t : spec.tables()) {
            for (RowRejected.Reason r : RowRejected.Reason.values()) {
                counts.declare(t.targetName().id(), r.label());
            }
        }
        counts.forEachKey(k -> FunctionCounter.builder(DEAD_LETTERS, counts, counts.reader(k))
                .tags("stage", stage, "table", k.table(), "reason", k.reason()).description(description).register(registry));
    }
}
