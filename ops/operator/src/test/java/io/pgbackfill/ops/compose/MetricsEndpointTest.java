package io.pgbackfill.ops.compose;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.ops.metrics.ConsumerLagProbe;
import io.pgbackfill.ops.metrics.Health;
import io.pgbackfill.ops.metrics.ServiceMetrics;
import io.pgbackfill.ops.metrics.SourceProbe;
import io.pgbackfill.ops.metrics.StageMetrics;
import io.pgbackfill.producer.ChangeEventProducer;
import io.pgbackfill.producer.ProducerConfig;
import io.pgbackfill.sink.RowSink;
import io.pgbackfill.sink.SinkConfig;
import io.pgbackfill.transformer.TransformerApp;
import io.pgbackfill.transformer.TransformerConfig;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scrape endpoint over real HTTP, with the meters of all three stages bound to real (not started) stage
 * objects: what Prometheus and the compose health checks will see, name by name.
 */
class MetricsEndpointTest {
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path state;

    static PipelineSpec bundledSpec() throws Exception {
        try (InputStream in = MetricsEndpointTest.class.getResourceAsStream("/examples/users-split.yaml")) {
            return SpecLoader.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "users-split.yaml");
        }
    }

    static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesEveryStageMetricInPrometheusFormat() throws Exception {
        PipelineSpec spec = bundledSpec();
        ChangeEventProducer producer = new ChangeEventProducer(ProducerConfig.of(spec, state.resolve("producer")));
        TransformerApp transformer = new TransformerApp(MigrationPlan.compile(spec, "users-split.yaml", Map.of(), Map.of(), false),
                TransformerConfig.of(state.resolve("streams")));
        RowSink sink = new RowSink(spec, SinkConfig.from(spec.sink()));
        try (ServiceMetrics metrics = ServiceMetrics.open(spec.pipelineName(), 0, System.out)) {
            StageMetrics.producer(metrics.registry(), producer, spec);
            metrics.own(SourceProbe.idle(spec, producer, metrics.registry()));
            StageMetrics.transformer(metrics.registry(), transformer, spec);
            metrics.own(ConsumerLagProbe.idle(spec, ConsumerLagProbe.Stage.TRANSFORMER, metrics.registry()));
            StageMetrics.sink(metrics.registry(), sink, spec);
            metrics.own(ConsumerLagProbe.idle(spec, ConsumerLagProbe.Stage.SINK, metrics.registry()));

            HttpResponse<String> scrape = get(metrics.port(), "/metrics");
            assertThat(scrape.statusCode()).isEqualTo(200);
            assertThat(scrape.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain; version=0.0.4"));
            PrometheusText text = PrometheusText.parse(scrape.body());
            String pipeline = "pipeline=\"users-split\"";
            assertThat(text.sum("pgbackfill_events_out_total", "stage=\"producer\"", pipeline)).isZero();
            assertThat(text.sum("pgbackfill_events_in_total", "stage=\"transformer\"", pipeline)).isZero();
            assertThat(text.sum("pgbackfill_events_out_total", "stage=\"transformer\"")).isZero();
            assertThat(text.sum("pgbackfill_dead_letters_total", "stage=\"transformer\"")).isZero();
            assertThat(text.sum("pgbackfill_events_out_total", "stage=\"sink\"")).isZero();
            assertThat(text.sum("pgbackfill_dead_letters_total", "stage=\"sink\"")).isZero();
            assertThat(text.sum("pgbackfill_sink_batches_total")).isZero();
            assertThat(text.sum("pgbackfill_sink_batch_size_count")).isZero();
            assertThat(text.has("pgbackfill_sink_batch_size_sum")).isTrue();
            assertThat(text.has("pgbackfill_sink_batch_size_max")).isTrue();
            assertThat(text.sum("pgbackfill_sink_last_batch_duration_seconds")).isZero();
            assertThat(text.sum("pgbackfill_snapshot_rows_read", "table=\"public.users\"")).isZero();
            // A producer that never started reports its snapshot as done (ChangeEventProducer.snapshotDone() over no tables):
            // the services bind it after start(); here only the series is checked.
            assertThat(text.has("pgbackfill_snapshot_done", pipeline)).isTrue();
            assertThat(text.sum("pgbackfill_source_last_lsn_bytes")).isZero();
            // Not polled (and nothing read yet): unknown, which must not read as "no lag".
            assertThat(text.sum("pgbackfill_source_lsn_lag_bytes")).isNaN();
            assertThat(text.sum("pgbackfill_source_slot_retained_wal_bytes")).isNaN();
            assertThat(text.sum("pgbackfill_snapshot_rows_estimated", "table=\"public.users\"")).isNaN();
            assertThat(text.has("pgbackfill_snapshot_progress", "table=\"public.users\"")).isTrue();
            // Dead letters by stage, target table and reason: every reason declared at 0, so increase() sees the first letter.
            assertThat(text.sum("pgbackfill_dead_letters_total", "stage=\"transformer\"", "table=\"public.users_v2\"", "reason=\"cast failure\"")).isZero();
            assertThat(text.sum("pgbackfill_dead_letters_total", "stage=\"sink\"", "table=\"public.users_v2\"", "reason=\"rejected by the target database\"")).isZero();
            // Batch latency and size as histograms (buckets), not only a last value.
            assertThat(text.sum("pgbackfill_sink_batch_duration_seconds_count")).isZero();
            assertThat(text.has("pgbackfill_sink_batch_duration_seconds_bucket", "le=\"0.1\"")).isTrue();
            assertThat(text.has("pgbackfill_sink_batch_size_bucket", "le=\"1000.0\"")).isTrue();
            // Consumer-group lag per stage and partition: unknown until Kafka was asked.
            for (int p = 0; p < spec.kafka().partitions(); p++) {
                assertThat(text.sum("pgbackfill_consumer_lag_records", "stage=\"transformer\"", "topic=\"" + spec.rawTopic(spec.tables().get(0)) + "\"", "partition=\"" + p + "\"")).isNaN();
                assertThat(text.sum("pgbackfill_consumer_lag_records", "stage=\"sink\"", "topic=\"" + spec.rowsTopic(spec.tables().get(0)) + "\"", "partition=\"" + p + "\"")).isNaN();
            }
            assertThat(text.sum("pgbackfill_snapshot_eta_seconds", "table=\"public.users\"")).isNaN();
            assertThat(text.sum("pgbackfill_source_slot_wal_status", "status=\"lost\"")).isNaN();
            assertThat(text.sum("pgbackfill_healthy")).isZero();
            assertThat(text.sum("jvm_memory_used_bytes", pipeline)).isPositive();
            assertThat(text.has("process_uptime_seconds")).isTrue();
        }
    }

    @Test
    void healthIsStartingThenRunningThenFailedWithoutSecrets() throws Exception {
        try (ServiceMetrics metrics = ServiceMetrics.open("users-split", 0, System.out)) {
            HttpResponse<String> starting = get(metrics.port(), "/health");
            assertThat(starting.statusCode()).isEqualTo(503);
            assertThat(starting.body()).isEqualTo("starting\n");

            metrics.reportHealth(Health::running);
            assertThat(get(metrics.port(), "/health").statusCode()).isEqualTo(200);

            RuntimeException failure = new IllegalStateException("cannot connect to jdbc:postgresql://db/app?password=hunter2");
            metrics.reportHealth(() -> Health.of(failure));
            HttpResponse<String> failed = get(metrics.port(), "/health");
            assertThat(failed.statusCode()).isEqualTo(503);
            assertThat(failed.body()).startsWith("failed: cannot connect").doesNotContain("hunter2");

            metrics.reportHealth(() -> {
                throw new IllegalStateException("the check itself broke");
            });
            assertThat(get(metrics.port(), "/health").statusCode()).isEqualTo(503);

            assertThat(get(metrics.port(), "/nothing-here").statusCode()).isEqualTo(404);
            HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics.port() + "/metrics"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(405);
        }
    }

    @Test
    void aPortInUseLeavesTheServiceRunningWithoutEndpoint() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (ServiceMetrics first = ServiceMetrics.open("users-split", 0, System.out);
             ServiceMetrics second = ServiceMetrics.open("users-split", first.port(), new PrintStream(log, true, StandardCharsets.UTF_8))) {
            assertThat(second.port()).isEqualTo(-1);
            assertThat(log.toString(StandardCharsets.UTF_8)).contains("metrics endpoint not started: port " + first.port());
            assertThat(second.registry().getMeters()).as("meters still work for whoever reads them").isNotEmpty();
            assertThat(get(first.port(), "/health").statusCode()).isEqualTo(503);
        }
    }

    @Test
    void theEndpointNeverKeepsTheJvmAlive() throws Exception {
        try (ServiceMetrics metrics = ServiceMetrics.open("users-split", 0, System.out)) {
            assertThat(get(metrics.port(), "/health").statusCode()).isEqualTo(503);
            assertThat(Thread.getAllStackTraces().keySet()).filteredOn(t -> t.getName().startsWith("HTTP-Dispatcher"))
                    .as("the JDK server's dispatcher threads").isNotEmpty().allMatch(Thread::isDaemon);
        }
    }

    @Test
    void endpointIsOffForANegativePort() throws Exception {
        try (ServiceMetrics metrics = ServiceMetrics.open("users-split", -1, System.out)) {
            assertThat(metrics.port()).isEqualTo(-1);
        }
    }
}
