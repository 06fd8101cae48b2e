package io.pgbackfill.ops.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The scrape endpoint of one service: {@code GET /metrics} (Prometheus text format) and {@code GET /health}
 * (200 "running" or 503 with the reason). The JDK's own HTTP server: nothing to add to the image, and one
 * daemon thread is plenty for a scrape every few seconds. Binds every interface, as a container must.
 */
public final class MetricsEndpoint implements AutoCloseable {
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    private final HttpServer server;
    private final ExecutorService executor;

    private MetricsEndpoint(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Starts serving on {@code port} (0: any free port, see {@link #port()}). */
    public static MetricsEndpoint start(int port, PrometheusMeterRegistry registry, Supplier<Health> health) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        server.createContext("/metrics", ex -> answer(ex, 200, PROMETHEUS_TEXT, registry.scrape()));
        server.createContext("/health", ex -> {
            Health h = safely(health);
            answer(ex, h.up() ? 200 : 503, "text/plain; charset=utf-8", h.detail() + "\n");
        });
        server.createContext("/", ex -> answer(ex, 404, "text/plain; charset=utf-8", "try /metrics or /health\n"));
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pgbackfill-metrics-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        startAsDaemon(server);
        return new MetricsEndpoint(server, executor);
    }

    /**
     * The JDK server's dispatcher thread inherits the daemon flag of the thread that starts it. Started from a daemon
     * thread, it can never keep alive a JVM whose stage is gone (an orchestrator restarts a process only once it exits).
     */
    private static void startAsDaemon(HttpServer server) {
        Thread starter = new Thread(server::start, "pgbackfill-metrics-start");
        starter.setDaemon(true);
        starter.start();
        try {
            starter.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.stop(0);
            throw new IllegalStateException("interrupted while starting the metrics endpoint", e);
        }
    }

    private static Health safely(Supplier<Health> health) {
        try {
            return health.get();
        } catch (RuntimeException e) {
            return Health.down("health check failed: " + e.getClass().getSimpleName());
        }
    }

    private static void answer(HttpExchange ex, int status, String contentType, String body) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                ex.sendResponseHeaders(405, -1);
                return;
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", contentType);
            if (method.equals("HEAD")) {
                ex.sendResponseHeaders(status, -1);
                return;
            }
            ex.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** The port actually bound. */
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
