package io.pgbackfill.ops.demo;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The application, while the backfill runs: inserts, updates, deletes and primary-key changes on
 * {@code users} at a fixed rate, each its own autocommit transaction, from a seeded random source.
 */
public final class DemoWriter implements AutoCloseable {
    private static final String[] FIRST = {"Ana", "João", "Zoë", "Müller", "李", "Émilie", "Олег", "Priya", "O'Brien", "Sam 🙂"};
    private static final String[] LAST = {"Silva", "Souza Lima", "Ng", "van der Berg", "小龍", "Kowalski", "Nakamura", "de la Cruz", "Smith", "Ødegaard"};

    private final Supplier<Connection> connections;
    private final int opsPerSecond;
    private final SplittableRandom random;
    private final AtomicLong inserts = new AtomicLong();
    private final AtomicLong updates = new AtomicLong();
    private final AtomicLong deletes = new AtomicLong();
    private final AtomicLong keyChanges = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private volatile boolean running;
    private Thread thread;

    public DemoWriter(Supplier<Connection> connections, int opsPerSecond, long seed) {
        this.connections = connections;
        this.opsPerSecond = opsPerSecond;
        this.random = new SplittableRandom(seed);
    }

    public void start() {
        if (opsPerSecond <= 0) {
            return;
        }
        running = true;
        thread = new Thread(this::run, "demo-writer");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try (Connection c = connections.get();
             PreparedStatement insert = c.prepareStatement("INSERT INTO users (name, email, created_at) VALUES (?, ?, now())");
             PreparedStatement update = c.prepareStatement("UPDATE users SET name = ?, email = ? WHERE id = ?");
             PreparedStatement delete = c.prepareStatement("DELETE FROM users WHERE id = ?");
             PreparedStatement rekey = c.prepareStatement("UPDATE users SET id = nextval('users_id_seq') WHERE id = ?")) {
            long maxId = maxId(c);
            long start = System.nanoTime();
            long done = 0;
            while (running) {
                int dice = random.nextInt(100);
                try {
                    if (dice < 45) {
                        insert.setString(1, name());
                        insert.setString(2, email());
                        insert.executeUpdate();
                        inserts.incrementAndGet();
                        maxId++;
                    } else if (dice < 85) {
                        update.setString(1, name());
                        update.setString(2, email());
                        update.setLong(3, 1 + random.nextLong(maxId));
                        update.executeUpdate();
                        updates.incrementAndGet();
                    } else if (dice < 97) {
                        delete.setLong(1, 1 + random.nextLong(maxId));
                        delete.executeUpdate();
                        deletes.incrementAndGet();
                    } else {
                        rekey.setLong(1, 1 + random.nextLong(maxId));
                        rekey.executeUpdate();
                        keyChanges.incrementAndGet();
                        maxId++;
                    }
                } catch (SQLException e) {
                    errors.incrementAndGet();
                }
                done++;
                long due = start + done * 1_000_000_000L / opsPerSecond;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
                }
            }
        } catch (SQLException | InterruptedException e) {
            errors.incrementAndGet();
        }
    }

    private String name() {
        int shape = random.nextInt(10);
        if (shape == 0) {
            return null;
        }
        String first = FIRST[random.nextInt(FIRST.length)];
        return shape < 3 ? first : first + " " + LAST[random.nextInt(LAST.length)];
    }

    private String email() {
        return random.nextInt(20) == 0 ? null : "Writer." + random.nextInt(1_000_000) + "@Mail.Example.ORG";
    }

    private static long maxId(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT coalesce(max(id), 1) FROM users")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    public long operations() {
        return inserts.get() + updates.get() + deletes.get() + keyChanges.get();
    }

    public String summary() {
        return inserts.get() + " inserts, " + updates.get() + " updates, " + deletes.get() + " deletes, " + keyChanges.get() + " key changes";
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        if (thread != null) {
            thread.join(10_000);
        }
    }
}
