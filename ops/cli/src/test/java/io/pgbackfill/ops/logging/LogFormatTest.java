package io.pgbackfill.ops.logging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The CLI's own logback.xml (what the jar and the image ship) in a fresh JVM: logs are printed (the slf4j binding
 * is found), on stderr, with a dated timestamp, or as one JSON object per line when PGBACKFILL_LOG_FORMAT=json.
 */
class LogFormatTest {
    record Run(String stdout, List<String> stderr) {
    }

    static Run run(Map<String, String> env) throws Exception {
        Path config = Path.of("src/main/resources/logback.xml").toAbsolutePath();
        assertThat(config).exists();
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Dlogback.configurationFile=" + config, LogLines.class.getName());
        pb.environment().remove("PGBACKFILL_LOG_FORMAT");
        pb.environment().putAll(env);
        Path err = Files.createTempFile("pgbackfill-log", ".txt");
        try {
            Process p = pb.redirectError(err.toFile()).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
            List<String> lines = new ArrayList<>(Files.readAllLines(err));
            // logback's own status lines (none expected) would show here too
            return new Run(out, lines);
        } finally {
            Files.deleteIfExists(err);
        }
    }

    @Test
    void textLinesAreDatedAndOnStderr() throws Exception {
        Run r = run(Map.of());
        assertThat(r.stdout()).isEqualTo("stdout stays the command's own\n");
        assertThat(r.stderr()).hasSize(2);
        assertThat(r.stderr().get(0)).matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}(Z|[+-]\\d{2}:\\d{2}) INFO  \\[main] io\\.pgbackfill\\.progress - sink: 2,000 rows/s");
        assertThat(r.stderr().get(1)).contains(" WARN ").endsWith("Kafka warning");
    }

    @Test
    void jsonLayoutByEnvironmentVariable() throws Exception {
        Run r = run(Map.of("PGBACKFILL_LOG_FORMAT", "json"));
        assertThat(r.stdout()).isEqualTo("stdout stays the command's own\n");
        assertThat(r.stderr()).hasSize(2);
        JsonNode first = new ObjectMapper().readTree(r.stderr().get(0));
        assertThat(first.path("level").asText()).isEqualTo("INFO");
        assertThat(first.path("loggerName").asText()).isEqualTo("io.pgbackfill.progress");
        assertThat(first.path("formattedMessage").asText()).isEqualTo("sink: 2,000 rows/s");
        assertThat(first.path("timestamp").asLong()).isPositive();
        assertThat(new ObjectMapper().readTree(r.stderr().get(1)).path("level").asText()).isEqualTo("WARN");
    }
}
