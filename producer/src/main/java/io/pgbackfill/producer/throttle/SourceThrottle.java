package io.pgbackfill.producer.throttle;

import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.control.ControlEntry;
import io.pgbackfill.core.control.ControlState;
import io.pgbackfill.core.control.ControlTopic;
import io.pgbackfill.core.spec.PipelineSpec;
import java.sql.Connection;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link SourceHealthChecks} every {@code throttle.intervalMs} on a connection of its own, hands the verdict to
 * the pacer, and reports it on the control topic (so {@code status} and a sink in another container see it): on every
 * change, and every few seconds while it throttles (the current value moves). A critical verdict also pauses the
 * pipeline ({@code by: throttle:<check>}), which stays until an operator resumes it. A check that fails throttles:
 * the source's health is unknown.
 */
public final class SourceThrottle implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SourceThrottle.class);
    static final long REPORT_EVERY_MS = 5000;
    private final PipelineSpec spec;
    private final ControlledPacer pacer;
    private final Supplier<ControlState> control;
    private final SourceHealthChecks checks;
    private final ControlTopic.Writer writer;
    private ScheduledExecutorService timer;
    private Connection connection;
    private ThrottleVerdict reported;
    private long reportedAt;
    private final java.util.Map<String, java.util.concurrent.atomic.AtomicLong> throttledMillis = new java.util.concurrent.ConcurrentHashMap<>();

    public SourceThrottle(PipelineSpec spec, ControlledPacer pacer, Supplier<ControlState> control) {
        this.spec = spec;
        this.pacer = pacer;
        this.control = control;
        this.checks = new SourceHealthChecks(spec.throttle(), spec.slotName());
        this.writer = new ControlTopic.Writer(spec);
    }

    public void start() {
        if (!spec.throttle().checksAnything()) {
            if (control.get().throttled().isPresent()) {
                report(ThrottleVerdict.CLEAR); // an earlier run's report, with checks since removed from the spec
            }
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgbackfill-throttle");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::tick, 0, spec.throttle().intervalMs(), TimeUnit.MILLISECONDS);
    }

    void tick() {
        ThrottleVerdict v;
        try {
            if (connection == null || connection.isClosed()) {
                connection = spec.source().open();
                connection.setAutoCommit(true);
            }
            v = checks.evaluate(connection);
        } catch (Exception e) {
            closeConnection();
            v = new ThrottleVerdict("throttled", "error", 0, 0, "a check failed: " + Redaction.redact(String.valueOf(e.getMessage()), spec.source().secret()));
        }
        pacer.verdict(v);
        if (v.throttles()) {
            throttledMillis.computeIfAbsent(v.check(), k -> new java.util.concurrent.atomic.AtomicLong()).addAndGet(spec.throttle().intervalMs());
        }
        long now = System.currentTimeMillis();
        boolean changed = reported == null || !reported.level().equals(v.level()) || !java.util.Objects.equals(reported.check(), v.check());
        if (changed || (v.throttles() && now - reportedAt >= REPORT_EVERY_MS)) {
            if (changed) {
                LOG.info("throttle: {}", v.describe());
            }
            report(v);
        }
        if (v.critical() && !control.get().paused()) {
            LOG.warn("pausing the pipeline: {}; resume with `backfill ctl SPEC resume` once the source is healthy", v.describe());
            publish(ControlState.PAUSE, ControlEntry.of("paused", "throttle:" + v.check(), v.describe()));
        }
    }

    /** Milliseconds the source's health throttled, by check (whether or not a snapshot was running). */
    public java.util.Map<String, Long> throttledMillis() {
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        throttledMillis.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    private void report(ThrottleVerdict v) {
        if (publish(ControlState.THROTTLE, new ControlEntry(v.level(), "producer", v.detail(), System.currentTimeMillis(), v.check(),
                v.throttles() ? v.current() : null, v.throttles() ? v.threshold() : null))) {
            reported = v;
            reportedAt = System.currentTimeMillis();
        }
    }

    private boolean publish(String key, ControlEntry entry) {
        try {
            writer.publish(key, entry);
            return true;
        } catch (RuntimeException e) {
            LOG.warn("cannot write {} to {}: {}", key, spec.controlTopic(), e.getMessage());
            return false;
        }
    }

    private void closeConnection() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (Exception ignored) {
            // already gone
        }
        connection = null;
    }

    @Override
    public void close() throws InterruptedException {
        if (timer != null) {
            timer.shutdownNow();
            timer.awaitTermination(10, TimeUnit.SECONDS);
        }
        closeConnection();
        writer.close();
    }
}
