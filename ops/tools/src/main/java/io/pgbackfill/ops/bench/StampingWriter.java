package io.pgbackfill.ops.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The application during a lag phase: inserts and updates on {@code users} at a fixed rate, each its own
 * autocommit transaction committed durably (synchronous_commit on, as in production), each stamping {@code created_at} with clock_timestamp() (the transform copies
 * created_at, so the stamp shows up in the target). Every {@code trackEvery}-th write is handed to the
 * {@link VisibilityProbe} with its id and stamp; deletes are left out because they cannot be seen arriving.
 */
final class StampingWriter implements AutoCloseable {
    /** Where tracked writes go. */
    interface Tracker {
        void track(long id, long stampMicros);
    }

    private static final String[] NAMES = {"Ana Silva", "João", "Zoë van der Berg", "李 小龍", "Sam 🙂 Smith", "Олег Ng"};

    private final Callable<Connection> connections;
    private final int writesPerSecond;
    private final int trackEvery;
    private final Tracker tracker;
    private final SplittableRandom random;
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private volatile boolean running;
    private volatile long startedNanos;
    private volatile long stoppedNanos;
    private Thread thread;

    StampingWriter(Callable<Connection> connections, int writesPerSecond, int trackEvery, Tracker tracker, long seed) {
        this.connections = connections;
        this.writesPerSecond = writesPerSecond;
        this.trackEvery = Math.max(1, trackEvery);
        this.tracker = tracker;
        this.random = new SplittableRandom(seed);
    }

    void start() {
        if (writesPerSecond <= 0) {
            return;
        }
        running = true;
        thread = new Thread(this::run, "bench-stamping-writer");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try (Connection c = connections.call();
             PreparedStatement insert = c.prepareStatement("INSERT INTO users (name, email, created_at) VALUES (?, ?, clock_timestamp()) "
                     + "RETURNING id, " + DbClock.micros("created_at"));
             PreparedStatement update = c.prepareStatement("UPDATE users SET name = ?, email = ?, created_at = clock_timestamp() WHERE id = ? "
                     + "RETURNING id, " + DbClock.micros("created_at"))) {
            c.setAutoCommit(true);
            // Commit as an application does: durably. The test servers run with synchronous_commit off, and then a
            // commit reaches logical decoding only when the WAL writer flushes it (wal_writer_delay, 200 ms): a lag
            // of the test server's settings, not of the pipeline. (fsync is off there, so this costs the writer little.)
            try (var st = c.createStatement()) {
                st.execute("SET synchronous_commit = on");
            }
            long maxId = BenchDatabase.queryLong(c, "SELECT coalesce(max(id), 1) FROM users");
            startedNanos = System.nanoTime();
            long done = 0;
            while (running) {
                PreparedStatement ps;
                if (random.nextBoolean()) {
                    ps = insert;
                    ps.setString(1, NAMES[random.nextInt(NAMES.length)]);
                    ps.setString(2, "Lag." + random.nextInt(1_000_000) + "@Bench.Example.ORG");
                } else {
                    ps = update;
                    ps.setString(1, NAMES[random.nextInt(NAMES.length)]);
                    ps.setString(2, "Lag." + random.nextInt(1_000_000) + "@Bench.Example.ORG");
                    ps.setLong(3, 1 + random.nextLong(maxId));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        long id = rs.getLong(1);
                        maxId = Math.max(maxId, id);
                        if (writes.incrementAndGet() % trackEvery == 0) {
                            tracker.track(id, rs.getLong(2));
                        }
                    }
                } catch (SQLException e) {
                    errors.incrementAndGet();
                }
                done++;
                long due = startedNanos + done * 1_000_000_000L / writesPerSecond;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
                }
            }
        } catch (Exception e) {
            errors.incrementAndGet();
        } finally {
            stoppedNanos = System.nanoTime();
        }
    }

    long writes() {
        return writes.get();
    }

    long errors() {
        return errors.get();
    }

    /** Writes per second actually achieved (the rate is a target; a saturated machine may not keep it). */
    double achievedRate() {
        long end = stoppedNanos > 0 ? stoppedNanos : System.nanoTime();
        return startedNanos == 0 ? 0 : writes.get() / Math.max(1e-9, (end - startedNanos) / 1e9);
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        if (thread != null) {
            thread.join(10_000);
        }
    }
}
