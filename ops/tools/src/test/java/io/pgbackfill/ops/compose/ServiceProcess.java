package io.pgbackfill.ops.compose;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code backfill} stage in a JVM of its own, the way a container runs it: same classpath, its own process,
 * its own metrics port (it binds a free one and prints it). Its output goes to a log file, quoted when it fails.
 */
final class ServiceProcess {
    private static final Pattern METRICS_PORT = Pattern.compile("metrics on port (\\d+)");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final String name;
    private final Process process;
    private final Path log;
    private int port = -1;

    ServiceProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    String name() {
        return name;
    }

    Process process() {
        return process;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The metrics port, once the stage has printed it; fails at once if the process died. */
    int metricsPort(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (port < 0) {
            Matcher m = METRICS_PORT.matcher(Files.exists(log) ? Files.readString(log) : "");
            if (m.find()) {
                port = Integer.parseInt(m.group(1));
            } else if (!process.isAlive()) {
                throw new AssertionError(name + " exited with " + process.exitValue() + " before serving metrics:\n" + logTail());
            } else if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " printed no metrics port within " + timeout.toSeconds() + " s:\n" + logTail());
            } else {
                Thread.sleep(100);
            }
        }
        return port;
    }

    /** HTTP status of /health, or -1 when nothing answers. */
    int health() {
        try {
            return get("/health").statusCode();
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    PrometheusText scrape() throws IOException, InterruptedException {
        HttpResponse<String> r = get("/metrics");
        if (r.statusCode() != 200) {
            throw new AssertionError(name + " /metrics answered " + r.statusCode());
        }
        return PrometheusText.parse(r.body());
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        if (port < 0) {
            throw new IOException(name + ": metrics port not known yet");
        }
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** kill -9: no shutdown hook, no clean leave of the consumer group, no offset commit. */
    void killHard() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return "--- " + name + " (" + log + ") ---\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "--- " + name + ": no log (" + e.getMessage() + ")";
        }
    }
}
