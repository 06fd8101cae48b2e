package io.pgbackfill.ops.compose;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbackfill.core.spec.SpecOverrides;
import io.pgbackfill.embedded.EmbeddedInfrastructure;
import io.pgbackfill.ops.demo.DemoData;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `backfill up` as its own process with the logging configuration the jar ships: dated progress lines for all three
 * stages at the interval asked for, until the target has every row (what `docker compose logs -f` shows).
 */
class UpProgressIT {
    static final long ROWS = 3000;
    static final Pattern DATED = Pattern.compile("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}(Z|[+-]\\d{2}:\\d{2}) INFO  \\[pgbackfill-progress] io\\.pgbackfill\\.progress - ");

    @TempDir
    Path dir;

    @Test
    void upLogsAProgressLinePerStageAtTheInterval() throws Exception {
        try (EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
             ServiceProcesses processes = new ServiceProcesses(dir.resolve("work"))) {
            String url = infra.jdbcUrl("upprogress");
            try (Connection c = infra.connect("upprogress")) {
                DemoData.createTables(c);
                DemoData.seed(c, ROWS);
            }
            String yaml;
            try (InputStream in = UpProgressIT.class.getResourceAsStream("/examples/users-split.yaml")) {
                yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            Path spec = Files.writeString(dir.resolve("users-split.yaml"), yaml);
            Path logback = Path.of("../cli/src/main/resources/logback.xml").toAbsolutePath();
            Map<String, String> env = Map.of(SpecOverrides.SOURCE_URL, url, SpecOverrides.KAFKA_BOOTSTRAP, infra.kafkaBootstrapServers(),
                    "PGBACKFILL_SOURCE_PASSWORD", infra.password(), "JAVA_TOOL_OPTIONS", "-Dlogback.configurationFile=" + logback);
            ServiceProcess up = processes.start("up", env, "up", spec.toString(), "--metrics-port", "0", "--progress-interval", "1",
                    "--state-dir", dir.resolve("state").toString());
            Path log = dir.resolve("work/up.log");
            // The sink's line says every row was written (the demo's snapshot: one row change per user).
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200)).failFast(() -> !up.process().isAlive())
                    .until(() -> progress(log).stream().anyMatch(l -> l.contains("sink: ") && written(l) >= ROWS)
                            // and a second interval's line: 3,000 rows may all be written within the first second
                            && progress(log).stream().filter(l -> l.contains(" - sink: ")).count() >= 2);
            List<String> lines = progress(log);
            lines.forEach(System.out::println);
            assertThat(lines).allMatch(l -> DATED.matcher(l).find(), "dated, from the progress logger");
            assertThat(lines).anyMatch(l -> l.contains("producer: snapshot done |"))
                    .anyMatch(l -> l.contains("transformer: ") && l.contains("| DLQ 0"))
                    .anyMatch(l -> l.contains("sink: ") && l.contains("| lag "));
            long sinkLines = lines.stream().filter(l -> l.contains(" - sink: ")).count();
            assertThat(sinkLines).as("one line per interval, not one at the end").isGreaterThanOrEqualTo(2);
            assertThat(Files.readString(log)).doesNotContain("Could not find a valid Docker environment").doesNotContain("SLF4J");
        }
    }

    static List<String> progress(Path log) throws Exception {
        return Files.exists(log) ? Files.readAllLines(log).stream().filter(l -> l.contains("io.pgbackfill.progress - ")).toList() : List.of();
    }

    /** "(3,000 written)" in a sink line. */
    static long written(String line) {
        var m = Pattern.compile("\\(([\\d,]+) written\\)").matcher(line);
        return m.find() ? Long.parseLong(m.group(1).replace(",", "")) : -1;
    }
}
