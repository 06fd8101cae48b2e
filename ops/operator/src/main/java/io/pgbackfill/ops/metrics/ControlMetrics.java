package io.pgbackfill.ops.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.pgbackfill.producer.ChangeEventProducer;
import io.pgbackfill.producer.throttle.ControlledPacer;
import io.pgbackfill.producer.throttle.SourceThrottle;
import io.pgbackfill.sink.RowSink;
import java.util.List;

/**
 * Meters of live control: how long the source's health throttled and by which check, how long the snapshot was held
 * and why (paused, throttle, rate limit), whether it is paused or throttled now, the rate limit in force, and how long
 * the sink held its writes.
 */
public final class ControlMetrics {
    public static final String THROTTLED = "pgbackfill.throttled";
    public static final String THROTTLED_TIME = "pgbackfill.throttled.time";
    public static final String SNAPSHOT_HELD_TIME = "pgbackfill.snapshot.held.time";
    public static final String PAUSED = "pgbackfill.paused";
    public static final String RATE_LIMIT = "pgbackfill.snapshot.rate.limit";
    public static final String SINK_HELD_TIME = "pgbackfill.sink.held.time";
    static final List<String> CHECKS = List.of("replicaLag", "slotRetained", "query", "error");
    static final List<String> HOLD_REASONS = List.of("paused", "throttle", "rate-limit");

    private ControlMetrics() {
    }

    public static void producer(MeterRegistry registry, ChangeEventProducer producer) {
        ControlledPacer pacer = producer.snapshotControl().pacer();
        SourceThrottle throttle = producer.snapshotControl().throttle();
        for (String check : CHECKS) {
            FunctionCounter.builder(THROTTLED_TIME, throttle, t -> t.throttledMillis().getOrDefault(check, 0L) / 1000.0).baseUnit("seconds")
                    .tag("check", check).description("time the source's health throttled the snapshot, by check").register(registry);
            Gauge.builder(THROTTLED, pacer, p -> p.verdict().throttles() && check.equals(p.verdict().check()) ? (p.verdict().critical() ? 2 : 1) : 0)
                    .tag("check", check).description("1 while this check throttles, 2 while it is over its critical threshold").register(registry);
        }
        for (String reason : HOLD_REASONS) {
            FunctionCounter.builder(SNAPSHOT_HELD_TIME, pacer, p -> p.heldMillis().entrySet().stream()
                            .filter(e -> e.getKey().equals(reason) || e.getKey().startsWith(reason + ":")).mapToLong(e -> e.getValue()).sum() / 1000.0)
                    .baseUnit("seconds").tag("reason", reason).description("time the snapshot's reads waited, by reason").register(registry);
        }
        Gauge.builder(PAUSED, pacer, p -> "paused".equals(p.holdReason()) ? 1 : 0).tag("stage", "producer").register(registry);
        Gauge.builder(RATE_LIMIT, pacer, p -> p.rateLimit() == null ? Double.NaN : p.rateLimit()).baseUnit("rows.per.second")
                .description("the snapshot's rate limit in force (NaN: none)").register(registry);
    }

    public static void sink(MeterRegistry registry, RowSink sink) {
        FunctionCounter.builder(SINK_HELD_TIME, sink, s -> s.heldMillis() / 1000.0).baseUnit("seconds")
                .description("time the sink held its writes (paused, or throttled into a same-database target)").register(registry);
    }
}
