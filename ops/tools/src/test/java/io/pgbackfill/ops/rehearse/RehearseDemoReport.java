package io.pgbackfill.ops.rehearse;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.embedded.EmbeddedInfrastructure;
import io.pgbackfill.ops.demo.DemoData;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.pipeline.Pipeline;
import io.pgbackfill.sink.SinkConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The run behind docs/rehearse.md, on demand only (the name matches neither *Test nor *IT, so the suite
 * skips it): seed the demo users table, rehearse ops/examples/users-split.yaml against it, then migrate
 * it with the real pipeline and compare the projected snapshot duration with the measured one.
 *
 * <pre>mvn -B -o test -pl ops/tools -am -Dtest=RehearseDemoReport -Dsurefire.failIfNoSpecifiedTests=false [-Drehearse.rows=100000]</pre>
 */
class RehearseDemoReport {
    @Test
    void rehearseThenMigrateTheDemoTable() throws Exception {
        long rows = Long.getLong("rehearse.rows", 100_000);
        try (EmbeddedInfrastructure infra = EmbeddedInfrastructure.start()) {
            String url = infra.jdbcUrl("app");
            try (Connection c = infra.connect("app")) {
                DemoData.createTables(c);
                DemoData.seed(c, rows);
            }
            Path dir = Files.createTempDirectory("rehearse-demo");
            Path spec = dir.resolve("users-split.yaml");
            Files.writeString(spec, Files.readString(Path.of("../examples/users-split.yaml"))
                    .replace("jdbc:postgresql://localhost:5432/app", url)
                    .replace("localhost:9092", infra.kafkaBootstrapServers())
                    .replaceAll("(?m)^\\s*passwordEnv:.*$\\n", ""));
            Path html = Path.of("target/rehearse-demo.html").toAbsolutePath();
            CliCapture text = CliCapture.of("rehearse", spec.toString(), "--html", html.toString());
            assertThat(text.exitCode()).isZero();
            CliCapture json = CliCapture.of("rehearse", spec.toString(), "--json", "--wal-window", "0.5");
            RehearsalReport.TableReport t = RehearsalJson.parse(json.stdout()).tables().get(0);

            PipelineSpec pipelineSpec = SpecLoader.load(spec);
            MigrationPlan plan = MigrationPlan.connect(pipelineSpec, spec.toString());
            double snapshotSeconds;
            double caughtUpSeconds;
            try (Pipeline pipeline = new Pipeline(plan, dir.resolve("state"), SinkConfig.from(pipelineSpec.sink()))) {
                long started = System.nanoTime();
                pipeline.start();
                while (!pipeline.producer().snapshotDone()) {
                    assertThat(pipeline.failure()).isNull();
                    Thread.sleep(50);
                }
                snapshotSeconds = (System.nanoTime() - started) / 1e9;
                CatchUp.await(pipelineSpec, true, Duration.ofMinutes(5), () -> pipeline.failure() == null);
                caughtUpSeconds = (System.nanoTime() - started) / 1e9;
            }
            try (Connection c = infra.connect("app")) {
                assertThat(DemoData.count(c, "users_v2")).isEqualTo(rows);
            }
            System.out.printf(Locale.ROOT, "%nDEMO %,d users: projected %.1f s (second rehearsal, %.1f µs/row: read %.1f, transform %.1f, events %.1f, "
                            + "write %.1f); measured: snapshot read %.1f s, target caught up %.1f s after start; measured/projected %.1f%n",
                    rows, t.projection().snapshotSeconds(), t.costPerRow().total(), t.costPerRow().read(), t.costPerRow().transform(),
                    t.costPerRow().events(), t.costPerRow().write(), snapshotSeconds, caughtUpSeconds, caughtUpSeconds / t.projection().snapshotSeconds());
            System.out.println("HTML report: " + html);
            RehearseIT.deleteTree(dir);
        }
    }
}
