package io.pgbackfill.ops.metrics;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.producer.ChangeEventProducer;
import io.pgbackfill.sink.RowSink;
import io.pgbackfill.transformer.TransformerApp;
import java.time.Duration;
import picocli.CommandLine.Option;

/** {@code --metrics-port} of the service commands, and the wiring of each stage's meters into a {@link ServiceMetrics}. */
public final class MetricsOptions {
    public static final String PORT_ENV = "PGBACKFILL_METRICS_PORT";
    public static final int DEFAULT_PORT = 9404;
    /** How often the producer asks the source for its WAL position and row estimates. */
    static final Duration SOURCE_POLL = Duration.ofSeconds(5);
    /** How often the transformer and sink read their consumer group's lag from Kafka. */
    static final Duration KAFKA_POLL = Duration.ofSeconds(5);

    @Option(names = "--metrics-port", defaultValue = "${env:" + PORT_ENV + ":-" + DEFAULT_PORT + "}", paramLabel = "PORT",
            description = {"HTTP port of /metrics (Prometheus) and /health (default ${DEFAULT-VALUE}, env " + PORT_ENV + ");",
                    "0 = any free port (printed at start), -1 = no endpoint"})
    int port = DEFAULT_PORT;

    public static final String PROGRESS_ENV = "PGBACKFILL_PROGRESS_INTERVAL";

    @Option(names = "--progress-interval", defaultValue = "${env:" + PROGRESS_ENV + ":-10}", paramLabel = "SECONDS",
            description = {"Logs one progress line per stage every SECONDS seconds (default ${DEFAULT-VALUE}, env " + PROGRESS_ENV + "):",
                    "rows read and written, rates, the snapshot's ETA, consumer lag and dead letters. 0 turns it off."})
    int progressSeconds = 10;

    public ServiceMetrics open(PipelineSpec spec) {
        return ServiceMetrics.open(spec.pipelineName(), port, System.out);
    }

    /** Starts the progress lines over the meters bound so far (call it after the watch calls). */
    public void logProgress(ServiceMetrics metrics) {
        metrics.own(ProgressLog.start(metrics.registry(), Duration.ofSeconds(progressSeconds)));
    }

    public static void watch(ServiceMetrics metrics, ChangeEventProducer producer, PipelineSpec spec) {
        StageMetrics.producer(metrics.registry(), producer, spec);
        ControlMetrics.producer(metrics.registry(), producer);
        metrics.own(SourceProbe.start(spec, producer, metrics.registry(), SOURCE_POLL));
    }

    public static void watch(ServiceMetrics metrics, TransformerApp transformer, PipelineSpec spec) {
        StageMetrics.transformer(metrics.registry(), transformer, spec);
        metrics.own(ConsumerLagProbe.start(spec, ConsumerLagProbe.Stage.TRANSFORMER, metrics.registry(), KAFKA_POLL));
    }

    public static void watch(ServiceMetrics metrics, RowSink sink, PipelineSpec spec) {
        StageMetrics.sink(metrics.registry(), sink, spec);
        ControlMetrics.sink(metrics.registry(), sink);
        metrics.own(ConsumerLagProbe.start(spec, ConsumerLagProbe.Stage.SINK, metrics.registry(), KAFKA_POLL));
    }
}
