package io.pgbackfill.ops.metrics;

import io.pgbackfill.ops.text.ByteSize;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The progress lines over the meters the stages register (same names), with a clock the test moves. */
class ProgressLogTest {
    final MeterRegistry registry = new SimpleMeterRegistry();
    final AtomicLong clock = new AtomicLong();
    final AtomicLong produced = new AtomicLong();
    final AtomicLong snapshotRead = new AtomicLong();
    final AtomicLong transformedIn = new AtomicLong();
    final AtomicLong written = new AtomicLong();
    final AtomicLong sinkDlq = new AtomicLong();

    @Test
    void oneLinePerStageWithRatesEtaLagAndDeadLetters() {
        FunctionCounter.builder(StageMetrics.EVENTS_OUT, produced, AtomicLong::get).tag("stage", "producer").register(registry);
        Gauge.builder(StageMetrics.SNAPSHOT_ROWS_READ, snapshotRead, AtomicLong::get).tag("table", "public.users").register(registry);
        Gauge.builder(StageMetrics.SNAPSHOT_DONE, () -> 0).register(registry);
        Gauge.builder(SourceProbe.SNAPSHOT_ROWS_ESTIMATED, () -> 100_000).tag("table", "public.users").register(registry);
        TimeGauge.builder(SourceProbe.SNAPSHOT_ETA, () -> 150, TimeUnit.SECONDS).tag("table", "public.users").register(registry);
        Gauge.builder(SourceProbe.SOURCE_LSN_LAG, () -> 3 * 1024 * 1024).register(registry);
        Gauge.builder(SourceProbe.SLOT_RETAINED_WAL, () -> Double.NaN).register(registry);
        Gauge.builder(SourceProbe.SLOT_WAL_STATUS, () -> 1).tag("status", "reserved").register(registry);
        Gauge.builder(SourceProbe.SLOT_WAL_STATUS, () -> 0).tag("status", "lost").register(registry);
        FunctionCounter.builder(StageMetrics.EVENTS_IN, transformedIn, AtomicLong::get).tag("stage", "transformer").register(registry);
        FunctionCounter.builder(StageMetrics.EVENTS_OUT, transformedIn, AtomicLong::get).tag("stage", "transformer").register(registry);
        FunctionCounter.builder(StageMetrics.DEAD_LETTERS, new AtomicLong(0), AtomicLong::get).tags("stage", "transformer", "table", "public.users_v2", "reason", "cast failure").register(registry);
        Gauge.builder(ConsumerLagProbe.CONSUMER_LAG, () -> Double.NaN).tags("stage", "transformer", "partition", "0").register(registry);
        FunctionCounter.builder(StageMetrics.EVENTS_OUT, written, AtomicLong::get).tag("stage", "sink").register(registry);
        FunctionCounter.builder(StageMetrics.DEAD_LETTERS, sinkDlq, AtomicLong::get).tags("stage", "sink", "table", "public.users_v2", "reason", "a").register(registry);
        FunctionCounter.builder(StageMetrics.DEAD_LETTERS, new AtomicLong(2), AtomicLong::get).tags("stage", "sink", "table", "public.users_v2", "reason", "b").register(registry);
        Gauge.builder(ConsumerLagProbe.CONSUMER_LAG, () -> 3000).tags("stage", "sink", "partition", "0").register(registry);
        Gauge.builder(ConsumerLagProbe.CONSUMER_LAG, () -> 1000).tags("stage", "sink", "partition", "1").register(registry);
        Timer batches = Timer.builder(StageMetrics.SINK_BATCH_DURATION).register(registry);

        ProgressLog log = new ProgressLog(registry, clock::get);
        produced.set(1000);
        snapshotRead.set(1000);
        log.lines();

        clock.addAndGet(Duration.ofSeconds(10).toNanos());
        produced.addAndGet(50_000);
        snapshotRead.addAndGet(40_000);
        transformedIn.addAndGet(30_000);
        written.addAndGet(20_000);
        sinkDlq.set(1);
        for (int i = 0; i < 4; i++) {
            batches.record(Duration.ofMillis(250));
        }
        var lines = log.lines();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).isEqualTo("producer: snapshot public.users 41,000/~100,000 rows (41%), 4,000 rows/s, ETA 2 min 30 s"
                + " | 5,000 events/s (51,000 sent) | source lag 3.0 MiB | slot retains ? (reserved)");
        assertThat(lines.get(1)).isEqualTo("transformer: 3,000 events/s in, 3,000 rows/s out (30,000 in) | lag ? | DLQ 0");
        assertThat(lines.get(2)).isEqualTo("sink: 2,000 rows/s (20,000 written) | lag 4,000 (drains in ~2 s) | DLQ 3 | 0.4 batches/s, 0.250 s each");
    }

    @Test
    void onlyTheStagesThisProcessRuns() {
        FunctionCounter.builder(StageMetrics.EVENTS_OUT, written, AtomicLong::get).tag("stage", "sink").register(registry);
        ProgressLog log = new ProgressLog(registry, clock::get);
        assertThat(log.lines()).singleElement().asString().startsWith("sink: 0 rows/s (0 written) | lag ? | DLQ 0");
    }

    @Test
    void humanUnits() {
        assertThat(ByteSize.format(512)).isEqualTo("512 B");
        assertThat(ByteSize.format(5L * 1024 * 1024 * 1024)).isEqualTo("5.0 GiB");
        assertThat(ProgressLog.duration(3 * 3600 + 125)).isEqualTo("3 h 02 min");
        assertThat(ProgressLog.duration(Double.NaN)).isEqualTo("?");
    }
}
