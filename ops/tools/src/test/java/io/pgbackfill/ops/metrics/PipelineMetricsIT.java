package io.pgbackfill.ops.metrics;

import io.pgbackfill.embedded.InfrastructureExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.pgbackfill.core.Secret;
import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.KafkaSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.embedded.EmbeddedInfrastructure;
import io.pgbackfill.ops.dlq.DeadLetterTopic;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.producer.ChangeEventProducer;
import io.pgbackfill.producer.ProducerConfig;
import io.pgbackfill.sink.RowSink;
import io.pgbackfill.sink.SinkConfig;
import io.pgbackfill.transformer.TransformerApp;
import io.pgbackfill.transformer.TransformerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The metrics of a real pipeline (embedded PostgreSQL, in-process Kafka): consumer-group lag per stage and
 * partition read from Kafka, dead letters by stage, table and reason equal to what the DLQ topics hold, the sink's
 * histograms equal to its batches and rows, the slot's wal_status, and the progress lines over the same meters.
 */
@ExtendWith(InfrastructureExtension.class)
class PipelineMetricsIT {
    @InfrastructureExtension.Started
    static EmbeddedInfrastructure infra;

    static PipelineSpec spec() throws Exception {
        PipelineSpec s = SpecLoader.parse("""
                name: metered
                source: {jdbcUrl: x}
                kafka: {partitions: 2}
                tables:
                  - source: public.payments
                    target: public.payments_v2
                    columns:
                      id: id
                      amount: to_numeric(amount, 2)
                """, "metered.yaml");
        return s.withConnections(ConnectionSpec.of(infra.jdbcUrl("metered"), infra.user(), Secret.of(infra.password(), "test")), null)
                .withKafka(new KafkaSpec(infra.kafkaBootstrapServers(), null, 2));
    }

    @Test
    void lagDeadLettersHistogramsAndSlotAsThePipelineRuns() throws Exception {
        try (Connection c = infra.connect("metered"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE payments (id bigserial PRIMARY KEY, amount text)");
            // The transformer rejects 'n/a' (cast failure); the target's CHECK rejects negative amounts (the sink's dead letters).
            st.execute("CREATE TABLE payments_v2 (id bigint PRIMARY KEY, amount numeric(10,2) NOT NULL CHECK (amount >= 0))");
            st.execute("INSERT INTO payments (amount) SELECT CASE WHEN g % 100 = 0 THEN 'n/a' WHEN g % 200 = 7 THEN '-1' ELSE (g * 1.5)::text END "
                    + "FROM generate_series(1, 2000) g");
        }
        PipelineSpec spec = spec();
        MigrationPlan plan = MigrationPlan.connect(spec, "metered.yaml");
        Path state = Files.createTempDirectory("metrics-it");
        ChangeEventProducer producer = new ChangeEventProducer(ProducerConfig.of(spec, state.resolve("producer")));
        TransformerApp transformer = new TransformerApp(plan, TransformerConfig.of(state.resolve("streams")));
        RowSink sink = new RowSink(spec, SinkConfig.from(spec.sink()));
        Duration poll = Duration.ofMillis(200);
        try (ServiceMetrics metrics = ServiceMetrics.withoutEndpoint(spec.pipelineName())) {
            MeterRegistry registry = metrics.registry();
            StageMetrics.transformer(registry, transformer, spec);
            StageMetrics.sink(registry, sink, spec);
            ConsumerLagProbe transformerLag = metrics.own(ConsumerLagProbe.start(spec, ConsumerLagProbe.Stage.TRANSFORMER, registry, poll));
            ConsumerLagProbe sinkLag = metrics.own(ConsumerLagProbe.start(spec, ConsumerLagProbe.Stage.SINK, registry, poll));
            producer.start();
            StageMetrics.producer(registry, producer, spec);
            metrics.own(SourceProbe.start(spec, producer, registry, poll));
            ProgressLog progress = new ProgressLog(registry, System::nanoTime);

            // Only the producer runs: the transformer's group has read nothing, its lag is everything in the raw topics.
            await().atMost(Duration.ofMinutes(2)).until(producer::snapshotDone);
            String raw = spec.rawTopic(spec.tables().get(0));
            await().atMost(Duration.ofSeconds(30)).until(() -> transformerLag.lag(raw, 0) + transformerLag.lag(raw, 1) >= 2000);

            sink.start();
            transformer.start();
            CatchUp.await(spec, true, Duration.ofMinutes(2), () -> transformer.failure() == null && sink.failure() == null);
            String rows = spec.rowsTopic(spec.tables().get(0));
            await().atMost(Duration.ofSeconds(60)).until(() -> transformerLag.lag(raw, 0) + transformerLag.lag(raw, 1) == 0
                    && sinkLag.lag(rows, 0) + sinkLag.lag(rows, 1) == 0);
            assertThat(gauges(registry, ConsumerLagProbe.CONSUMER_LAG)).as("a series per stage and partition")
                    .containsOnlyKeys("transformer " + raw + "/0", "transformer " + raw + "/1", "sink " + rows + "/0", "sink " + rows + "/1");

            // Dead letters: the counters by stage, table and reason say what the DLQ topics hold.
            Map<String, Long> letters = new TreeMap<>();
            new DeadLetterTopic(spec).forEach(l -> letters.merge(l.stage() + " " + l.reason().replaceAll(" \\(SQLSTATE .*\\)$", ""), 1L, Long::sum));
            assertThat(letters).containsOnlyKeys("transformer cast failure", "sink rejected by the target database");
            assertThat(letters.get("transformer cast failure")).isEqualTo(20);
            assertThat(letters.get("sink rejected by the target database")).isEqualTo(10);
            assertThat(deadLetters(registry, "transformer", "cast failure")).isEqualTo(20);
            assertThat(deadLetters(registry, "sink", "rejected by the target database")).isEqualTo(10);
            assertThat(registry.find(StageMetrics.DEAD_LETTERS).meters().stream().mapToDouble(m -> m.measure().iterator().next().getValue()).sum())
                    .as("no letter counted twice or under another reason").isEqualTo(30);
            assertThat(count("payments_v2")).isEqualTo(2000 - 30);

            // The sink's histograms cover every batch and every row written.
            var duration = registry.find(StageMetrics.SINK_BATCH_DURATION).timer();
            var size = registry.find(StageMetrics.SINK_BATCH_SIZE).summary();
            assertThat(duration.count()).isPositive().isEqualTo(sink.batches());
            assertThat(size.count()).isEqualTo(sink.batches());
            assertThat((long) size.totalAmount()).isEqualTo(sink.rowsWritten()).isGreaterThanOrEqualTo(2000 - 30);

            // The slot, polled from the source.
            await().atMost(Duration.ofSeconds(30)).until(() -> gauges(registry, SourceProbe.SLOT_WAL_STATUS).get("reserved") == 1.0);
            assertThat(gauges(registry, SourceProbe.SLOT_WAL_STATUS)).containsEntry("lost", 0.0);
            assertThat(registry.find(SourceProbe.SLOT_RETAINED_WAL).gauge().value()).isNotNaN().isNotNegative();
            assertThat(registry.find(SourceProbe.SNAPSHOT_ETA).timeGauge().value()).as("ETA once done").isZero();

            // Heartbeat watermarks keep flowing, so a lag probe may catch one in flight: wait for a line between two.
            var lines = await().atMost(Duration.ofSeconds(60)).until(progress::lines,
                    l -> l.size() == 3 && l.get(1).endsWith("| lag 0 | DLQ 20") && l.get(2).contains("written) | lag 0 | DLQ 10"));
            assertThat(lines).hasSize(3);
            assertThat(lines.get(0)).startsWith("producer: snapshot done |").contains("(reserved)");
            assertThat(lines.get(1)).startsWith("transformer: ").endsWith("| lag 0 | DLQ 20");
            assertThat(lines.get(2)).startsWith("sink: ").contains("written) | lag 0 | DLQ 10");
        } finally {
            producer.close();
            transformer.close();
            sink.close();
        }
    }

    /** "stage topic/partition" (lag) or the status tag (wal_status) to the gauge's value. */
    static Map<String, Double> gauges(MeterRegistry registry, String name) {
        Map<String, Double> out = new TreeMap<>();
        for (Meter m : registry.find(name).meters()) {
            String key = m.getId().getTag("status") != null ? m.getId().getTag("status")
                    : m.getId().getTag("stage") + " " + m.getId().getTag("topic") + "/" + m.getId().getTag("partition");
            out.put(key, m.measure().iterator().next().getValue());
        }
        return out;
    }

    static double deadLetters(MeterRegistry registry, String stage, String reason) {
        return registry.find(StageMetrics.DEAD_LETTERS).tags("stage", stage, "table", "public.payments_v2", "reason", reason).functionCounter().count();
    }

    static long count(String table) throws Exception {
        try (Connection c = infra.connect("metered"); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
