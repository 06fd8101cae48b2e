package io.pgbackfill.sink.bench;

import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.event.RowChange;
import io.pgbackfill.core.kafka.KafkaTopics;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The benchmark's input: N transformed rows of the demo's {@code users_v2} (what the transformer writes
 * for the {@code users} split), as RowChange JSON keyed by id in the rows topic, and the empty target.
 */
final class BenchRows {
    static final String TABLE = "users_v2";
    static final List<String> COLUMNS = List.of("id", "first_name", "last_name", "email", "created_at");
    private static final String[] FIRST = {"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim"};
    private static final String[] LAST = {"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Berners-Lee"};

    private BenchRows() {
    }

    static void createTarget(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + TABLE);
            st.execute("CREATE TABLE " + TABLE + " (id bigint PRIMARY KEY, first_name text, last_name text, email text, created_at timestamptz)");
            st.execute("CHECKPOINT"); // the previous run's dirty pages are not this run's cost
        }
    }

    static RowChange row(long id) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", Long.toString(id));
        values.put("first_name", FIRST[(int) (id % FIRST.length)]);
        values.put("last_name", LAST[(int) ((id / FIRST.length) % LAST.length)] + " " + id);
        values.put("email", "user" + id + "@example.com");
        values.put("created_at", Instant.ofEpochSecond(1_600_000_000L + id * 37).toString());
        return RowChange.upsert(1_000_000L + id, Map.of("id", Long.toString(id)), values, null);
    }

    /** Produces rows 1..n to the topic; returns the seconds it took. */
    static double produce(String bootstrap, String topic, int partitions, long n) throws Exception {
        KafkaTopics.ensure(new io.pgbackfill.core.spec.KafkaSpec(bootstrap, null, partitions), List.of(topic), partitions);
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("linger.ms", "20");
        p.put("batch.size", Integer.toString(256 * 1024));
        p.put("compression.type", "lz4");
        long t0 = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (long id = 1; id <= n; id++) {
                RowChange rc = row(id);
                producer.send(new ProducerRecord<>(topic, EventCodec.encodeKey(rc.key()), EventCodec.encode(rc)));
            }
            producer.flush();
        }
        return (System.nanoTime() - t0) / 1e9;
    }
}
