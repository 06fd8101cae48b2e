package io.pgbackfill.ops.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;

/**
 * The metrics of one service process: a Prometheus registry (tagged with the pipeline, plus JVM and
 * process meters), its HTTP endpoint, the health the endpoint reports, and the pollers feeding it; closing
 * it stops them all. Health says "starting" until the service hands over its own check.
 */
public final class ServiceMetrics implements AutoCloseable {
    public static final String HEALTHY = "pgbackfill.healthy";
    private final PrometheusMeterRegistry registry;
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();
    private volatile Supplier<Health> health = Health::starting;
    private MetricsEndpoint endpoint;

    private ServiceMetrics(PrometheusMeterRegistry registry) {
        this.registry = registry;
    }

    /** A registry without an endpoint (port &lt; 0), for tests and embedding. */
    public static ServiceMetrics withoutEndpoint(String pipeline) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().commonTags("pipeline", pipeline);
        ServiceMetrics m = new ServiceMetrics(registry);
        Gauge.builder(HEALTHY, m, s -> s.health().up() ? 1 : 0)
                .description("1 while /health answers 200 (the stage runs without a failure), 0 while starting or failed").register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        m.owned.push(gc);
        return m;
    }

    /**
     * Opens the registry and, for {@code port >= 0}, the endpoint. A port that cannot be bound is reported
     * and the service runs on without an endpoint: metrics must never be the reason a migration stops
     * (under an orchestrator the failing health check makes it visible).
     */
    public static ServiceMetrics open(String pipeline, int port, PrintStream log) {
        ServiceMetrics m = withoutEndpoint(pipeline);
        if (port >= 0) {
            try {
                m.endpoint = MetricsEndpoint.start(port, m.registry, m::health);
                log.println("metrics on port " + m.endpoint.port() + ": /metrics (Prometheus), /health");
            } catch (IOException e) {
                log.println("metrics endpoint not started: port " + port + " unavailable (" + e.getMessage() + "); use --metrics-port");
            }
        }
        return m;
    }

    public MeterRegistry registry() {
        return registry;
    }

    public PrometheusMeterRegistry prometheus() {
        return registry;
    }

    /** From now on {@code /health} asks {@code check}. */
    public void reportHealth(Supplier<Health> check) {
        this.health = check;
    }

    public Health health() {
        try {
            return health.get();
        } catch (RuntimeException e) {
            return Health.down("health check failed: " + e.getClass().getSimpleName());
        }
    }

    /** Closes {@code poller} with this (last opened, first closed); returns it. */
    public <T extends AutoCloseable> T own(T poller) {
        owned.push(poller);
        return poller;
    }

    /** The bound port, or -1 without an endpoint. */
    public int port() {
        return endpoint == null ? -1 : endpoint.port();
    }

    @Override
    public void close() throws Exception {
        Exception first = null;
        if (endpoint != null) {
            endpoint.close();
        }
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (Exception e) {
                first = first == null ? e : first;
            }
        }
        registry.close();
        if (first != null) {
            throw first;
        }
    }
}
