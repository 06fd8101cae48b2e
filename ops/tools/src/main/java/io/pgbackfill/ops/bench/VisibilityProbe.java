package io.pgbackfill.ops.bench;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Watches the target for the tracked writes: every {@code pollMillis} it looks up the pending ids in
 * {@code users_v2} (by primary key, so the probe costs little however large the table) and, for each row
 * whose created_at has reached the write's stamp, records lag = PostgreSQL's clock now - the stamp.
 * The lag is measured to within one poll interval: {@code pollMillis} while few writes are pending (streaming),
 * longer during a backlog.
 */
final class VisibilityProbe implements AutoCloseable {
    private final Callable<Connection> connections;
    private final long pollMillis;
    private final long phaseStartMicros;
    private final StageTracer tracer;
    private final Map<Long, Long> pending = new ConcurrentHashMap<>();
    private final List<LagSample> samples = new ArrayList<>();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private volatile long snapshotDoneMicros = Long.MAX_VALUE;
    private volatile boolean running;
    private Thread thread;

    VisibilityProbe(Callable<Connection> connections, long pollMillis, long phaseStartMicros, StageTracer tracer) {
        this.connections = connections;
        this.pollMillis = pollMillis;
        this.phaseStartMicros = phaseStartMicros;
        this.tracer = tracer;
    }

    /** A write to watch for; a second write to the same id while the first is pending is not tracked. */
    void track(long id, long stampMicros) {
        pending.putIfAbsent(id, stampMicros);
    }

    /** Writes stamped before this are counted as "during the snapshot". */
    void snapshotDoneAt(long micros) {
        snapshotDoneMicros = micros;
    }

    void start() {
        running = true;
        thread = new Thread(this::run, "bench-visibility-probe");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try (Connection c = connections.call();
             PreparedStatement ps = c.prepareStatement("SELECT id, " + DbClock.micros("created_at") + ", " + DbClock.micros("clock_timestamp()")
                     + " FROM users_v2 WHERE id = ANY(?)")) {
            c.setAutoCommit(true);
            while (running) {
                if (!pending.isEmpty()) {
                    Array ids = c.createArrayOf("bigint", pending.keySet().toArray());
                    ps.setArray(1, ids);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            long id = rs.getLong(1);
                            long targetStamp = rs.getLong(2);
                            long now = rs.getLong(3);
                            Long stamp = pending.get(id);
                            if (stamp != null && targetStamp >= stamp && pending.remove(id, stamp)) {
                                LagSample sample = new LagSample((stamp - phaseStartMicros) / 1e6, (now - stamp) / 1000.0, stamp < snapshotDoneMicros,
                                        tracer.stages(id, stamp, now));
                                synchronized (samples) {
                                    samples.add(sample);
                                }
                            }
                        }
                    }
                    ids.free();
                }
                // A backlog (during the snapshot lags reach seconds) would turn fixed-rate polling into a load of its own
                // on the database under test: poll less often as it grows, keeping lookups near 10 per millisecond.
                Thread.sleep(Math.max(pollMillis, Math.min(250, pending.size() / 10)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            failure.compareAndSet(null, e);
        }
    }

    /** Waits until every tracked write has been seen; false if some were still missing after {@code timeout}. */
    boolean awaitDrained(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!pending.isEmpty() && System.nanoTime() < deadline && failure.get() == null) {
            Thread.sleep(pollMillis);
        }
        return pending.isEmpty();
    }

    int pendingCount() {
        return pending.size();
    }

    List<LagSample> samples() {
        synchronized (samples) {
            return List.copyOf(samples);
        }
    }

    Exception failure() {
        return failure.get();
    }

    long pollMillis() {
        return pollMillis;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        if (thread != null) {
            thread.interrupt();
            thread.join(5000);
        }
    }
}
