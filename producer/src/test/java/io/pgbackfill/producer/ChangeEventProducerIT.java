package io.pgbackfill.producer;

import io.pgbackfill.embedded.InfrastructureExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbackfill.core.Secret;
import io.pgbackfill.core.event.ChangeEvent;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.embedded.Infrastructure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

@ExtendWith(InfrastructureExtension.class)
class ChangeEventProducerIT {
    @InfrastructureExtension.Started
    static Infrastructure infra;

    @Test
    void snapshotsThenStreamsWithWatermarksAndToastPlaceholdersRemoved() throws Exception {
        String url = infra.jdbcUrl("producer_it");
        try (Connection c = infra.connect("producer_it"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE users (id bigserial primary key, name text, bio text)");
            // EXTERNAL: out of line, uncompressed, so an UPDATE that leaves bio alone really sends the TOAST placeholder.
            st.execute("ALTER TABLE users ALTER COLUMN bio SET STORAGE EXTERNAL");
            st.execute("INSERT INTO users (name, bio) SELECT 'user ' || g, repeat(md5(g::text), 400) FROM generate_series(1, 3000) g");
        }
        PipelineSpec spec = SpecLoader.parse("""
                name: producer-it
                source: {jdbcUrl: x}
                kafka: {partitions: 2}
                snapshot: {chunkSize: 500}
                tables:
                  - source: public.users
                    target: public.users_v2
                    columns: {id: id}
                """, "t.yaml");
        spec = spec.withConnections(ConnectionSpec.of(url, infra.user(), Secret.of(infra.password(), "test")), null)
                .withKafka(spec.kafka().withBootstrapServers(infra.kafkaBootstrapServers()));
        Path state = Files.createTempDirectory("producer-it");
        try (ChangeEventProducer p = new ChangeEventProducer(ProducerConfig.of(spec, state).withHeartbeatIntervalMs(300))) {
            p.start();
            await().atMost(Duration.ofSeconds(90)).until(() -> p.snapshotDone() || p.failure() != null);
            assertThat(p.failure()).isNull();
            try (Connection c = infra.connect("producer_it"); Statement st = c.createStatement()) {
                st.execute("UPDATE users SET name = 'changed' WHERE id = 7");
                st.execute("DELETE FROM users WHERE id = 8");
            }
            Map<String, Integer> ops = new HashMap<>();
            Map<Long, ChangeEvent> last = new HashMap<>();
            try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
                consumer.subscribe(List.of(spec.rawTopic(spec.tables().get(0))));
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        ChangeEvent e = EventCodec.decodeChange(r.value());
                        ops.merge(e.op(), 1, Integer::sum);
                        if (e.key() != null) {
                            last.put((Long) e.key().get("id"), e);
                        }
                    }
                    return last.containsKey(8L) && last.get(8L).isDelete() && "u".equals(last.get(7L).op());
                });
            }
            assertThat(ops.get("r")).isBetween(3000, 3500);
            assertThat(ops.get("w")).isPositive();
            ChangeEvent update = last.get(7L);
            assertThat(update.after()).containsEntry("name", "changed").doesNotContainKey("bio");
            assertThat(update.unchanged()).containsExactly("bio");
            assertThat(update.lsn()).isPositive();
        }
    }

    /**
     * The chunked snapshot never holds the stream up: with the snapshot held by its pacer (the transformer's
     * group has committed nothing past the first records, so the backlog is over the limit), a change to a row the
     * snapshot has not reached yet is in Kafka at once. Once the backlog is gone the snapshot goes on, and the row's
     * snapshot copy, read after the change, carries it.
     */
    @Test
    void aChangeDuringTheChunkedSnapshotIsStreamedAtOnceWhileThePacerHoldsTheSnapshot() throws Exception {
        String url = infra.jdbcUrl("producer_fresh");
        int rows = 6_000;
        try (Connection c = infra.connect("producer_fresh"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE users (id bigserial primary key, name text)");
            st.execute("INSERT INTO users (name) SELECT 'user ' || g FROM generate_series(1, " + rows + ") g");
        }
        PipelineSpec spec = SpecLoader.parse("""
                name: producer-fresh
                source: {jdbcUrl: x}
                kafka: {partitions: 2}
                snapshot: {chunkSize: 100, mode: chunked}
                tables:
                  - source: public.users
                    target: public.users_v2
                    columns: {id: id}
                """, "t.yaml");
        spec = spec.withConnections(ConnectionSpec.of(url, infra.user(), Secret.of(infra.password(), "test")), null)
                .withKafka(spec.kafka().withBootstrapServers(infra.kafkaBootstrapServers()));
        String raw = spec.rawTopic(spec.tables().get(0));
        List<org.apache.kafka.common.TopicPartition> parts = List.of(new org.apache.kafka.common.TopicPartition(raw, 0),
                new org.apache.kafka.common.TopicPartition(raw, 1));
        Path state = Files.createTempDirectory("producer-fresh");
        try (org.apache.kafka.clients.admin.Admin admin = io.pgbackfill.core.kafka.KafkaTopics.admin(spec.kafka())) {
            io.pgbackfill.core.kafka.KafkaTopics.ensure(admin, List.of(raw), 2);
            Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> zero = new HashMap<>();
            parts.forEach(tp -> zero.put(tp, new org.apache.kafka.clients.consumer.OffsetAndMetadata(0)));
            admin.alterConsumerGroupOffsets(spec.transformerApplicationId(), zero).all().get();
            try (ChangeEventProducer p = new ChangeEventProducer(ProducerConfig.of(spec, state).withHeartbeatIntervalMs(300));
                 KafkaConsumer<byte[], byte[]> consumer = consumer()) {
                p.start();
                // Three chunks' worth unconsumed: the pacer holds the reader from here on.
                await().atMost(Duration.ofSeconds(60)).until(() -> p.snapshotRowsRead("public.users") >= 300 || p.failure() != null);
                assertThat(p.failure()).isNull();
                try (Connection c = infra.connect("producer_fresh"); Statement st = c.createStatement()) {
                    st.execute("UPDATE users SET name = 'changed during the snapshot' WHERE id = " + rows);
                }
                consumer.subscribe(List.of(raw));
                Map<Long, ChangeEvent> last = new HashMap<>();
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        ChangeEvent e = EventCodec.decodeChange(r.value());
                        if (e.key() != null) {
                            last.put(((Number) e.key().get("id")).longValue(), e);
                        }
                    }
                    return last.containsKey((long) rows);
                });
                assertThat(last.get((long) rows).op()).isEqualTo("u");
                assertThat(p.snapshotDone()).as("the snapshot is still held by its pacer").isFalse();
                assertThat(p.snapshotRowsRead("public.users")).isLessThan(rows);

                admin.deleteConsumerGroupOffsets(spec.transformerApplicationId(), java.util.Set.copyOf(parts)).all().get();
                await().atMost(Duration.ofSeconds(120)).until(() -> p.snapshotDone() || p.failure() != null);
                assertThat(p.failure()).isNull();
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        ChangeEvent e = EventCodec.decodeChange(r.value());
                        if (e.key() != null) {
                            last.put(((Number) e.key().get("id")).longValue(), e);
                        }
                    }
                    return last.size() == rows;
                });
                ChangeEvent copy = last.get((long) rows);
                assertThat(copy.op()).as("the snapshot's copy comes after the change, in order").isEqualTo("r");
                assertThat(copy.after()).containsEntry("name", "changed during the snapshot");
                assertThat(copy.lsn()).as("snapshot rows carry no version").isZero();
            }
        }
    }

    /**
     * The restart-after-scan race (ChaosIT, seed -7900165899338920321): the replication connection drops just after
     * the snapshot, before Debezium's first offset flush, and rows are deleted while it is down. Debezium's own retry
     * of an initial scan would take a new scan from the current WAL position and never stream those deletes: that
     * producer stops instead, and the restarted one streams from the slot. The chunked snapshot's engine only streams:
     * its retry, without offsets, streams from the slot too. Either way every delete reaches Kafka.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"initial", "chunked"})
    void aFailureAfterTheSnapshotNeverSkipsTheWalBeforeTheFirstOffsetFlush(String mode) throws Exception {
        String db = "producer_race_" + mode;
        String url = infra.jdbcUrl(db);
        try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE users (id bigserial primary key, name text)");
            st.execute("INSERT INTO users (name) SELECT 'user ' || g FROM generate_series(1, 2000) g");
        }
        PipelineSpec spec = SpecLoader.parse("""
                name: producer-race-%s
                source: {jdbcUrl: x}
                kafka: {partitions: 2}
                snapshot: {mode: %s}
                tables:
                  - source: public.users
                    target: public.users_v2
                    columns: {id: id}
                """.formatted(mode, mode), "t.yaml");
        spec = spec.withConnections(ConnectionSpec.of(url, infra.user(), Secret.of(infra.password(), "test")), null)
                .withKafka(spec.kafka().withBootstrapServers(infra.kafkaBootstrapServers()));
        Path state = Files.createTempDirectory("producer-race");
        // No offset flush during the test: the failure always lands before the first one.
        ProducerConfig config = new ProducerConfig(spec, state, 300, 3_600_000, 2048, false);
        Map<Long, ChangeEvent> last = new HashMap<>();
        ChangeEventProducer p = new ChangeEventProducer(config);
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            p.start();
            ChangeEventProducer first = p;
            await().atMost(Duration.ofSeconds(90)).until(() -> first.snapshotDone() || first.failure() != null);
            assertThat(p.failure()).isNull();
            try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
                st.execute("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '" + spec.slotName() + "' AND active_pid IS NOT NULL");
                st.execute("DELETE FROM users WHERE id <= 50");
            }
            if ("initial".equals(mode)) {
                await().atMost(Duration.ofSeconds(60)).until(() -> first.failure() != null);
                p.close();
                p = new ChangeEventProducer(config); // what the supervisor does on exit 3
                p.start();
            }
            ChangeEventProducer running = p;
            consumer.subscribe(List.of(spec.rawTopic(spec.tables().get(0))));
            await().atMost(Duration.ofSeconds(90)).until(() -> {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    ChangeEvent e = EventCodec.decodeChange(r.value());
                    if (e.key() != null) {
                        last.put(((Number) e.key().get("id")).longValue(), e);
                    }
                }
                return running.failure() != null || java.util.stream.LongStream.rangeClosed(1, 50).allMatch(id -> last.containsKey(id) && last.get(id).isDelete());
            });
            assertThat(p.failure()).isNull();
        } finally {
            p.close();
        }
        assertThat(last).hasSize(2000);
        assertThat(last.values().stream().filter(ChangeEvent::isDelete).count()).isEqualTo(50);
    }

    static KafkaConsumer<byte[], byte[]> consumer() {
        Properties p = new Properties();
        p.put("bootstrap.servers", infra.kafkaBootstrapServers());
        p.put("group.id", "producer-it-" + System.nanoTime());
        p.put("auto.offset.reset", "earliest");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
