package io.pgbackfill.ops.metrics;

import io.pgbackfill.ops.text.ByteSize;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One progress line per stage at an interval, for {@code docker compose logs -f}: rows read and written, rates,
 * the snapshot's ETA, consumer lag and dead letters. It reads the same meters Prometheus scrapes, so the log and
 * the dashboard never disagree, and only the stages this process runs appear. Logged at INFO by
 * {@code io.pgbackfill.progress} (dated, or JSON with PGBACKFILL_LOG_FORMAT=json).
 */
public final class ProgressLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("io.pgbackfill.progress");

    private final MeterRegistry registry;
    private final LongSupplier nanos;
    private final ScheduledExecutorService timer;
    private final Map<String, Double> previous = new HashMap<>();
    private long previousNanos;

    ProgressLog(MeterRegistry registry, LongSupplier nanos) {
        this.registry = registry;
        this.nanos = nanos;
        this.previousNanos = nanos.getAsLong();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgbackfill-progress");
            t.setDaemon(true);
            return t;
        });
    }

    /** Logs every {@code every}; a zero or negative interval logs nothing (the returned log is inert). */
    public static ProgressLog start(MeterRegistry registry, Duration every) {
        ProgressLog log = new ProgressLog(registry, System::nanoTime);
        if (!every.isZero() && !every.isNegative()) {
            log.timer.scheduleAtFixedRate(() -> {
                try {
                    log.lines().forEach(LOG::info);
                } catch (RuntimeException e) {
                    LOG.debug("progress line failed", e); // never the reason a stage stops
                }
            }, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
        }
        return log;
    }

    /** The lines for the interval since the last call (rates over that interval). */
    synchronized List<String> lines() {
        long now = nanos.getAsLong();
        double seconds = Math.max(1e-3, (now - previousNanos) / 1e9);
        previousNanos = now;
        List<String> out = new ArrayList<>();
        if (has(StageMetrics.EVENTS_OUT, "producer")) {
            out.add(producer(seconds));
        }
        if (has(StageMetrics.EVENTS_IN, "transformer")) {
            out.add(transformer(seconds));
        }
        if (has(StageMetrics.EVENTS_OUT, "sink")) {
            out.add(sink(seconds));
        }
        return out;
    }

    private String producer(double seconds) {
        StringBuilder line = new StringBuilder("producer: ");
        if (sum(StageMetrics.SNAPSHOT_DONE, null, null) >= 1) {
            line.append("snapshot done");
        } else {
            List<String> tables = new ArrayList<>();
            for (Meter m : registry.find(StageMetrics.SNAPSHOT_ROWS_READ).meters()) {
                String table = m.getId().getTag("table");
                double read = value(m);
                double rate = rate("snapshot " + table, read, seconds);
                double estimated = sum(SourceProbe.SNAPSHOT_ROWS_ESTIMATED, "table", table);
                double eta = sum(SourceProbe.SNAPSHOT_ETA, "table", table);
                StringBuilder t = new StringBuilder(String.format(Locale.ROOT, "snapshot %s %,d", table, (long) read));
                if (estimated > 0) {
                    t.append(String.format(Locale.ROOT, "/~%,d rows (%d%%)", (long) estimated, (long) Math.min(99, read * 100 / estimated)));
                } else {
                    t.append(" rows");
                }
                t.append(String.format(Locale.ROOT, ", %,.0f rows/s, ETA %s", rate, duration(eta)));
                tables.add(t.toString());
            }
            line.append(String.join("; ", tables));
        }
        double events = sum(StageMetrics.EVENTS_OUT, "stage", "producer");
        line.append(String.format(Locale.ROOT, " | %,.0f events/s (%,d sent)", rate("producer out", events, seconds), (long) events));
        line.append(" | source lag ").append(ByteSize.format(sum(SourceProbe.SOURCE_LSN_LAG, null, null)));
        line.append(" | slot retains ").append(ByteSize.format(sum(SourceProbe.SLOT_RETAINED_WAL, null, null)));
        for (Meter m : registry.find(SourceProbe.SLOT_WAL_STATUS).meters()) {
            if (value(m) == 1) {
                line.append(" (").append(m.getId().getTag("status")).append(')');
            }
        }
        return line.toString();
    }

    private String transformer(double seconds) {
        double in = sum(StageMetrics.EVENTS_IN, "stage", "transformer");
        double out = sum(StageMetrics.EVENTS_OUT, "stage", "transformer");
        return String.format(Locale.ROOT, "transformer: %,.0f events/s in, %,.0f rows/s out (%,d in) | lag %s | DLQ %,d",
                rate("transformer in", in, seconds), rate("transformer out", out, seconds), (long) in,
                lag("transformer", 0), (long) sum(StageMetrics.DEAD_LETTERS, "stage", "transformer"));
    }

    private String sink(double seconds) {
        double written = sum(StageMetrics.EVENTS_OUT, "stage", "sink");
        double rate = rate("sink out", written, seconds);
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "sink: %,.0f rows/s (%,d written) | lag %s | DLQ %,d",
                rate, (long) written, lag("sink", rate), (long) sum(StageMetrics.DEAD_LETTERS, "stage", "sink")));
        Timer batches = registry.find(StageMetrics.SINK_BATCH_DURATION).timer();
        if (batches != null) {
            double count = batches.count();
            double total = batches.totalTime(TimeUnit.SECONDS);
            double newBatches = count - previous.getOrDefault("sink batches", 0.0);
            double newTime = total - previous.getOrDefault("sink batch time", 0.0);
            previous.put("sink batches", count);
            previous.put("sink batch time", total);
            if (newBatches > 0) {
                line.append(String.format(Locale.ROOT, " | %,.1f batches/s, %.3f s each", newBatches / seconds, newTime / newBatches));
            }
        }
        return line.toString();
    }

    /** The stage's group lag over all partitions, and when it drains at {@code rate} (0: not shown). */
    private String lag(String stage, double rate) {
        double lag = sum(ConsumerLagProbe.CONSUMER_LAG, "stage", stage);
        if (Double.isNaN(lag)) {
            return "?";
        }
        String records = String.format(Locale.ROOT, "%,d", (long) lag);
        return lag > 0 && rate > 0 ? records + " (drains in ~" + duration(lag / rate) + ")" : records;
    }

    private double rate(String key, double value, double seconds) {
        Double before = previous.put(key, value);
        return before == null || Double.isNaN(before) || Double.isNaN(value) ? 0 : Math.max(0, value - before) / seconds;
    }

    private boolean has(String name, String stage) {
        return registry.find(name).tag("stage", stage).meter() != null;
    }

    /** Sum of the meters' values (NaN if any is NaN or there is none). */
    private double sum(String name, String tag, String value) {
        var search = tag == null ? registry.find(name) : registry.find(name).tag(tag, value);
        double total = 0;
        boolean any = false;
        for (Meter m : search.meters()) {
            total += value(m);
            any = true;
        }
        return any ? total : Double.NaN;
    }

    private static double value(Meter m) {
        var it = m.measure().iterator();
        return it.hasNext() ? it.next().getValue() : Double.NaN;
    }

    static String duration(double seconds) {
        if (Double.isNaN(seconds) || Double.isInfinite(seconds)) {
            return "?";
        }
        long s = Math.round(seconds);
        return s < 60 ? s + " s" : s < 3600 ? String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60)
                : String.format(Locale.ROOT, "%d h %02d min", s / 3600, s % 3600 / 60);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
