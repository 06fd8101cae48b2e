package io.pgbackfill.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbackfill.core.Secret;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.event.RowChange;
import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.embedded.EmbeddedKafkaBroker;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole sink stage: a real broker, the sink's consumer group, a real PostgreSQL that is stopped while
 * changes keep arriving and started again. Nothing may be lost, and what the target refuses goes to the
 * dead-letter topic with the headers an operator needs to find and replay it.
 */
class RowSinkIT {
    private static final int PARTITIONS = 2;
    private static final long BAD_ID = 999_999;
    private static TargetDatabase db;
    private static EmbeddedKafkaBroker kafka;

    /** Target state the test expects: id to [name, bio]. */
    private final Map<Long, List<String>> expected = new TreeMap<>();
    private long lsn = 100;

    @BeforeAll
    static void up() throws Exception {
        db = TargetDatabase.start("row_sink_it");
        kafka = EmbeddedKafkaBroker.start();
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (kafka != null) {
                kafka.close();
            }
        } finally {
            if (db != null) {
                db.close();
            }
        }
    }

    private PipelineSpec spec() {
        PipelineSpec spec = SpecLoader.parse("""
                name: sink-it
                source: {jdbcUrl: x}
                kafka: {partitions: %d}
                sink: {batchSize: 500, lingerMs: 20, copyThreshold: 100}
                tables:
                  - source: public.users
                    target: public.users_v2
                    columns: {id: id, name: name, bio: bio}
                """.formatted(PARTITIONS), "t.yaml");
        return spec.withConnections(ConnectionSpec.of(db.jdbcUrl(), "postgres", Secret.of("", "test")), null)
                .withKafka(spec.kafka().withBootstrapServers(kafka.bootstrapServers()));
    }

    @Test
    void losesNothingAcrossATargetRestartAndDeadLettersWhatTheTargetRefuses() throws Exception {
        db.execute("CREATE TABLE users_v2 (id bigint PRIMARY KEY, name varchar(20) NOT NULL, bio text)");
        PipelineSpec spec = spec();
        TableSpec table = spec.tables().get(0);
        String rows = spec.rowsTopic(table);
        try (RowSink sink = new RowSink(spec, SinkConfig.from(spec.sink()));
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProperties(), new ByteArraySerializer(), new ByteArraySerializer())) {
            sink.start();
            for (long id = 1; id <= 3000; id++) {
                send(producer, rows, upsert(id, "user " + id, "bio " + id));
            }
            producer.flush();
            await().atMost(Duration.ofSeconds(60)).until(() -> sink.rowsWritten() > 0 || sink.failure() != null);

            db.server().stop();
            for (long id = 1; id <= 3000; id += 3) {
                send(producer, rows, id % 2 == 0 ? upsert(id, "renamed " + id, "new bio " + id) : upsertKeepingBio(id, "renamed " + id));
            }
            for (long id = 10; id <= 3000; id += 10) {
                send(producer, rows, delete(id));
            }
            RowChange refused = RowChange.upsert(++lsn, key(BAD_ID), values(BAD_ID, "a name longer than twenty characters", null), null);
            Future<RecordMetadata> refusedAt = send(producer, rows, refused);
            producer.flush();
            await().atMost(Duration.ofSeconds(30)).until(() -> sink.retries() > 0); // the sink meets a dead target and backs off
            assertThat(sink.failure()).isNull();
            db.server().restart();

            for (long id = 3001; id <= 3500; id++) {
                send(producer, rows, upsert(id, "late " + id, null));
            }
            long fence = ++lsn;
            for (int p = 0; p < PARTITIONS; p++) {
                producer.send(new ProducerRecord<>(rows, p, null, EventCodec.encode(RowChange.watermark(fence, true))));
            }
            producer.flush();

            List<List<String>> fenceOnEveryPartition = List.of(List.of("0", Long.toString(fence), "true"), List.of("1", Long.toString(fence), "true"));
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                    .until(() -> sink.failure() != null || (target().equals(expected) && progress().equals(fenceOnEveryPartition)));
            assertThat(sink.failure()).isNull();
            assertThat(target()).isEqualTo(expected);
            assertThat(progress()).isEqualTo(fenceOnEveryPartition);

            List<ConsumerRecord<byte[], byte[]>> deadLetters = readAll(spec.dlqTopic(table), 1);
            assertThat(deadLetters).hasSize(1);
            ConsumerRecord<byte[], byte[]> dead = deadLetters.get(0);
            assertThat(dead.key()).isEqualTo(EventCodec.encodeKey(key(BAD_ID)));
            assertThat(EventCodec.decodeRow(dead.value())).isEqualTo(refused);
            Map<String, String> headers = headers(dead);
            assertThat(headers).containsEntry("pgbackfill.stage", "sink")
                    .containsEntry("pgbackfill.error.class", "DATABASE_REJECTED")
                    .containsEntry("pgbackfill.source.topic", rows)
                    .containsEntry("pgbackfill.source.partition", Integer.toString(refusedAt.get().partition()))
                    .containsEntry("pgbackfill.source.offset", Long.toString(refusedAt.get().offset()));
            assertThat(headers.get("pgbackfill.error.reason")).contains("22001");
            assertThat(headers.get("pgbackfill.error.message")).contains("value too long for type character varying(20)");
            assertThat(sink.deadLetters()).isEqualTo(1);
        }
    }

    private RowChange upsert(long id, String name, String bio) {
        expected.put(id, Arrays.asList(name, bio));
        return RowChange.upsert(++lsn, key(id), values(id, name, bio), null);
    }

    /** An update that did not touch the TOASTed bio: the target keeps the bio it has. */
    private RowChange upsertKeepingBio(long id, String name) {
        expected.put(id, Arrays.asList(name, expected.get(id).get(1)));
        return RowChange.upsert(++lsn, key(id), values(id, name, null), Set.of("bio"));
    }

    private RowChange delete(long id) {
        expected.remove(id);
        return RowChange.delete(++lsn, key(id));
    }

    private static Map<String, String> key(long id) {
        return Map.of("id", Long.toString(id));
    }

    private static Map<String, String> values(long id, String name, String bio) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("id", Long.toString(id));
        v.put("name", name);
        v.put("bio", bio);
        return v;
    }

    /** Keyed by the target key, as the transformer writes: one key, one partition, one order. */
    private static Future<RecordMetadata> send(KafkaProducer<byte[], byte[]> producer, String topic, RowChange rc) {
        return producer.send(new ProducerRecord<>(topic, EventCodec.encodeKey(rc.key()), EventCodec.encode(rc)));
    }

    private static Map<Long, List<String>> target() {
        Map<Long, List<String>> out = new TreeMap<>();
        try {
            for (List<String> r : db.rows("SELECT id, name, bio FROM users_v2")) {
                out.put(Long.parseLong(r.get(0)), Arrays.asList(r.get(1), r.get(2)));
            }
        } catch (SQLException e) {
            return Map.of(); // the database is still starting
        }
        return out;
    }

    /** The sink's watermark per partition: [partition, lsn, snapshot_done]. */
    private static List<List<String>> progress() {
        try {
            return db.rows("SELECT partition::text, lsn::text, snapshot_done::text FROM " + BatchWriter.PROGRESS_TABLE + " ORDER BY 1");
        } catch (SQLException e) {
            return List.of(); // the database is still starting
        }
    }

    private static Properties producerProperties() {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        p.put("linger.ms", "5");
        return p;
    }

    /** Everything in a topic: waits for at least {@code atLeast} records, then half a second more for any extra. */
    private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int atLeast) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        p.put("group.id", "row-sink-it-reader-" + System.nanoTime());
        p.put("auto.offset.reset", "earliest");
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
                return out.size() >= atLeast;
            });
            long until = System.currentTimeMillis() + 500;
            while (System.currentTimeMillis() < until) {
                c.poll(Duration.ofMillis(100)).forEach(out::add);
            }
        }
        return out;
    }

    private static Map<String, String> headers(ConsumerRecord<byte[], byte[]> r) {
        Map<String, String> out = new HashMap<>();
        for (Header h : r.headers()) {
            out.put(h.key(), new String(h.value(), StandardCharsets.UTF_8));
        }
        return out;
    }
}
