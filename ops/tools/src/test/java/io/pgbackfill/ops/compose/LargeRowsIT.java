package io.pgbackfill.ops.compose;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbackfill.core.Secret;
import io.pgbackfill.core.memory.MemoryBudget;
import io.pgbackfill.core.spec.MemorySpec;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.ops.rehearse.MemoryEstimate;
import io.pgbackfill.ops.rehearse.Rehearsal;
import io.pgbackfill.ops.rehearse.RehearsalOptions;
import io.pgbackfill.ops.rehearse.RehearsalReport;
import io.pgbackfill.ops.rehearse.RehearsalText;
import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.embedded.EmbeddedInfrastructure;
import io.pgbackfill.ops.pipeline.CatchUp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory bounded in bytes (issue 22): a documents table whose rows carry 1 MiB of text each, plus a handful of rows of
 * 16 to 62 MiB (a 62 MiB value is about the largest whose event stays under the 64 MiB record limit), moved by the
 * three services, each in a JVM of its own with a heap of 512 MiB, the default byte budgets and
 * {@code -XX:+ExitOnOutOfMemoryError} (an out-of-memory error ends the stage, and the test with it). After the
 * snapshot, the large rows are updated while streaming, and some rows only in a small column (their large value an
 * unchanged TOAST value). The target is compared with the source in SQL (md5 of the values), never loaded into this
 * JVM. Each stage's peak heap is read from its GC log (heap in use before each collection) and printed. Before the
 * pipeline starts, {@code rehearse} on the table must predict that {@code up} at -Xmx512m cannot hold these rows.
 *
 * <p>Size: {@code -Dlargerows.mib=N} regular rows of 1 MiB. The default, 300 (~0.45 GB with the large rows), keeps the
 * run to a few minutes on a shared 2-core machine: every stage and the rehearsal handle each value several times, and
 * what the test proves (bounded heap whatever the row count) does not depend on the total once it is many times the
 * heap. {@code -Dlargerows.mib=1000} moves ~1.2 GB (about 18 minutes here under load, PostgreSQL 15, passed).
 */
class LargeRowsIT {
    static final long MIB = 1024 * 1024;
    static final int REGULAR_ROWS = Integer.getInteger("largerows.mib", 300);
    /** Large rows, spread over the key range as a real table would have them: id → MiB of text. */
    static final Map<Integer, Integer> LARGE = Map.of(REGULAR_ROWS / 5, 16, 2 * REGULAR_ROWS / 5, 32, 3 * REGULAR_ROWS / 5, 48, 4 * REGULAR_ROWS / 5, 62);
    static final Duration STARTUP = Duration.ofSeconds(90);
    static final Duration CATCH_UP = Duration.ofMinutes(30);

    @TempDir
    Path dir;
    private final long started = System.nanoTime();

    private void phase(String what) {
        System.out.printf(Locale.ROOT, "[large-rows] %6.1f s  %s%n", (System.nanoTime() - started) / 1e9, what);
    }

    @Test
    void rowsOfMegabytesFlowThroughStagesWithHalfAGigabyteOfHeap() throws Exception {
        try (EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
             ServiceProcesses stages = new ServiceProcesses(dir.resolve("work"))) {
            String db = "largerows";
            try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
                createAndFill(st, REGULAR_ROWS, LARGE);
                phase("source filled: " + scalar(st, "SELECT pg_size_pretty(sum(octet_length(body))) FROM docs") + " of text in "
                        + scalar(st, "SELECT count(*) FROM docs") + " rows, largest " + scalar(st, "SELECT pg_size_pretty(max(octet_length(body))::bigint) FROM docs"));
            }
            String url = infra.jdbcUrl(db);
            Path specFile = writeSpec(infra, dir.resolve("docs.yaml"), "large-rows", url);
            PipelineSpec spec = SpecLoader.load(specFile).withConnections(ConnectionSpec.of(url, infra.user(), Secret.of(infra.password(), "test")), null);

            // Before anything starts, as an operator would: rehearse sees the 62 MiB values and says that `up` (three
            // stages in one heap) at -Xmx512m would not hold them, naming the setting to change.
            RehearsalReport rehearsal = new Rehearsal(MigrationPlan.connect(spec, specFile.toString()), specFile.toString(),
                    new RehearsalOptions(100.0, 0, 1, 0, 0, 1_000_000, Duration.ZERO, 512 * MIB, 3), line -> { }).run();
            MemoryEstimate predicted = rehearsal.memory();
            phase("rehearse: " + RehearsalText.render(rehearsal).lines().filter(l -> l.startsWith("memory") || l.contains("predicted peak heap"))
                    .reduce((a, b) -> a + " | " + b).orElse("no memory line"));
            assertThat(predicted.largestRecordBytes()).as("the sample saw the largest value").isGreaterThan(62 * MIB);
            assertThat(rehearsal.verdict().ready()).isFalse();
            assertThat(rehearsal.verdict().blocking()).anySatisfy(b -> assertThat(b).startsWith("predicted peak heap").contains("raise the heap"));
            assertThat(MemoryEstimate.of(MemoryBudget.derive(MemorySpec.DEFAULT, 2048 * MIB, 1), spec.sink().batchSize(),
                    predicted.averageRecordBytes(), predicted.largestRecordBytes()).fits()).as("one stage per JVM with 2 GiB").isTrue();
            Map<String, String> env = Map.of("PGBACKFILL_SOURCE_PASSWORD", infra.password());
            String specArg = specFile.toString();

            List<ServiceProcess> all = new ArrayList<>();
            ServiceProcess sink = stages.start("sink", jvm("sink"), env, "sink", specArg, "--metrics-port", "0");
            ScaleOutIT.awaitHealthy(stages, sink);
            ServiceProcess transformer = stages.start("transformer", jvm("transformer"), env, "transformer", specArg, "--metrics-port", "0",
                    "--state-dir", dir.resolve("transformer").toString());
            ServiceProcess producer = stages.start("producer", jvm("producer"), env, "producer", specArg, "--metrics-port", "0",
                    "--state-dir", dir.resolve("producer").toString());
            all.addAll(List.of(producer, transformer, sink));
            ScaleOutIT.awaitHealthy(stages, transformer);
            ScaleOutIT.awaitHealthy(stages, producer);
            phase("producer, transformer and sink running, -Xmx512m each");

            awaitTrue(stages, all, CATCH_UP, "the snapshot is done", () -> producer.scrape().sum("pgbackfill_snapshot_done") == 1);
            phase("snapshot read; updating the large rows while streaming");
            try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
                // New large values (rotated differently), and a small column alone on others: their body is an
                // unchanged TOAST value the sink must keep.
                String ids = LARGE.keySet().stream().map(String::valueOf).reduce((a, b) -> a + "," + b).orElseThrow();
                st.executeUpdate("UPDATE docs SET body = substr(body, 1000) || substr(body, 1, 999), title = title || ' v2' WHERE id IN (" + ids + ")");
                st.executeUpdate("UPDATE docs SET title = title || ' retitled' WHERE id % 97 = 0");
                st.executeUpdate("UPDATE docs SET body = reverse(body) WHERE id % 89 = 0");
                st.executeUpdate("DELETE FROM docs WHERE id % 101 = 0");
            }
            CatchUp.await(spec, true, CATCH_UP, () -> all.stream().allMatch(ServiceProcess::isAlive));
            phase("target caught up");
            for (ServiceProcess p : all) {
                assertThat(p.isAlive()).as("%s still running (an OutOfMemoryError ends it with exit 3):%n%s", p.name(), stages.logTails()).isTrue();
            }

            try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
                long mismatches = Long.parseLong(scalar(st, """
                        SELECT count(*) FROM docs s FULL JOIN docs_v2 t USING (id)
                        WHERE s.id IS NULL OR t.id IS NULL OR s.title IS DISTINCT FROM t.title
                           OR md5(s.body) IS DISTINCT FROM md5(t.body) OR length(s.body) IS DISTINCT FROM t.body_chars"""));
                String sourceRows = scalar(st, "SELECT count(*) FROM docs");
                assertThat(mismatches).as("rows of docs_v2 differing from the transform of docs (of %s)", sourceRows).isZero();
                assertThat(scalar(st, "SELECT count(*) FROM docs_v2")).isEqualTo(sourceRows);
                assertThat(scalar(st, "SELECT count(*) FROM docs_v2 WHERE title LIKE '% v2' AND length(body) >= 16 * 1048576"))
                        .as("the updated large rows").isEqualTo(Integer.toString(LARGE.size()));
                phase("target equals the transform of the source: " + sourceRows + " rows, "
                        + scalar(st, "SELECT pg_size_pretty(sum(octet_length(body))) FROM docs_v2") + " of text");
            }
            for (ServiceProcess p : all) {
                Path log = dir.resolve("work").resolve(p.name() + "-gc.log");
                long peak = heapFromGcLog(log, "(\\d+)([KMG])->");
                long live = heapFromGcLog(log, "Pause Full.* \\d+[KMG]->(\\d+)([KMG])\\(");
                phase(String.format(Locale.ROOT, "peak heap of the %s: %d MiB in use before a collection, at most %d MiB live after a full one"
                        + " (-Xmx512m; GC log)", p.name(), peak / MIB, live / MIB));
                assertThat(peak).as("%s GC log read", p.name()).isPositive();
            }
        }
    }

    /** A JVM as the services get it, with half a gigabyte of heap, out of memory fatal, and a GC log to read the peak from. */
    private List<String> jvm(String name) {
        return List.of("-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:+ExitOnOutOfMemoryError",
                "-Xlog:gc:file=" + dir.resolve("work").resolve(name + "-gc.log"));
    }

    /**
     * Issue 22's own case: a table of 1 MiB documents, one computed column, `backfill up` (all three stages in one JVM)
     * with half the heap the issue had (-Xmx512m instead of 1g), where row-count batches ran out of memory. Updates of
     * the documents while streaming arrive too.
     */
    @Test
    void upMovesMegabyteDocumentsInOneJvmOfHalfAGigabyte() throws Exception {
        try (EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
             ServiceProcesses stages = new ServiceProcesses(dir.resolve("work"))) {
            String db = "largeup";
            int rows = Integer.getInteger("largerows.up.mib", 300);
            try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
                createAndFill(st, rows, Map.of());
                phase("up: source filled: " + scalar(st, "SELECT pg_size_pretty(sum(octet_length(body))) FROM docs") + " in " + rows + " rows");
            }
            String url = infra.jdbcUrl(db);
            Path specFile = writeSpec(infra, dir.resolve("docs-up.yaml"), "large-up", url);
            PipelineSpec spec = SpecLoader.load(specFile).withConnections(ConnectionSpec.of(url, infra.user(), Secret.of(infra.password(), "test")), null);
            ServiceProcess up = stages.start("up", jvm("up"), Map.of("PGBACKFILL_SOURCE_PASSWORD", infra.password()), "up", specFile.toString(),
                    "--metrics-port", "0", "--state-dir", dir.resolve("up").toString());
            ScaleOutIT.awaitHealthy(stages, up);
            awaitTrue(stages, List.of(up), CATCH_UP, "the snapshot is done", () -> up.scrape().sum("pgbackfill_snapshot_done") == 1);
            try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
                st.executeUpdate("UPDATE docs SET body = reverse(body), title = title || ' v2' WHERE id % 7 = 0");
                st.executeUpdate("UPDATE docs SET title = title || ' retitled' WHERE id % 11 = 0");
                st.executeUpdate("DELETE FROM docs WHERE id % 13 = 0");
            }
            CatchUp.await(spec, true, CATCH_UP, up::isAlive);
            assertThat(up.isAlive()).as("up still running:%n%s", stages.logTails()).isTrue();
            try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
                assertThat(scalar(st, """
                        SELECT count(*) FROM docs s FULL JOIN docs_v2 t USING (id)
                        WHERE s.id IS NULL OR t.id IS NULL OR s.title IS DISTINCT FROM t.title
                           OR md5(s.body) IS DISTINCT FROM md5(t.body) OR length(s.body) IS DISTINCT FROM t.body_chars""")).isEqualTo("0");
                assertThat(scalar(st, "SELECT count(*) FROM docs_v2")).isEqualTo(scalar(st, "SELECT count(*) FROM docs"));
                assertThat(scalar(st, "SELECT count(*) FROM docs_v2 WHERE title LIKE '% v2%'")).isEqualTo(Integer.toString(rows / 7 - rows / 91));
            }
            Path log = dir.resolve("work").resolve("up-gc.log");
            phase(String.format(Locale.ROOT, "up: target equals the transform; peak heap %d MiB in use before a collection, at most %d MiB live"
                    + " after a full one (-Xmx512m)", heapFromGcLog(log, "(\\d+)([KMG])->") / MIB,
                    heapFromGcLog(log, "Pause Full.* \\d+[KMG]->(\\d+)([KMG])\\(") / MIB));
        }
    }

    private static void createAndFill(Statement st, int regularRows, Map<Integer, Integer> large) throws SQLException {
        st.execute("CREATE TABLE docs (id bigint PRIMARY KEY, title text NOT NULL, body text)");
        // No compression in TOAST: random hex would not compress anyway, and it saves the server the attempt.
        st.execute("ALTER TABLE docs ALTER body SET STORAGE EXTERNAL");
        st.execute("CREATE TABLE docs_v2 (id bigint PRIMARY KEY, title text, body text, body_chars bigint)");
        // One random MiB, rotated differently for each row: distinct values, cheap to make, incompressible for lz4
        // (its window is 64 KiB, the repeats 1 MiB apart).
        st.execute("CREATE TABLE seed AS SELECT string_agg(md5(random()::text), '') AS s FROM generate_series(1, 32768)");
        st.execute("INSERT INTO docs SELECT i, 'doc ' || i, substr(seed.s, k) || substr(seed.s, 1, k - 1) FROM seed, generate_series(1, "
                + regularRows + ") i, LATERAL (SELECT (i * 7919) % 1048576 + 1 AS k) r");
        for (var e : large.entrySet()) {
            st.executeUpdate("UPDATE docs SET body = substr(repeat(seed.s, " + e.getValue() + "), " + e.getKey() + ") || substr(seed.s, 1, "
                    + (e.getKey() - 1) + ") FROM seed WHERE id = " + e.getKey());
        }
        st.execute("DROP TABLE seed");
        st.execute("ANALYZE docs");
    }

    private static String scalar(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /**
     * Unified logging's gc lines: "Pause Young (Allocation Failure) 301M->120M(494M)": the largest figure {@code pattern}
     * captures (before "->": heap in use when a collection started; after it: what the collection could not free).
     */
    static long heapFromGcLog(Path gcLog, String pattern) throws Exception {
        Matcher m = Pattern.compile(pattern).matcher(Files.exists(gcLog) ? Files.readString(gcLog) : "");
        long peak = 0;
        while (m.find()) {
            long unit = switch (m.group(2)) {
                case "K" -> 1024L;
                case "M" -> MIB;
                default -> 1024 * MIB;
            };
            peak = Math.max(peak, Long.parseLong(m.group(1)) * unit);
        }
        return peak;
    }

    private static void awaitTrue(ServiceProcesses stages, List<ServiceProcess> all, Duration timeout, String what, Callable<Boolean> condition)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (ServiceProcess p : all) {
                if (!p.isAlive()) {
                    throw new AssertionError(p.name() + " exited with " + p.process().exitValue() + " while waiting for: " + what + "\n" + stages.logTails());
                }
            }
            try {
                if (condition.call()) {
                    return;
                }
            } catch (java.io.IOException e) {
                // metrics not answering this moment
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what + "\n" + stages.logTails());
            }
            Thread.sleep(200);
        }
    }

    /** The pipeline both tests run: docs -> docs_v2, every column as is plus the body's length in characters. */
    private static Path writeSpec(EmbeddedInfrastructure infra, Path file, String name, String url) throws IOException {
        return Files.writeString(file, """
                name: %s
                source:
                  jdbcUrl: %s
                  user: %s
                  passwordEnv: PGBACKFILL_SOURCE_PASSWORD
                kafka:
                  bootstrapServers: %s
                  partitions: 2
                tables:
                  - source: public.docs
                    target: public.docs_v2
                    columns:
                      id: id
                      title: title
                      body: body
                      body_chars: size(body)
                """.formatted(name, url, infra.user(), infra.kafkaBootstrapServers()));
    }
}
