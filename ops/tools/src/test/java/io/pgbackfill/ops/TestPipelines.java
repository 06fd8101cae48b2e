package io.pgbackfill.ops;

import io.pgbackfill.core.Secret;
import io.pgbackfill.core.event.ChangeEvent;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.KafkaSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.embedded.Infrastructure;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Builds test pipelines from the bundled demo spec, each with its own name and database. */
final class TestPipelines {
    private TestPipelines() {
    }

    static String bundledYaml() throws Exception {
        try (InputStream in = TestPipelines.class.getResourceAsStream("/examples/users-split.yaml")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The demo spec renamed to {@code name}, pointed at database {@code name} on the test infrastructure. */
    static PipelineSpec demoSpec(Infrastructure infra, String name, String extraYaml) throws Exception {
        String yaml = bundledYaml().replace("name: users-split", "name: " + name) + (extraYaml == null ? "" : extraYaml);
        PipelineSpec spec = SpecLoader.parse(yaml, "users-split.yaml");
        String db = name.replace('-', '_');
        ConnectionSpec c = ConnectionSpec.of(infra.jdbcUrl(db), infra.user(), Secret.of(infra.password(), "test"));
        return spec.withConnections(c, null).withKafka(new KafkaSpec(infra.kafkaBootstrapServers(), null, spec.kafka().partitions()));
    }

    /**
     * The head of a spec that cuts over (name, connections, Kafka, cutover), for the tests that switch: same database, or a new
     * cluster whose switch command touches {@code switched}. The {@code tables:} part follows it.
     */
    static String switchSpecHead(Infrastructure infra, String name, String db, String targetDb, boolean sameDatabase, Path switched) throws SQLException {
        return """
                name: %s
                source: {jdbcUrl: "%s", user: postgres}
                %s
                kafka: {bootstrapServers: "%s", partitions: 2}
                cutover: {lockTimeoutMs: 1000%s}
                """.formatted(name, infra.jdbcUrl(db), sameDatabase ? "" : "target: {jdbcUrl: \"" + infra.jdbcUrl(targetDb) + "\", user: postgres}",
                infra.kafkaBootstrapServers(), sameDatabase ? "" : ", switchCommand: \"touch " + switched + "\"");
    }

    static String database(PipelineSpec spec) {
        return spec.pipelineName().replace('-', '_');
    }

    /** Counts snapshot reads in a raw topic, from the beginning, without a consumer group. */
    static long snapshotReads(Infrastructure infra, PipelineSpec spec) {
        Properties p = new Properties();
        p.put("bootstrap.servers", infra.kafkaBootstrapServers());
        long reads = 0;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            String topic = spec.rawTopic(spec.tables().get(0));
            List<TopicPartition> parts = c.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            var end = c.endOffsets(parts);
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    ChangeEvent e = EventCodec.decodeChange(r.value());
                    if (ChangeEvent.READ.equals(e.op())) {
                        reads++;
                    }
                }
            }
        }
        return reads;
    }
}
