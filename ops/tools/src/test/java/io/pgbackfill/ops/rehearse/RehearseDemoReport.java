package io.pgbackfill.ops.rehearse;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.OperatingSystemMXBean;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.embedded.EmbeddedInfrastructure;
import io.pgbackfill.ops.demo.DemoData;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.pipeline.Pipeline;
import io.pgbackfill.sink.SinkConfig;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The runs behind docs/rehearse.md, on demand only (the name matches neither *Test nor *IT, so the suite
 * skips it): seed a table, rehearse it, then migrate it with the real pipeline (chunked snapshot, all three
 * stages in this JVM, the in-process broker) and print the projection beside the measured time.
 * {@code -Drehearse.table=users} (the demo table, ops/examples/users-split.yaml) or {@code documents} (a large
 * TOASTed text column of {@code -Drehearse.bodyBytes} bytes per row).
 *
 * <pre>mvn -B -o test -pl ops/tools -am -Dtest=RehearseDemoReport -Dsurefire.failIfNoSpecifiedTests=false [-Drehearse.rows=100000] [-Drehearse.table=documents]</pre>
 */
class RehearseDemoReport {
    @Test
    void rehearseThenMigrate() throws Exception {
        long rows = Long.getLong("rehearse.rows", 100_000);
        String table = System.getProperty("rehearse.table", "users");
        int bodyBytes = Integer.getInteger("rehearse.bodyBytes", 16_384);
        try (EmbeddedInfrastructure infra = EmbeddedInfrastructure.start()) {
            String url = infra.jdbcUrl("app");
            Path dir = Files.createTempDirectory("rehearse-demo");
            Path spec = dir.resolve(table + ".yaml");
            try (Connection c = infra.connect("app")) {
                if (table.equals("users")) {
                    DemoData.createTables(c);
                    DemoData.seed(c, rows);
                    Files.writeString(spec, Files.readString(Path.of("../examples/users-split.yaml")));
                } else {
                    seedDocuments(c, rows, bodyBytes);
                    Files.writeString(spec, DOCUMENTS_SPEC);
                }
            }
            Files.writeString(spec, Files.readString(spec)
                    .replace("jdbc:postgresql://localhost:5432/app", url)
                    .replace("localhost:9092", infra.kafkaBootstrapServers())
                    .replaceAll("(?m)^\\s*passwordEnv:.*$\\n", "")
                    + "snapshot:\n  mode: chunked\n");
            Path html = Path.of("target/rehearse-" + table + ".html").toAbsolutePath();
            CliCapture text = CliCapture.of("rehearse", spec.toString(), "--html", html.toString());
            System.out.println(text.stdout());
            assertThat(text.exitCode()).as(text.stderr()).isZero();
            CliCapture json = CliCapture.of("rehearse", spec.toString(), "--json", "--wal-window", "0.5");
            RehearsalReport report = RehearsalJson.parse(json.stdout());
            RehearsalReport.TableReport t = report.tables().get(0);

            PipelineSpec pipelineSpec = SpecLoader.load(spec);
            MigrationPlan plan = MigrationPlan.connect(pipelineSpec, spec.toString());
            OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            double load = os.getSystemLoadAverage();
            double firstRowSeconds = Double.NaN;
            double snapshotSeconds;
            double caughtUpSeconds;
            double pgSeconds;
            long postmaster;
            try (Connection c = infra.connect("app"); Statement st = c.createStatement();
                 java.sql.ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                postmaster = parentOf(rs.getLong(1));
            }
            long cpu0 = os.getProcessCpuTime();
            long pg0 = serverTicks(postmaster);
            try (Pipeline pipeline = new Pipeline(plan, dir.resolve("state"), SinkConfig.from(pipelineSpec.sink()))) {
                long started = System.nanoTime();
                pipeline.start();
                while (!pipeline.producer().snapshotDone()) {
                    assertThat(pipeline.failure()).isNull();
                    if (Double.isNaN(firstRowSeconds) && pipeline.sink().rowsWritten() > 0) {
                        firstRowSeconds = (System.nanoTime() - started) / 1e9;
                    }
                    Thread.sleep(20);
                }
                snapshotSeconds = (System.nanoTime() - started) / 1e9;
                CatchUp.await(pipelineSpec, true, Duration.ofMinutes(15), () -> pipeline.failure() == null);
                caughtUpSeconds = (System.nanoTime() - started) / 1e9;
                pgSeconds = (serverTicks(postmaster) - pg0) / 100.0; // before close: a backend's CPU goes with it
            }
            double cpuSeconds = (os.getProcessCpuTime() - cpu0) / 1e9;
            try (Connection c = infra.connect("app")) {
                assertThat(DemoData.count(c, table + "_v2")).isEqualTo(rows);
            }
            RehearsalReport.Projection p = t.projection();
            System.out.printf(Locale.ROOT, "%nPROJECTION %s %,d rows (%s): rehearse %.1f µs/row (read %.1f, transform %.1f, events %.1f, write %.1f),"
                            + " event %d B avg, share of a core %.2f; projected %s; measured: first row in the target %.1f s, snapshot read %.1f s, caught up %.1f s,"
                            + " JVM CPU %.1f s + PostgreSQL CPU %.1f s = %.1f µs/row; load average %.1f before%n",
                    table, rows, table.equals("users") ? "demo" : bodyBytes + " B body", t.costPerRow().total(), t.costPerRow().read(),
                    t.costPerRow().transform(), t.costPerRow().events(), t.costPerRow().write(), p.eventBytes(), p.cpuShare(),
                    RehearsalText.duration(p), firstRowSeconds, snapshotSeconds, caughtUpSeconds, cpuSeconds, pgSeconds, (cpuSeconds + pgSeconds) * 1e6 / rows, load);
            System.out.println("HTML report: " + html);
            RehearseIT.deleteTree(dir);
        }
    }

    private static long parentOf(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
    }

    /** CPU ticks (user + system) of the PostgreSQL server: the postmaster and its live children. */
    private static long serverTicks(long postmaster) throws Exception {
        long ticks = 0;
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    if (Long.parseLong(p.getFileName().toString()) == postmaster || Long.parseLong(f[1]) == postmaster) {
                        ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
                    }
                } catch (java.io.IOException | RuntimeException e) {
                    // a process that ended meanwhile
                }
            }
        }
        return ticks;
    }

    private static final String DOCUMENTS_SPEC = """
            name: documents-copy
            source:
              jdbcUrl: jdbc:postgresql://localhost:5432/app
              user: postgres
            kafka:
              bootstrapServers: localhost:9092
              partitions: 4
            tables:
              - source: public.documents
                target: public.documents_v2
                columns:
                  id: id
                  title: upper(title)
                  body: body
            """;

    /** Bodies of hex text, md5 chained so that PostgreSQL's compression cannot shrink them below the TOAST threshold. */
    private static void seedDocuments(Connection c, long rows, int bodyBytes) throws Exception {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE documents (id bigint PRIMARY KEY, title text NOT NULL, body text NOT NULL)");
            st.execute("CREATE TABLE documents_v2 (id bigint PRIMARY KEY, title text NOT NULL, body text NOT NULL)");
            int md5s = Math.max(1, bodyBytes / 32);
            st.execute("INSERT INTO documents SELECT g, 'document ' || g, (SELECT string_agg(md5((g::bigint * 100003 + i)::text), '')"
                    + " FROM generate_series(1, " + md5s + ") i) FROM generate_series(1, " + rows + ") g");
            st.execute("ANALYZE documents");
        }
    }
}
