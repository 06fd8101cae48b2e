package io.pgbackfill.ops.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.producer.ChangeEventProducer;
import io.pgbackfill.sink.RowSink;
import io.pgbackfill.transformer.TransformerApp;
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

    public static void transformer(MeterRegistry registry, TransformerApp transformer) {
        FunctionCounter.builder(EVENTS_IN, transformer, TransformerApp::eventsIn).tag("stage", "transformer")
                .description("records read from the raw topics (watermarks included)").register(registry);
        FunctionCounter.builder(EVENTS_OUT, transformer, TransformerApp::rowsOut).tag("stage", "transformer")
                .description("records written to the rows topics (watermarks included)").register(registry);
        FunctionCounter.builder(DEAD_LETTERS, transformer, TransformerApp::deadLetters).tag("stage", "transformer")
                .description("events the transform rejected, sent to the DLQ topics").register(registry);
    }

    /** The sink's counters; {@link SinkBatchSampler} adds the batch-size distribution. */
    public static void sink(MeterRegistry registry, RowSink sink) {
        FunctionCounter.builder(EVENTS_OUT, sink, RowSink::rowsWritten).tag("stage", "sink")
                .description("row changes committed to the target").register(registry);
        FunctionCounter.builder(DEAD_LETTERS, sink, RowSink::deadLetters).tag("stage", "sink")
                .description("row changes the target rejected (or malformed), sent to the DLQ topics").register(registry);
        FunctionCounter.builder(SINK_BATCHES, sink, RowSink::batches)
                .description("batches committed to the target").register(registry);
        FunctionCounter.builder(SINK_FENCED_BATCHES, sink, RowSink::fencedBatches)
                .description("batches dropped because another sink instance had claimed their partitions (a zombie kept out)").register(registry);
        TimeGauge.builder(SINK_LAST_BATCH_DURATION, sink, TimeUnit.MILLISECONDS, RowSink::lastBatchMillis)
                .description("latency of the last batch: database write, dead letters, offset commit").register(registry);
    }
}
