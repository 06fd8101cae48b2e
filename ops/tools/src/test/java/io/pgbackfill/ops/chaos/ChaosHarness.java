package io.pgbackfill.ops.chaos;

import io.pgbackfill.ops.UsersSplitSpec;
import io.pgbackfill.core.event.ChangeEvent;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.event.RowChange;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.core.sql.SqlIdentifier;
import io.pgbackfill.embedded.EmbeddedPostgresServer;
import io.pgbackfill.ops.BackfillCli;
import io.pgbackfill.ops.demo.DemoData;
import io.pgbackfill.ops.demo.DemoWriter;
import io.pgbackfill.ops.metrics.MetricsOptions;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.producer.ProducerState;
import io.pgbackfill.producer.SourceSetup;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The pipeline of the demo spec as it runs in production, one OS process per part, so that every fault is real:
 * producer, transformer and sink each {@code backfill STAGE SPEC} in a JVM of its own ({@link ChildProcess}), a Kafka
 * broker in another ({@link KafkaBrokerProcess}), and PostgreSQL (zonky's embedded server: source and target are
 * databases of the same server here, so restarting it restarts "the database"). The application writes all along
 * ({@link DemoWriter}).
 *
 * <p>The harness also plays the part of the deployment's supervisor ({@code restart: on-failure} in compose): a stage
 * that exits on its own (a stage stops with exit code 3 when its work fails, e.g. on a broker that went away) is
 * started again after a short backoff, and counted. Operations run on the test thread only; waiting is done in
 * {@link #pause(long)}, which supervises while it waits.
 *
 * <p>One shortcut, for speed and not for correctness: a stage killed with SIGKILL stays a member of its consumer group
 * until its session times out (10 s), and its successor's first rebalance waits for that. The harness removes the
 * dead member at once instead ({@code Admin.removeMembersFromConsumerGroup}, what the session timeout would do
 * later), so a trial costs seconds. Everything the dead member did or did not commit stays as it was.
 */
final class ChaosHarness implements AutoCloseable {
    static final String PIPELINE = "chaos";
    static final String DATABASE = "chaos";
    static final int PARTITIONS = 4;
    static final int WRITER_OPS_PER_SECOND = 200;
    static final Duration STARTUP = Duration.ofSeconds(90);

    /** The three stages, each one `backfill STAGE SPEC` process. */
    enum Stage {
        PRODUCER("producer"), TRANSFORMER("transformer"), SINK("sink");

        final String command;

        Stage(String command) {
            this.command = command;
        }

        /** What {@code ServiceCommands.runUntilStopped} prints once the stage runs. */
        String runningMarker() {
            return command + " running;";
        }
    }

    /** The target compared with the transform of the source, row for row. */
    record Mismatch(long lost, long stale, long duplicates) {
        boolean clean() {
            return lost == 0 && stale == 0 && duplicates == 0;
        }

        Mismatch plus(Mismatch o) {
            return new Mismatch(lost + o.lost, stale + o.stale, duplicates + o.duplicates);
        }
    }

    /** The demo transform in SQL, independent of the CEL spec (as in {@link DemoData#oracleMismatches}). */
    static final String EXPECTED = "SELECT id, CASE WHEN position(' ' in name) = 0 THEN name ELSE split_part(name, ' ', 1) END AS first_name, "
            + "CASE WHEN position(' ' in name) = 0 THEN NULL ELSE substr(name, position(' ' in name) + 1) END AS last_name, "
            + "lower(email) AS email, created_at FROM users";
    static final String ACTUAL = "SELECT id, first_name, last_name, email, created_at FROM users_v2";

    private final Path dir;
    private final PrintStream out;
    private final long startedNanos = System.nanoTime();
    private EmbeddedPostgresServer postgres;
    private KafkaBrokerProcess broker;
    private Admin admin;
    private PipelineSpec spec;
    private Path specFile;
    private final Map<Stage, ChildProcess> stages = new EnumMap<>(Stage.class);
    private final Set<Stage> heldDown = EnumSet.noneOf(Stage.class);
    private final Set<Stage> seenRunning = EnumSet.noneOf(Stage.class);
    private final Map<Stage, Long> restartAt = new EnumMap<>(Stage.class);
    private final Map<Stage, Integer> failuresInARow = new EnumMap<>(Stage.class);
    private final Map<Stage, Integer> ownExits = new EnumMap<>(Stage.class);
    private boolean brokerHeldDown;
    private DemoWriter writer;
    private long writerOps;
    private boolean initialSnapshotDone;

    ChaosHarness(Path dir, PrintStream out) {
        this.dir = dir;
        this.out = out;
    }

    // ------------------------------------------------------------------------------------------------ setup

    /** PostgreSQL with {@code seedRows} users, the broker, and the three stages running. */
    void start(long seedRows) throws Exception {
        ChildProcess.freezeClasspath(dir.resolve("classpath"));
        postgres = EmbeddedPostgresServer.start();
        postgres.createDatabase(DATABASE);
        try (Connection c = connect()) {
            DemoData.createTables(c);
            DemoData.seed(c, seedRows);
        }
        log("postgres up on port %d, %d users seeded", postgres.port(), seedRows);
        broker = new KafkaBrokerProcess(dir.resolve("kafka"));
        broker.format();
        broker.start(STARTUP);
        log("kafka broker up on %s (pid %d)", broker.bootstrapServers(), broker.process().pid());
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "chaos-harness");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        admin = Admin.create(p);
        specFile = writeSpec();
        spec = SpecLoader.load(specFile);
        Path state = Files.createDirectories(dir.resolve("state"));
        // No metrics endpoint: three stages would fight over the default port, and nothing here scrapes it.
        Map<String, String> env = Map.of(MetricsOptions.PORT_ENV, "-1");
        for (Stage s : Stage.values()) {
            List<String> args = new ArrayList<>(List.of(s.command, specFile.toString()));
            if (s != Stage.SINK) {
                args.addAll(List.of("--state-dir", state.toString()));
            }
            stages.put(s, new ChildProcess(s.command, ChildProcess.java(BackfillCli.class.getName(), args), env, dir.resolve(s.command + ".log")));
        }
        log("starting producer, transformer, sink");
        for (Stage s : Stage.values()) {
            startStage(s);
        }
        awaitAllRunning(STARTUP);
        log("all stages running");
    }

    /**
     * The demo spec, small snapshot chunks (a snapshot of a few thousand rows takes a few seconds, so faults land in
     * it). {@code -Dchaos.snapshotMode=M} sets {@code snapshot.mode} (left to the product's default otherwise).
     * {@code -Dchaos.throttle=true} adds throttling: a throttle query true one second in three, the replica-lag and
     * retained-WAL checks, and a snapshot rate limit, so faults also land while the snapshot is held.
     */
    private Path writeSpec() throws IOException {
        String mode = System.getProperty("chaos.snapshotMode", "");
        String snapshot = mode.isBlank() ? "{chunkSize: 500}" : "{chunkSize: 500, mode: " + mode.trim() + "}";
        return Files.writeString(dir.resolve("chaos.yaml"), """
                name: %s
                source: {jdbcUrl: "%s", user: postgres}
                kafka: {bootstrapServers: "%s", partitions: %d}
                snapshot: %s
                %s
                %s""".formatted(PIPELINE, postgres.jdbcUrl(DATABASE), broker.bootstrapServers(), PARTITIONS, snapshot,
                Boolean.getBoolean("chaos.throttle") ? "throttle: {intervalMs: 250, replicaLagMs: 60000, slotRetainedMiB: 102400, rowsPerSecond: 4000, "
                        + "query: \"SELECT extract(epoch FROM clock_timestamp())::bigint % 3 = 0\"}" : "", UsersSplitSpec.tables("users")));
    }

    PipelineSpec spec() {
        return spec;
    }

    Connection connect() throws SQLException {
        return postgres.connect(DATABASE);
    }

    // ------------------------------------------------------------------------------------------------ stages

    private void startStage(Stage s) throws IOException {
        if (s != Stage.PRODUCER) {
            removeDeadMembers(s == Stage.SINK ? spec.sinkGroupId() : spec.transformerApplicationId());
        }
        seenRunning.remove(s);
        stages.get(s).start();
    }

    /**
     * Removes the members left in a stage's group. Called only while no process of that stage runs (one instance
     * per stage here), so every member is a dead one: what its session timeout would do 10 s later.
     */
    private void removeDeadMembers(String group) {
        try {
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get(10, TimeUnit.SECONDS);
            if (d.members().isEmpty()) {
                return;
            }
            admin.removeMembersFromConsumerGroup(group, new RemoveMembersFromConsumerGroupOptions()).all().get(10, TimeUnit.SECONDS);
            log("removed %d dead member(s) from group %s", d.members().size(), group);
        } catch (Exception e) {
            // No group yet, or the broker is away: the successor then waits for the session timeout instead.
            String m = String.valueOf(e.getCause() != null ? e.getCause() : e);
            if (!m.contains("GroupIdNotFound") && !m.contains("does not exist")) {
                log("could not remove dead members from %s (%s)", group, m);
            }
        }
    }

    /** kill -9 of a stage; it stays down (the supervisor leaves it alone) until {@link #reviveStage}. */
    void killStage(Stage s) throws InterruptedException {
        heldDown.add(s);
        long pid = stages.get(s).pid();
        stages.get(s).killHard();
        log("kill -9 %s (pid %d)", s.command, pid);
    }

    void reviveStage(Stage s) throws IOException {
        heldDown.remove(s);
        failuresInARow.remove(s);
        startStage(s);
        log("started %s again (pid %d)", s.command, stages.get(s).pid());
    }

    /**
     * The supervisor: a stage that is not held down and not running is started again, after a backoff that grows
     * while it keeps failing (1 s, 2 s, 4 s, at most 8 s). The broker is not supervised: if it dies on its own, the
     * run fails.
     */
    void supervise() {
        if (!brokerHeldDown && broker != null && !broker.isAlive()) {
            throw new IllegalStateException("the Kafka broker died on its own (exit " + broker.process().exitCode() + ")\n" + logTails());
        }
        for (Stage s : Stage.values()) {
            ChildProcess p = stages.get(s);
            if (p == null || heldDown.contains(s)) {
                continue;
            }
            try {
                if (p.isAlive()) {
                    if (!seenRunning.contains(s) && p.printedSinceStart(s.runningMarker())) {
                        seenRunning.add(s);
                        failuresInARow.remove(s);
                    }
                    continue;
                }
                long now = System.nanoTime();
                Long at = restartAt.get(s);
                if (at == null) {
                    int n = failuresInARow.merge(s, 1, Integer::sum);
                    ownExits.merge(s, 1, Integer::sum);
                    long backoff = Math.min(8_000, 1_000L << Math.min(3, n - 1));
                    log("%s exited on its own (exit code %s); restarting in %d ms", s.command, p.exitCode(), backoff);
                    restartAt.put(s, now + TimeUnit.MILLISECONDS.toNanos(backoff));
                } else if (now >= at) {
                    restartAt.remove(s);
                    startStage(s);
                    log("restarted %s (pid %d)", s.command, p.pid());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Sleeps, supervising the stages meanwhile. */
    void pause(long ms) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        do {
            supervise();
            long left = TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime());
            if (left > 0) {
                Thread.sleep(Math.min(100, left));
            }
        } while (System.nanoTime() < until);
    }

    /** Until every stage runs (alive, and said so); stages that exit meanwhile are restarted. */
    void awaitAllRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            supervise();
            if (heldDown.isEmpty() && seenRunning.containsAll(EnumSet.allOf(Stage.class))
                    && stages.values().stream().allMatch(ChildProcess::isAlive)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not every stage is running after " + timeout.toSeconds() + " s: " + stages.values() + "\n" + logTails());
            }
            Thread.sleep(100);
        }
    }

    /** How often each stage exited on its own (not killed by the harness) so far. */
    Map<Stage, Integer> ownExits() {
        return Map.copyOf(ownExits);
    }

    // ------------------------------------------------------------------------------------------------ faults

    void restartBroker(long downMs) throws Exception {
        brokerHeldDown = true;
        long pid = broker.process().pid();
        broker.killHard();
        log("kill -9 kafka broker (pid %d)", pid);
        pause(downMs);
        broker.start(STARTUP);
        brokerHeldDown = false;
        log("kafka broker up again (pid %d)", broker.process().pid());
    }

    /**
     * Stops PostgreSQL (a fast shutdown: sessions are cut, then a shutdown checkpoint), waits, starts it again on the
     * same data and port.
     *
     * <p>A fast shutdown waits for every logical walsender's client to confirm the WAL up to the shutdown checkpoint.
     * The producer (Debezium) confirms only what it has committed, so now and then the shutdown waits for
     * {@code wal_sender_timeout} (60 s) and zonky's {@code pg_ctl stop -t 5} gives up. Then the harness does what an
     * operator would: it terminates that walsender (SIGTERM), and if the server is still up after 30 s, shuts it down
     * immediately (SIGQUIT, a crash as far as the data is concerned).
     */
    void restartDatabase(long downMs) throws Exception {
        long postmaster = postmasterPid();
        Long walsender = walsenderPid();
        postgres.stop();
        if (isAlive(postmaster)) {
            log("fast shutdown still waiting (a logical replication client has not confirmed the shutdown checkpoint): "
                    + "SIGTERM to the slot's walsender (pid %s)", walsender);
            if (walsender != null) {
                ProcessHandle.of(walsender).ifPresent(ProcessHandle::destroy);
            }
            if (!awaitExit(postmaster, 30_000)) {
                log("still up after 30 s: immediate shutdown (SIGQUIT)");
                signal(postmaster, "QUIT");
                if (!awaitExit(postmaster, 30_000)) {
                    throw new IllegalStateException("PostgreSQL (pid " + postmaster + ") did not stop");
                }
            }
        }
        log("postgres stopped");
        pause(downMs);
        postgres.restart();
        log("postgres up again");
        restartWriter();
    }

    /** Crashes PostgreSQL: SIGQUIT to the postmaster (an immediate shutdown: no checkpoint, WAL not yet written is lost). */
    void crashDatabase(long downMs) throws Exception {
        long postmaster = postmasterPid();
        signal(postmaster, "QUIT");
        if (!awaitExit(postmaster, 30_000)) {
            throw new IllegalStateException("PostgreSQL (pid " + postmaster + ") did not stop on SIGQUIT");
        }
        log("postgres crashed (SIGQUIT to postmaster pid %d)", postmaster);
        postgres.stop(); // forgets the dead server (pg_ctl finds nothing to stop)
        pause(downMs);
        postgres.restart();
        log("postgres up again (after crash recovery)");
        restartWriter();
    }

    private void restartWriter() throws InterruptedException {
        if (writer != null) {
            // Its one connection died with the server: carry on with a new writer, as an application reconnects.
            long seed = System.nanoTime();
            pauseWriter();
            resumeWriter(seed);
        }
    }

    /** The postmaster's pid: the first line of postmaster.pid in the data directory. */
    private long postmasterPid() throws SQLException, IOException {
        try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW data_directory")) {
            rs.next();
            return Long.parseLong(Files.readAllLines(Path.of(rs.getString(1)).resolve("postmaster.pid")).get(0).trim());
        }
    }

    private Long walsenderPid() throws SQLException {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("SELECT active_pid FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, spec.slotName());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getObject(1) != null ? rs.getLong(1) : null;
            }
        }
    }

    private static boolean isAlive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private static boolean awaitExit(long pid, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (isAlive(pid)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(100);
        }
        return true;
    }

    private static void signal(long pid, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
        kill.waitFor(10, TimeUnit.SECONDS);
    }

    /** Terminates the backend that streams the replication slot to the producer (a dropped source connection). */
    void dropSourceConnection() throws SQLException {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT active_pid, pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, spec.slotName());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next() && rs.getObject(1) != null) {
                    log("terminated the slot's walsender (backend pid %d): %s", rs.getInt(1), rs.getBoolean(2));
                } else {
                    log("slot %s had no active connection to drop", spec.slotName());
                }
            }
        }
    }

    /** Asks Debezium for a new incremental snapshot of the table (an ad-hoc signal, unique id): a snapshot phase. */
    void requestSnapshot(String id) throws SQLException {
        String table = SourceSetup.SCHEMA + "." + SqlIdentifier.of(SourceSetup.signalTable(spec)).quoted();
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("INSERT INTO " + table
                + " (id, type, data) VALUES (?, 'execute-snapshot', '{\"data-collections\": [\"public.users\"], \"type\": \"incremental\"}')")) {
            // Durably, as an operator's request is on a server with the default setting: the test server runs with
            // synchronous_commit off, and a CRASH_DATABASE right after the INSERT then lost the acknowledged request
            // (seed -739215777312654067, trial 57: the snapshot never ran, so the rows the trial deleted stayed away).
            try (var st = c.createStatement()) {
                st.execute("SET synchronous_commit = on");
            }
            ps.setString(1, id);
            ps.executeUpdate();
        }
        log("asked for an incremental snapshot (%s)", id);
    }

    /**
     * Deletes {@code rows} rows of the target, chosen by {@code salt}, and returns their keys: the snapshot asked for
     * next must bring them back (they exist in the source), so a snapshot that gives up early shows as lost rows.
     */
    List<Long> damageTarget(int rows, long salt) throws SQLException {
        List<Long> ids = new ArrayList<>();
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(
                "DELETE FROM users_v2 WHERE id IN (SELECT id FROM users_v2 ORDER BY md5(id::text || ?) LIMIT ?) RETURNING id")) {
            ps.setString(1, Long.toString(salt));
            ps.setInt(2, rows);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
        }
        log("deleted %d rows from the target for the snapshot to restore", ids.size());
        return ids;
    }

    /** Of {@code ids}, those the source has and the target does not. */
    long missing(List<Long> ids) throws SQLException {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM users u WHERE u.id = ANY (?) AND NOT EXISTS (SELECT 1 FROM users_v2 t WHERE t.id = u.id)")) {
            ps.setArray(1, c.createArrayOf("bigint", ids.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * Waits until the snapshot has brought back every row of {@code ids} the source still has. Snapshots asked for
     * while one runs queue behind it (and Debezium re-queues after restarts), so this waits for the rows themselves,
     * not for a particular snapshot. Returns how many are still missing at the timeout (0 when all came back).
     */
    long awaitRestored(List<Long> ids, Duration timeout) throws Exception {
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        long missing = missing(ids);
        while (missing > 0 && System.nanoTime() < deadline) {
            pause(250);
            missing = missing(ids);
        }
        log("%s", missing == 0 ? String.format(java.util.Locale.ROOT, "the snapshot restored the deleted rows in %.1f s", (System.nanoTime() - t0) / 1e9)
                : missing + " deleted rows not restored by a snapshot within " + timeout.toSeconds() + " s");
        return missing;
    }

    /** Waits until the sink reports the initial snapshot done on every partition. */
    void awaitInitialSnapshot(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!initialSnapshotDone) {
            supervise();
            initialSnapshotDone = CatchUp.partitionsAt(spec, 0, true) >= CatchUp.partitionsTotal(spec);
            if (!initialSnapshotDone) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the initial snapshot did not finish within " + timeout.toSeconds() + " s\n" + logTails());
                }
                Thread.sleep(200);
            }
        }
    }

    /** Snapshot rows the producer has read so far, over all its runs (its producer-state.json, written every second). */
    long snapshotRowsRead() {
        ProducerState state = ProducerState.read(dir.resolve("state").resolve("producer"));
        return state.tables().values().stream().mapToLong(ProducerState.TableProgress::rowsRead).sum();
    }

    boolean initialSnapshotDone() {
        return initialSnapshotDone;
    }

    // ------------------------------------------------------------------------------------------------ writer

    void resumeWriter(long seed) {
        writer = new DemoWriter(() -> {
            try {
                return connect();
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }, WRITER_OPS_PER_SECOND, seed);
        writer.start();
    }

    /** Stops the writer; returns the operations it made since it was resumed. */
    long pauseWriter() throws InterruptedException {
        if (writer == null) {
            return 0;
        }
        writer.close();
        long ops = writer.operations();
        writerOps += ops;
        writer = null;
        return ops;
    }

    long writerOperations() {
        return writerOps;
    }

    // ------------------------------------------------------------------------------------------------ checks

    /** Fences the source and waits until the target has everything before the fence; stages are supervised meanwhile. */
    long catchUp(Duration timeout) throws Exception {
        initialSnapshotDone = true;
        long t0 = System.nanoTime();
        try {
            long lsn = CatchUp.await(spec, true, timeout, () -> {
                supervise();
                return true;
            });
            log("writer paused; the target caught up with fence LSN %d in %.1f s", lsn, (System.nanoTime() - t0) / 1e9);
            return lsn;
        } catch (IllegalStateException e) {
            throw new IllegalStateException(e.getMessage() + "\n" + logTails(), e);
        }
    }

    /**
     * Lost: expected rows whose key is missing from the target. Stale: keys in both, with different values.
     * Duplicates: target rows whose key the source does not have (deleted or re-keyed rows that came back, or
     * rows applied twice under another key).
     */
    Mismatch compare() throws SQLException {
        String sql = "WITH e AS (" + EXPECTED + "), a AS (" + ACTUAL + "), "
                + "missing AS (SELECT * FROM e EXCEPT SELECT * FROM a), extra AS (SELECT * FROM a EXCEPT SELECT * FROM e) "
                + "SELECT (SELECT count(*) FROM missing m WHERE NOT EXISTS (SELECT 1 FROM a WHERE a.id = m.id)), "
                + "(SELECT count(*) FROM missing m WHERE EXISTS (SELECT 1 FROM a WHERE a.id = m.id)), "
                + "(SELECT count(*) FROM extra x WHERE NOT EXISTS (SELECT 1 FROM e WHERE e.id = x.id))";
        try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return new Mismatch(rs.getLong(1), rs.getLong(2), rs.getLong(3));
        }
    }

    long targetRows() throws SQLException {
        try (Connection c = connect()) {
            return DemoData.count(c, "users_v2");
        }
    }

    /** The differing rows (at most 20), each with its source row, the target row and the target's row version. */
    List<String> differences() throws SQLException {
        List<String> lines = new ArrayList<>();
        String sql = "WITH e AS (" + EXPECTED + "), a AS (" + ACTUAL + "), "
                + "d AS ((SELECT id FROM (SELECT * FROM e EXCEPT SELECT * FROM a) x) UNION (SELECT id FROM (SELECT * FROM a EXCEPT SELECT * FROM e) y)) "
                + "SELECT d.id, u.name, u.email, u.created_at, t.first_name, t.last_name, t.email, t.created_at, t._pgbackfill_lsn "
                + "FROM d LEFT JOIN users u ON u.id = d.id LEFT JOIN users_v2 t ON t.id = d.id ORDER BY d.id LIMIT 20";
        try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                lines.add("id " + rs.getLong(1) + ": source " + (rs.getObject(4) == null ? "(none)" : "[" + rs.getString(2) + ", " + rs.getString(3) + ", " + rs.getString(4) + "]")
                        + "  target " + (rs.getObject(9) == null ? "(none)" : "[" + rs.getString(5) + ", " + rs.getString(6) + ", " + rs.getString(7) + ", "
                        + rs.getString(8) + "] lsn " + rs.getLong(9)));
            }
        }
        return lines;
    }

    /** The raw events and row changes of one key (the last 6 of each), in partition order: what each stage saw of the row. */
    List<String> history(long id) {
        List<String> lines = new ArrayList<>();
        TableSpec t = spec.tables().get(0);
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrapServers());
        p.put("isolation.level", "read_committed");
        for (String topic : List.of(spec.rawTopic(t), spec.rowsTopic(t))) {
            List<String> found = new ArrayList<>();
            try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                List<TopicPartition> parts = c.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
                c.assign(parts);
                c.seekToBeginning(parts);
                Map<TopicPartition, Long> end = c.endOffsets(parts);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                    for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                        String where = topic.substring(topic.lastIndexOf('.', topic.lastIndexOf('.') - 1) + 1) + "/" + r.partition() + "@" + r.offset();
                        if (topic.equals(spec.rawTopic(t))) {
                            ChangeEvent e = EventCodec.decodeChange(r.value());
                            if (e.key() != null && String.valueOf(e.key().get("id")).equals(Long.toString(id))) {
                                found.add("  raw  " + where + " op=" + e.op() + " lsn=" + e.lsn() + " snapshot=" + e.snapshot() + " after=" + e.after());
                            }
                        } else {
                            RowChange rc = EventCodec.decodeRow(r.value());
                            if (rc.key() != null && Long.toString(id).equals(rc.key().get("id"))) {
                                found.add("  rows " + where + " op=" + rc.op() + " lsn=" + rc.lsn() + " values=" + rc.values());
                            }
                        }
                    }
                }
            } catch (RuntimeException e) {
                found.add("  (cannot read " + topic + ": " + e + ")");
            }
            if (found.size() > 6) {
                lines.add("  ... " + (found.size() - 6) + " earlier in " + topic);
            }
            lines.addAll(found.subList(Math.max(0, found.size() - 6), found.size()));
        }
        return lines;
    }

    // ------------------------------------------------------------------------------------------------ output

    void log(String format, Object... args) {
        out.printf(java.util.Locale.ROOT, "[chaos %6.1f s %s] %s%n", (System.nanoTime() - startedNanos) / 1e9,
                java.time.LocalTime.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS), String.format(java.util.Locale.ROOT, format, args));
    }

    /** The child processes' log files, with their last lines. */
    String logTails() {
        return Stream.concat(broker == null ? Stream.empty() : Stream.of(broker.process()), stages.values().stream())
                .map(p -> p.logTail(40)).collect(Collectors.joining("\n"));
    }

    String logPaths() {
        return Stream.concat(broker == null ? Stream.empty() : Stream.of(broker.process()), stages.values().stream())
                .map(p -> p.name() + ": " + p.log()).collect(Collectors.joining(", "));
    }

    /** Stops everything this harness started, each step on its own so one failure does not leave the rest running. */
    @Override
    public void close() {
        List<Throwable> errors = new ArrayList<>();
        run(errors, this::pauseWriter);
        for (ChildProcess p : stages.values()) {
            run(errors, p::killHard);
        }
        if (admin != null) {
            run(errors, () -> admin.close(Duration.ofSeconds(5)));
        }
        if (broker != null) {
            run(errors, broker::killHard);
        }
        if (postgres != null) {
            run(errors, postgres::close);
        }
        if (!errors.isEmpty()) {
            IllegalStateException e = new IllegalStateException("cleanup failed: " + errors);
            errors.forEach(e::addSuppressed);
            throw e;
        }
    }

    /** Deletes the work directory (logs, Kafka data, state): after a clean run only. */
    void deleteWorkDirectory() throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    Path workDirectory() {
        return dir;
    }

    interface Step {
        void run() throws Exception;
    }

    private static void run(List<Throwable> errors, Step step) {
        try {
            step.run();
        } catch (Throwable t) {
            errors.add(t);
        }
    }
}
