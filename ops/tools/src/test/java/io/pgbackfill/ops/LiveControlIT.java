package io.pgbackfill.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbackfill.core.control.ControlState;
import io.pgbackfill.core.control.ControlTopic;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.embedded.EmbeddedInfrastructure;
import io.pgbackfill.ops.control.CutoverHold;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.pipeline.Pipeline;
import io.pgbackfill.sink.SinkConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Live control on real PostgreSQL and Kafka: a throttle query that turns true mid-snapshot holds the snapshot while
 * changes keep streaming, and it goes on once the query turns false; pause and resume through {@code backfill ctl}
 * during the snapshot and during streaming; a rate limit set at runtime shows in {@code status} and in the measured
 * rate; a failing beforeCutover hook refuses the cutover with nothing changed; a postponed cutover is cancelled. The
 * target equals the transform of the source, row for row, at the end. One pipeline per snapshot reader: the
 * interleaved (incremental) snapshot, held by Debezium's pause/resume signals, and the initial scan, held in the
 * engine's handler.
 */
class LiveControlIT {
    static final int ROWS = 24_000;
    static final int CHUNK = 500;
    static EmbeddedInfrastructure infra;

    @BeforeAll
    static void up() throws Exception {
        infra = EmbeddedInfrastructure.start();
    }

    @AfterAll
    static void down() throws Exception {
        infra.close();
    }

    static Path spec(String name, String mode, long rowsPerSecond, Path hookFile) throws Exception {
        String db = name.replace('-', '_');
        try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)");
            st.execute("INSERT INTO items SELECT g, 'item ' || g, g % 97 FROM generate_series(1, " + ROWS + ") g");
            st.execute("CREATE TABLE items_v2 (id bigint PRIMARY KEY, name text, qty int)");
            st.execute("CREATE TABLE throttle_flag (throttle boolean NOT NULL)");
            st.execute("INSERT INTO throttle_flag VALUES (false)");
        }
        Path file = Files.createTempFile(name, ".yaml");
        Files.writeString(file, """
                name: %s
                source: {jdbcUrl: "%s", user: postgres}
                kafka: {bootstrapServers: "%s", partitions: 2}
                snapshot: {mode: %s, chunkSize: %d}
                throttle: {intervalMs: 200, query: "SELECT throttle FROM throttle_flag", rowsPerSecond: %d}
                hooks: {beforeCutover: "echo \\"$PGBACKFILL_HOOK of $PGBACKFILL_PIPELINE\\" > %s; echo not now; exit 3"}
                tables:
                  - source: public.items
                    target: public.items_v2
                    columns: {id: id, name: upper(name), qty: qty}
                """.formatted(name, infra.jdbcUrl(db), infra.kafkaBootstrapServers(), mode, CHUNK, rowsPerSecond, hookFile));
        return file;
    }

    @Test
    void interleavedSnapshotIsThrottledPausedAndRateLimitedWhileChangesStream() throws Exception {
        String name = "ctl-incremental";
        String db = name.replace('-', '_');
        Path hookFile = Files.createTempFile(name, ".hook");
        Path file = spec(name, "incremental", 2000, hookFile);
        PipelineSpec spec = SpecLoader.load(file);
        try (Pipeline pipeline = new Pipeline(MigrationPlan.connect(spec, file.toString()), Files.createTempDirectory(name), SinkConfig.from(spec.sink()))) {
            pipeline.start();
            LongSupplier read = () -> pipeline.producer().snapshotRowsRead("public.items");
            await().atMost(Duration.ofMinutes(1)).until(() -> read.getAsLong() > 2 * CHUNK || pipeline.failure() != null);

            // a rate limit set at runtime: in status, and in the measured rate
            CliRun limit = CliRun.of("ctl", file.toString(), "rate-limit", "1000", "--reason", "test");
            assertThat(limit.exitCode()).as(limit.output()).isZero();
            assertThat(CliRun.of("status", file.toString()).output()).contains("snapshot rate limit: 1,000 rows/s (set by");
            measureRate(read, 1000, Duration.ofSeconds(5));

            // the throttle query turns true: the snapshot stops, changes keep streaming into Kafka
            long eventsBefore = pipeline.producer().eventsOut();
            setThrottle(db, true);
            await().atMost(Duration.ofSeconds(30)).until(() -> pipeline.producer().snapshotControl().pacer().verdict().throttles());
            assertThat(CliRun.of("status", file.toString()).output()).contains("THROTTLED").contains("throttled by query");
            long atHold = awaitFlat(read);
            writeChanges(db, 1_000_000, 200);
            await().atMost(Duration.ofSeconds(30)).until(() -> pipeline.producer().eventsOut() >= eventsBefore + 200);
            assertThat(read.getAsLong() - atHold).as("snapshot rows read while throttled (changes streamed meanwhile)").isLessThanOrEqualTo(CHUNK);
            setThrottle(db, false);
            await().atMost(Duration.ofSeconds(30)).until(() -> read.getAsLong() > atHold + CHUNK);

            // pause and resume through the CLI during the snapshot
            assertThat(CliRun.of("ctl", file.toString(), "pause", "--reason", "load test").exitCode()).isZero();
            assertThat(CliRun.of("status", file.toString()).output()).containsPattern("PAUSED by \\S+ \\(load test\\)");
            long atPause = awaitFlat(read);
            long streamed = pipeline.producer().eventsOut();
            writeChanges(db, 2_000_000, 100);
            await().atMost(Duration.ofSeconds(30)).until(() -> pipeline.producer().eventsOut() >= streamed + 100);
            assertThat(read.getAsLong() - atPause).as("snapshot rows read while paused").isLessThanOrEqualTo(CHUNK);
            assertThat(CliRun.of("ctl", file.toString(), "resume").exitCode()).isZero();
            assertThat(CliRun.of("ctl", file.toString(), "rate-limit", "off").exitCode()).isZero();
            await().atMost(Duration.ofMinutes(2)).until(() -> pipeline.producer().snapshotDone() || pipeline.failure() != null);
            assertThat(pipeline.failure()).isNull();

            // pause during streaming: the sink holds, the WAL keeps streaming into Kafka; resume: it catches up
            CatchUp.await(spec, true, Duration.ofMinutes(2), () -> pipeline.failure() == null);
            assertThat(CliRun.of("ctl", file.toString(), "pause").exitCode()).isZero();
            await().atMost(Duration.ofSeconds(30)).until(() -> pipeline.sink().heldMillis() > 0);
            long beforeStreaming = pipeline.producer().eventsOut();
            writeChanges(db, 3_000_000, 300);
            await().atMost(Duration.ofSeconds(30)).until(() -> pipeline.producer().eventsOut() >= beforeStreaming + 300);
            assertThat(count(db, "SELECT count(*) FROM items_v2 WHERE id >= 3000000")).as("rows written while paused").isZero();
            assertThat(CliRun.of("ctl", file.toString(), "resume").exitCode()).isZero();
            CatchUp.await(spec, true, Duration.ofMinutes(2), () -> pipeline.failure() == null);
            assertThat(differences(db)).as("target rows differing from the transform of the source").isZero();
            assertThat(count(db, "SELECT count(*) FROM items_v2 WHERE id >= 3000000")).isEqualTo(300);

            // a failing beforeCutover hook refuses the cutover: exit 1, nothing changed
            CliRun verify = CliRun.of("verify", file.toString());
            assertThat(verify.exitCode()).as(verify.output()).isZero();
            CliRun cut = CliRun.of("cutover", file.toString());
            assertThat(cut.exitCode()).as(cut.output()).isEqualTo(1);
            assertThat(cut.output()).contains("the beforeCutover hook failed (exit 3): not now");
            assertThat(Files.readString(hookFile).trim()).isEqualTo("beforeCutover of " + name);
            assertThat(count(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('items', 'items_v2')")).isEqualTo(2);
            assertThat(count(db, "SELECT count(*) FROM pg_tables WHERE tablename = 'items_old'")).isZero();
            assertThat(count(db, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items_v2' AND column_name = '_pgbackfill_lsn'")).isOne();

            // a postponed cutover waits, says so in status, and a cancel makes it give up
            assertThat(CliRun.of("ctl", file.toString(), "postpone-cutover", "--reason", "peak hours").exitCode()).isZero();
            assertThat(CliRun.of("status", file.toString()).output()).containsPattern("cutover postponed by \\S+ \\(peak hours\\)");
            long started = System.currentTimeMillis();
            CompletableFuture<Optional<String>> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return CutoverHold.await(spec, started, new PrintStream(PrintStream.nullOutputStream()));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(waiting).isNotDone();
            assertThat(CliRun.of("ctl", file.toString(), "cancel-cutover", "--reason", "not today").exitCode()).isZero();
            assertThat(waiting.get()).hasValueSatisfying(why -> assertThat(why).startsWith("cutover cancelled by").contains("not today"));
            assertThat(ControlTopic.read(spec).cutover()).as("a cancel it obeyed is cleared").isEmpty();
            System.out.printf("%s: snapshot held %s; sink held %,d ms%n", name, pipeline.producer().snapshotControl().pacer().heldMillis(),
                    pipeline.sink().heldMillis());
        }
    }

    @Test
    void initialScanIsRateLimitedAndPausedInTheHandler() throws Exception {
        String name = "ctl-initial";
        String db = name.replace('-', '_');
        Path file = spec(name, "initial", 3000, Files.createTempFile(name, ".hook"));
        PipelineSpec spec = SpecLoader.load(file);
        assertThat(CliRun.of("preflight", file.toString()).output()).containsPattern("PASS\\s+throttle query\\s+runs; returns false now");
        try (Pipeline pipeline = new Pipeline(MigrationPlan.connect(spec, file.toString()), Files.createTempDirectory(name), SinkConfig.from(spec.sink()))) {
            pipeline.start();
            LongSupplier read = () -> pipeline.producer().snapshotRowsRead("public.items");
            await().atMost(Duration.ofMinutes(1)).until(() -> read.getAsLong() > 2 * CHUNK || pipeline.failure() != null);
            assertThat(CliRun.of("ctl", file.toString(), "rate-limit", "2000").exitCode()).isZero();
            assertThat(CliRun.of("status", file.toString()).output()).contains("snapshot rate limit: 2,000 rows/s (set by");
            measureRate(read, 2000, Duration.ofSeconds(3));
            writeChanges(db, 1_000_000, 50); // streamed once the scan is over
            assertThat(CliRun.of("ctl", file.toString(), "pause").exitCode()).isZero();
            long atPause = awaitFlat(read);
            assertThat(read.getAsLong() - atPause).isLessThanOrEqualTo(CHUNK);
            assertThat(CliRun.of("ctl", file.toString(), "resume").exitCode()).isZero();
            assertThat(CliRun.of("ctl", file.toString(), "rate-limit", "off").exitCode()).isZero();
            await().atMost(Duration.ofMinutes(2)).until(() -> pipeline.producer().snapshotDone() || pipeline.failure() != null);
            assertThat(pipeline.failure()).isNull();
            CatchUp.await(spec, true, Duration.ofMinutes(2), () -> pipeline.failure() == null);
            assertThat(differences(db)).as("target rows differing from the transform of the source").isZero();
            assertThat(pipeline.producer().snapshotControl().pacer().heldMillis()).containsKeys("paused", "rate-limit");
            assertThat(ControlTopic.read(spec).get(ControlState.PAUSE)).isEmpty();

            // the other checks against this real source: no physical replica lags; the slot retains some WAL
            try (Connection c = infra.connect(db)) {
                var lagOnly = new io.pgbackfill.producer.throttle.SourceHealthChecks(new io.pgbackfill.core.spec.ThrottleSpec(null, 0L, null, null, null, null), spec.slotName());
                assertThat(lagOnly.evaluate(c).throttles()).as("replica lag over 0 ms without replicas").isFalse();
                var retained = new io.pgbackfill.producer.throttle.SourceHealthChecks(new io.pgbackfill.core.spec.ThrottleSpec(null, null, 0L, null, null, null), spec.slotName());
                assertThat(retained.evaluate(c)).satisfies(v -> {
                    assertThat(v.check()).isEqualTo("slotRetained");
                    assertThat(v.current()).isPositive();
                });
                var critical = new io.pgbackfill.producer.throttle.SourceHealthChecks(new io.pgbackfill.core.spec.ThrottleSpec(null, null, null, null,
                        new io.pgbackfill.core.spec.ThrottleSpec.Critical(null, 0L), null), spec.slotName());
                assertThat(critical.evaluate(c).critical()).isTrue();
            }
        }
    }

    /** The snapshot's rate over {@code window}, printed as a ratio to the limit; the limiter never lets it run far above. */
    static void measureRate(LongSupplier read, long limit, Duration window) {
        await().pollDelay(Duration.ofMillis(500)).until(() -> true); // the new limit reaches the producer
        long r0 = read.getAsLong();
        long t0 = System.nanoTime();
        await().pollDelay(window).atMost(window.plusSeconds(5)).until(() -> true);
        double secs = (System.nanoTime() - t0) / 1e9;
        double rate = (read.getAsLong() - r0) / secs;
        System.out.printf("snapshot at a limit of %,d rows/s: %,.0f rows/s over %.1f s (ratio %.2f)%n", limit, rate, secs, rate / limit);
        assertThat(rate).as("measured snapshot rate").isPositive().isLessThanOrEqualTo(limit * 1.5 + CHUNK / secs);
    }

    /** Waits until the snapshot stopped reading (the same count twice, a second apart); returns that count. */
    static long awaitFlat(LongSupplier read) {
        long[] last = {-1};
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(1000)).until(() -> {
            long now = read.getAsLong();
            boolean flat = now == last[0];
            last[0] = now;
            return flat;
        });
        return last[0];
    }

    static void setThrottle(String db, boolean on) throws Exception {
        try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE throttle_flag SET throttle = " + on);
        }
    }

    /** Inserts {@code n} rows from {@code firstId}, updates {@code n} existing rows and deletes a few: 2n + n/10 changes. */
    static void writeChanges(String db, long firstId, int n) throws Exception {
        try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO items SELECT g, 'new ' || g, 1 FROM generate_series(" + firstId + ", " + (firstId + n - 1) + ") g");
            long from = firstId / 1000 % ROWS; // a different stretch of old rows each time
            st.executeUpdate("UPDATE items SET qty = qty + 1, name = name || '!' WHERE id > " + from + " AND id <= " + (from + n));
            st.executeUpdate("DELETE FROM items WHERE id > " + (from + n) + " AND id <= " + (from + n + n / 10));
        }
    }

    static long count(String db, String sql) throws Exception {
        try (Connection c = infra.connect(db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Rows differing between the oracle (the transform in SQL) and the target, both ways. */
    static long differences(String db) throws Exception {
        String expected = "SELECT id, upper(name) AS name, qty FROM items";
        String actual = "SELECT id, name, qty FROM items_v2";
        return count(db, "SELECT count(*) FROM ((" + expected + " EXCEPT " + actual + ") UNION ALL (" + actual + " EXCEPT " + expected + ")) d");
    }
}
