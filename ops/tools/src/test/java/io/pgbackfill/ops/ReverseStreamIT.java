package io.pgbackfill.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbackfill.core.reverse.ReversePlan;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.embedded.EmbeddedInfrastructure;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.pipeline.Pipeline;
import io.pgbackfill.sink.SinkConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The escape route (scenario 8): a forward backfill with the old application writing; {@code cutover --reverse-stream};
 * the new application writes the new table (inserts, updates, deletes) while the reverse stream keeps the old table
 * current; {@code rollback} while it still writes; the old table equals the reverse mapping of the new table row for
 * row, every write made after the cutover included, and its sequence is past every key the new side handed out.
 * Same database and new cluster share one infrastructure.
 */
class ReverseStreamIT {
    static final int ROWS = 3_000;
    static EmbeddedInfrastructure infra;

    @BeforeAll
    static void up() throws Exception {
        infra = EmbeddedInfrastructure.start();
    }

    @AfterAll
    static void down() throws Exception {
        infra.close();
    }

    /** The reverse mapping in SQL, written independently of the reverse stream: the oracle, over the new table. */
    static final String REVERSED = "SELECT id, CASE WHEN last_name IS NULL THEN first_name ELSE first_name || ' ' || last_name END AS name, email, status FROM %s";

    @ParameterizedTest(name = "same database: {0}")
    @ValueSource(booleans = {true, false})
    void rollbackBringsBackEveryWriteMadeAfterTheCutover(boolean sameDatabase) throws Exception {
        String name = sameDatabase ? "rev-same" : "rev-new";
        String db = name.replace('-', '_');
        String targetDb = sameDatabase ? db : db + "_target";
        Path switched = Files.createTempFile(name, ".switched");
        Path switchedBack = Files.createTempFile(name, ".back");
        Files.delete(switched);
        Files.delete(switchedBack);
        try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE accounts (id bigserial PRIMARY KEY, name text NOT NULL, email text, status text NOT NULL, "
                    + "created_at timestamptz NOT NULL DEFAULT now())");
            st.execute("INSERT INTO accounts (name, email, status) SELECT (ARRAY['Ana', 'Ana Maria', 'João da Silva', 'Zoë 😀 Li'])[1 + g % 4] || ' ' || g, "
                    + "CASE WHEN g % 7 = 0 THEN NULL ELSE 'u' || g || '@example.com' END, (ARRAY['new', 'active', 'closed'])[1 + g % 3] "
                    + "FROM generate_series(1, " + ROWS + ") g");
        }
        try (Connection c = infra.connect(targetDb); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE accounts_v2 (id bigserial PRIMARY KEY, first_name text NOT NULL, last_name text, email text, status text NOT NULL)");
        }
        Path file = Files.createTempFile(name, ".yaml");
        Files.writeString(file, TestPipelines.switchSpecHead(infra, name, db, targetDb, sameDatabase, switched) + """
                tables:
                  - source: public.accounts
                    target: public.accounts_v2
                    columns:
                      id: id
                      first_name: before(name, ' ')
                      last_name: after(name, ' ')
                      email: email
                      status: status
                    reverse:
                      id: id
                      name: "last_name == null ? first_name : first_name + ' ' + last_name"
                      email: email
                      status: status
                """);
        PipelineSpec spec = SpecLoader.load(file);
        Path state = Files.createTempDirectory(name);
        CliRun check = CliRun.of("spec", "check", file.toString());
        assertThat(check.exitCode()).as(check.output()).isZero();
        // A reverse block that leaves a NOT NULL old column without a default unfilled is refused at spec check, with file:line.
        String written = Files.readString(file);
        Path bad = Files.createTempFile(name, "-bad.yaml");
        Files.writeString(bad, written.substring(0, written.lastIndexOf("      status: status")));
        CliRun refused = CliRun.of("spec", "check", bad.toString());
        assertThat(refused.exitCode()).as(refused.output()).isEqualTo(2);
        assertThat(refused.output()).containsPattern(Pattern.quote(bad.toString()) + ":\\d+:\\d+: reverse of public\\.accounts(_v2)?: old column status of "
                + "public\\.accounts(_old)? is NOT NULL and has no default, but the reverse block does not fill it").contains("invalid spec: ");
        assertThat(check.output()).contains("reverse stream").contains(sameDatabase ? "public.accounts -> public.accounts_old" : "public.accounts_v2 -> public.accounts");

        AppWriter oldApp = AppWriter.oldShape(() -> infra.connect(db), ROWS);
        long maxIdAtCutover;
        try (Pipeline forward = new Pipeline(MigrationPlan.connect(spec, file.toString()), state, SinkConfig.from(spec.sink()))) {
            oldApp.start();
            forward.start();
            await().atMost(Duration.ofMinutes(2)).until(() -> forward.producer().snapshotDone() || forward.failure() != null);
            assertThat(forward.failure()).isNull();
            CatchUp.await(spec, true, Duration.ofMinutes(2), () -> forward.failure() == null);
            CliRun verify = CliRun.of("verify", file.toString());
            assertThat(verify.exitCode()).as(verify.output()).isZero();

            CliRun cut = CliRun.of("cutover", file.toString(), "--reverse-stream", "--max-lag-ms", "20000");
            assertThat(cut.exitCode()).as(cut.output()).isZero();
            assertThat(cut.output()).contains("reverse stream: slot").contains("starts at the switch");
            oldApp.close();
            try (Connection c = infra.connect(targetDb); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT max(id) FROM " + (sameDatabase ? "accounts" : "accounts_v2"))) {
                rs.next();
                maxIdAtCutover = rs.getLong(1);
            }
        } finally {
            oldApp.close();
        }
        System.out.printf("%s: the old application committed %,d writes before the cutover%n", name, oldApp.committed());
        // The forward pipeline is done: stopped and torn down, as the cutover says. The reverse stream owns its own state.
        CliRun teardown = CliRun.of("teardown", file.toString(), "--force");
        assertThat(teardown.exitCode()).as(teardown.output()).isZero();

        String newTable = sameDatabase ? "accounts" : "accounts_v2";
        AppWriter newApp = AppWriter.newShape(() -> infra.connect(targetDb), newTable, maxIdAtCutover);
        MigrationPlan reversePlan = ReversePlan.connect(spec, file.toString());
        long pause;
        try (Pipeline reverse = new Pipeline(reversePlan, state.resolve("reverse"), SinkConfig.from(spec.sink()))) {
            newApp.start();
            reverse.start();
            await().atMost(Duration.ofMinutes(2)).until(() -> newApp.committed() >= 500 || newApp.stopped());
            assertThat(reverse.failure()).isNull();
            CliRun status = CliRun.of("status", file.toString(), "--reverse");
            assertThat(status.exitCode()).as(status.output()).isIn(0, 1);
            assertThat(status.output()).contains(spec.slotName() + "_reverse");

            // The rollback, while the new application keeps writing.
            CliRun back = sameDatabase ? CliRun.of("rollback", file.toString(), "--max-lag-ms", "20000")
                    : CliRun.of("rollback", file.toString(), "--max-lag-ms", "20000", "--switch-command", "touch " + switchedBack, "--json");
            assertThat(back.exitCode()).as(back.output()).isZero();
            assertThat(back.output()).contains("verify of the reverse mapping: CLEAN");
            if (!sameDatabase) { // --json: one object, progress lines beside it (on stderr)
                assertThat(back.output()).contains("{\"kind\":\"rollback\",\"result\":\"done\",\"done\":true,\"refusals\":[]");
            }
            Matcher m = Pattern.compile(sameDatabase ? "rollback: DONE, write pause (\\d+) ms" : "\"writePauseMillis\":(\\d+)").matcher(back.output());
            assertThat(m.find()).as(back.output()).isTrue();
            pause = Long.parseLong(m.group(1));
            long before = newApp.committed();
            await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> true);
            newApp.close();
            assertThat(newApp.committed()).as("no write reached the new table after the switch back").isEqualTo(before);
            if (!sameDatabase) {
                assertThat(switchedBack).exists();
            }
        } finally {
            newApp.close();
        }
        System.out.printf("%s: rollback write pause %d ms with the new application writing at %.0f ops/s (%,d writes after the cutover)%n",
                name, pause, newApp.rate(), newApp.committed());
        assertThat(newApp.inserted()).as("inserts after the cutover").isPositive();
        assertThat(newApp.updated()).as("updates after the cutover").isPositive();
        assertThat(newApp.deleted()).as("deletes after the cutover").isPositive();

        String newAfter = "accounts_v2"; // same database: the new table got its own name back
        try (Connection old = infra.connect(db); Connection now = infra.connect(targetDb)) {
            assertThat(differences(now, old, newAfter, "accounts")).as("old rows differing from the reverse mapping of the new table").isZero();
            try (Statement st = old.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FILTER (WHERE id > " + maxIdAtCutover + "), count(*) FROM accounts")) {
                rs.next();
                assertThat(rs.getLong(1)).as("rows inserted into the new table after the cutover, now in the old one").isPositive();
            }
            long newMax;
            try (Statement st = now.createStatement(); ResultSet rs = st.executeQuery("SELECT max(id) FROM " + newAfter)) {
                rs.next();
                newMax = rs.getLong(1);
            }
            try (Statement st = old.createStatement()) {
                // The old side's sequence is past every key the new side handed out: the application inserts again.
                ResultSet rs = st.executeQuery("INSERT INTO accounts (name, status) VALUES ('after rollback', 'new') RETURNING id");
                rs.next();
                assertThat(rs.getLong(1)).as("next key of the old table").isGreaterThan(newMax);
                ResultSet cols = st.executeQuery("SELECT count(*) FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname LIKE '\\_pgbackfill%' AND NOT attisdropped");
                cols.next();
                assertThat(cols.getLong(1)).as("the reverse sink's bookkeeping columns are gone").isZero();
            }
        }
        CliRun down = CliRun.of("teardown", file.toString(), "--reverse", "--kafka");
        assertThat(down.exitCode()).as(down.output()).isZero();
        assertThat(down.output()).contains("replication slot " + spec.slotName() + "_reverse");
    }

    /** Rows of the old table that differ from the reverse mapping of the new one, both ways (tables possibly in two databases). */
    static long differences(Connection newDb, Connection oldDb, String newTable, String oldTable) throws SQLException {
        try (Statement n = newDb.createStatement(); Statement o = oldDb.createStatement()) {
            o.execute("CREATE TEMP TABLE expected (id bigint, name text, email text, status text)");
            ResultSet rs = n.executeQuery(REVERSED.formatted(newTable));
            try (PreparedStatement ps = oldDb.prepareStatement("INSERT INTO expected VALUES (?, ?, ?, ?)")) {
                while (rs.next()) {
                    ps.setLong(1, rs.getLong(1));
                    ps.setString(2, rs.getString(2));
                    ps.setString(3, rs.getString(3));
                    ps.setString(4, rs.getString(4));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            String actual = "SELECT id, name, email, status FROM " + oldTable;
            ResultSet d = o.executeQuery("SELECT count(*) FROM ((SELECT * FROM expected EXCEPT " + actual + ") UNION ALL (" + actual
                    + " EXCEPT SELECT * FROM expected)) d");
            d.next();
            long count = d.getLong(1);
            if (count > 0) {
                ResultSet sample = o.executeQuery("(SELECT 'expected', * FROM (SELECT * FROM expected EXCEPT " + actual + ") a LIMIT 10) UNION ALL "
                        + "(SELECT 'actual', * FROM (" + actual + " EXCEPT SELECT * FROM expected) b LIMIT 10)");
                while (sample.next()) {
                    System.out.println("  " + sample.getString(1) + " id=" + sample.getString(2) + " name=" + sample.getString(3) + " email="
                            + sample.getString(4) + " status=" + sample.getString(5));
                }
            }
            return count;
        }
    }

    /**
     * An application writing one shape of the table: inserts (keys from the table's sequence), updates and deletes of
     * random keys, paced. Every statement names a column only its shape has, so once the tables are switched its
     * statements fail, and it counts what committed before.
     */
    static final class AppWriter implements AutoCloseable {
        private final Callable<Connection> connect;
        private final String insertSql;
        private final String updateSql;
        private final String deleteSql;
        private final boolean oldShape;
        private final long maxKey;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicBoolean stopped = new AtomicBoolean();
        private final AtomicLong inserted = new AtomicLong();
        private final AtomicLong updated = new AtomicLong();
        private final AtomicLong deleted = new AtomicLong();
        private final Thread thread;
        private volatile long startedNanos;
        private volatile long stoppedNanos;

        private AppWriter(Callable<Connection> connect, boolean oldShape, String table, long maxKey) {
            this.connect = connect;
            this.oldShape = oldShape;
            this.maxKey = maxKey;
            if (oldShape) {
                insertSql = "INSERT INTO " + table + " (name, email, status) VALUES (?, ?, ?) RETURNING id";
                updateSql = "UPDATE " + table + " SET name = ?, email = ?, status = ? WHERE id = ?";
                deleteSql = "DELETE FROM " + table + " WHERE id = ? AND name IS NOT NULL";
            } else {
                insertSql = "INSERT INTO " + table + " (first_name, last_name, email, status) VALUES (?, ?, ?, ?) RETURNING id";
                updateSql = "UPDATE " + table + " SET first_name = ?, last_name = ?, email = ?, status = ? WHERE id = ?";
                deleteSql = "DELETE FROM " + table + " WHERE id = ? AND first_name IS NOT NULL";
            }
            thread = new Thread(this::run, (oldShape ? "old" : "new") + "-app-writer");
        }

        static AppWriter oldShape(Callable<Connection> connect, long maxKey) {
            return new AppWriter(connect, true, "accounts", maxKey);
        }

        static AppWriter newShape(Callable<Connection> connect, String table, long maxKey) {
            return new AppWriter(connect, false, table, maxKey);
        }

        void start() {
            startedNanos = System.nanoTime();
            thread.start();
        }

        long committed() {
            return inserted.get() + updated.get() + deleted.get();
        }

        long inserted() {
            return inserted.get();
        }

        long updated() {
            return updated.get();
        }

        long deleted() {
            return deleted.get();
        }

        boolean stopped() {
            return stopped.get();
        }

        double rate() {
            long end = stoppedNanos == 0 ? System.nanoTime() : stoppedNanos;
            return committed() / ((end - startedNanos) / 1e9);
        }

        private void run() {
            SplittableRandom r = new SplittableRandom(oldShape ? 19 : 23);
            long highest = maxKey;
            try (Connection c = connect.call();
                 PreparedStatement insert = c.prepareStatement(insertSql);
                 PreparedStatement update = c.prepareStatement(updateSql);
                 PreparedStatement delete = c.prepareStatement(deleteSql)) {
                while (running.get()) {
                    int op = r.nextInt(10);
                    String first = new String[] {"Ana", "Bea", "Çelik", "Dmitri"}[r.nextInt(4)];
                    String last = r.nextInt(3) == 0 ? null : new String[] {"Souza", "de Lima", "Ng 🐉"}[r.nextInt(3)] + " " + r.nextInt(1000);
                    String email = r.nextInt(5) == 0 ? null : first.toLowerCase() + r.nextInt(100_000) + "@example.org";
                    String status = new String[] {"new", "active", "closed"}[r.nextInt(3)];
                    try {
                        if (op < 4) {
                            bind(insert, 1, first, last, email, status);
                            ResultSet rs = insert.executeQuery();
                            rs.next();
                            highest = Math.max(highest, rs.getLong(1));
                            inserted.incrementAndGet();
                        } else if (op < 8) {
                            int next = bind(update, 1, first, last, email, status);
                            update.setLong(next, 1 + r.nextLong(highest));
                            update.executeUpdate();
                            updated.incrementAndGet();
                        } else {
                            delete.setLong(1, 1 + r.nextLong(highest));
                            delete.executeUpdate();
                            deleted.incrementAndGet();
                        }
                    } catch (SQLException e) {
                        // After the switch this shape's statements fail (a column the other shape lacks, or a read-only table).
                        if (!running.get()) {
                            break;
                        }
                    }
                    Thread.sleep(4);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            } finally {
                stoppedNanos = System.nanoTime();
                stopped.set(true);
            }
        }

        private int bind(PreparedStatement ps, int at, String first, String last, String email, String status) throws SQLException {
            if (oldShape) {
                ps.setString(at++, last == null ? first : first + " " + last);
            } else {
                ps.setString(at++, first);
                ps.setString(at++, last);
            }
            ps.setString(at++, email);
            ps.setString(at++, status);
            return at;
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join();
        }
    }
}
