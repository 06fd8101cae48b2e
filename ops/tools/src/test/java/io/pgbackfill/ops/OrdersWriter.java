package io.pgbackfill.ops;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The application of {@link LiveCutoverIT}: inserts, updates, deletes and primary-key changes on {@code orders} at a
 * paced rate, from before the snapshot until after the cutover. Every statement names {@code legacy}, a column the
 * new table does not have: once the tables are swapped its statements fail, as the old application's would, and it
 * counts what committed before.
 * <ul>
 * <li>rows with {@code id % 50 == 7} are seeded with a NULL status (the spec sends them to the DLQ); the writer fixes
 * some of them later with an update that leaves the large {@code note} alone;</li>
 * <li>rows with {@code id % 20 == 7} carry a large note stored out of line; some of them are re-keyed;</li>
 * <li>rows with {@code id % 97 == 0} are never touched ("cold" rows a test may tamper with in the target).</li>
 * </ul>
 */
final class OrdersWriter implements AutoCloseable {
    static final String SCHEMA = """
            CREATE TABLE orders (tenant int NOT NULL, id bigserial, status text, amount text, note text, legacy boolean,
                                 PRIMARY KEY (tenant, id));
            ALTER TABLE orders ALTER COLUMN note SET STORAGE EXTERNAL;
            """;
    static final String SEED = """
            INSERT INTO orders (tenant, status, amount, note, legacy)
            SELECT 1 + g % 5,
                   CASE WHEN g % 50 = 7 THEN NULL ELSE (ARRAY['new','paid','shipped','cancelled'])[1 + g % 4] END,
                   CASE WHEN g % 100 = 13 THEN 'n/a' ELSE (g % 10000)::text || '.' || lpad((g % 100)::text, 2, '0') END,
                   CASE WHEN g % 20 = 7 THEN (SELECT string_agg(md5(g::text || i::text), '') FROM generate_series(1, 100) i)
                        ELSE 'note ' || g || ' ☕ çà' END,
                   false
            FROM generate_series(1, ROWS) g
            """;

    private final Callable<Connection> connect;
    private final int opsPerSecond;
    private final long seeded;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong committed = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final Thread thread;
    private volatile long startedNanos;
    private volatile long stoppedNanos;

    OrdersWriter(Callable<Connection> connect, long seeded, int opsPerSecond) {
        this.connect = connect;
        this.seeded = seeded;
        this.opsPerSecond = opsPerSecond;
        this.thread = new Thread(this::run, "orders-writer");
    }

    void start() {
        startedNanos = System.nanoTime();
        thread.start();
    }

    long committed() {
        return committed.get();
    }

    /** Committed operations per second while it ran. */
    double rate() {
        long end = stoppedNanos == 0 ? System.nanoTime() : stoppedNanos;
        return committed.get() / ((end - startedNanos) / 1e9);
    }

    private void run() {
        SplittableRandom r = new SplittableRandom(11);
        long next = System.nanoTime();
        long intervalNanos = 1_000_000_000L / opsPerSecond;
        try (Connection c = connect.call();
             PreparedStatement insert = c.prepareStatement("INSERT INTO orders (tenant, status, amount, note, legacy) VALUES (?, ?, ?, ?, true)");
             PreparedStatement update = c.prepareStatement("UPDATE orders SET status = ?, amount = ?, legacy = true WHERE id = ?");
             PreparedStatement fix = c.prepareStatement("UPDATE orders SET status = 'fixed', legacy = true WHERE id = ? AND status IS NULL");
             PreparedStatement delete = c.prepareStatement("DELETE FROM orders WHERE id = ? AND legacy IS NOT NULL");
             PreparedStatement rekey = c.prepareStatement("UPDATE orders SET id = nextval('orders_id_seq'), legacy = true WHERE id = ?")) {
            while (running.get()) {
                try {
                    int op = r.nextInt(100);
                    if (op < 30) {
                        insert.setInt(1, 1 + r.nextInt(5));
                        insert.setString(2, r.nextInt(20) == 0 ? null : "new");
                        insert.setString(3, r.nextInt(50) == 0 ? "n/a" : r.nextInt(10000) + ".5");
                        insert.setString(4, r.nextInt(10) == 0 ? "x".repeat(3000) + r.nextLong() : "short " + r.nextInt());
                        insert.executeUpdate();
                    } else if (op < 70) {
                        update.setString(1, r.nextInt(30) == 0 ? null : "paid");
                        update.setString(2, r.nextInt(10000) + "." + r.nextInt(10));
                        update.setLong(3, warmKey(r));
                        update.executeUpdate();
                    } else if (op < 82) {
                        fix.setLong(1, 7 + 50L * r.nextLong(seeded / 50));
                        fix.executeUpdate();
                    } else if (op < 92) {
                        delete.setLong(1, warmKey(r));
                        delete.executeUpdate();
                    } else {
                        // half of the key changes move a row with a large note left unchanged
                        rekey.setLong(1, r.nextBoolean() ? 7 + 20L * r.nextLong(seeded / 20) : warmKey(r));
                        rekey.executeUpdate();
                    }
                    committed.incrementAndGet();
                } catch (SQLException e) {
                    failed.incrementAndGet(); // after the swap: the old application's statements no longer fit
                }
                next += intervalNanos;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A key the writer may touch: any seeded id except the cold ones. */
    private long warmKey(SplittableRandom r) {
        long id = 1 + r.nextLong(seeded);
        return id % 97 == 0 ? id + 1 : id;
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.join();
        stoppedNanos = System.nanoTime();
    }
}
