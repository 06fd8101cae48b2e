package io.pgbackfill.ops;

import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.kafka.GroupPositions;
import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.embedded.Infrastructure;
import io.pgbackfill.ops.demo.DemoData;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.pipeline.Pipeline;
import io.pgbackfill.sink.SinkConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** What the failure-mode tests share: a spec file for the CLI, a pipeline run to a synced target, changes made while it is stopped, deleted records. */
final class LostChanges {
    private LostChanges() {
    }

    /** The demo migration (users -> users_v2) as a spec file on database {@code db}, for the CLI. */
    static Path specFile(Infrastructure infra, String name, String db) throws Exception {
        Path f = Files.createTempFile(name, ".yaml");
        Files.writeString(f, """
                name: %s
                source: {jdbcUrl: "%s", user: %s}
                kafka: {bootstrapServers: "%s", partitions: 2}
                %s""".formatted(name, infra.jdbcUrl(db), infra.user(), infra.kafkaBootstrapServers(), UsersSplitSpec.tables("users")));
        return f;
    }

    /** Runs the whole pipeline until the snapshot is in the target and it caught up; the target then equals the transform of the source. */
    static void syncOnce(MigrationPlan plan, Path state) throws Exception {
        try (Pipeline p = new Pipeline(plan, state, SinkConfig.from(plan.spec().sink()))) {
            p.start();
            CatchUp.await(plan.spec(), true, Duration.ofMinutes(3), () -> p.failure() == null);
        }
    }

    /**
     * Updates every third row, deletes every seventh and inserts ten: returns the number of rows changed. The target
     * differs from the source in all of them until these changes arrive.
     */
    static int changeSource(Connection c) throws Exception {
        try (Statement st = c.createStatement()) {
            int n = st.executeUpdate("UPDATE users SET name = 'Changed Person' || id, email = upper(email) WHERE id % 3 = 0 AND id % 7 <> 0");
            n += st.executeUpdate("DELETE FROM users WHERE id % 7 = 0");
            n += st.executeUpdate("INSERT INTO users (id, name, email) SELECT g, 'New Person' || g, 'new' || g || '@x.com' FROM generate_series(100001, 100010) g");
            return n;
        }
    }

    static long mismatches(Infrastructure infra, String db) throws Exception {
        try (Connection c = infra.connect(db)) {
            return DemoData.oracleMismatches(c);
        }
    }

    /** True once every partition of {@code topic} holds a watermark at or past {@code lsn} (raw or rows topic). */
    static boolean watermarkAtLeast(Infrastructure infra, String topic, long lsn, boolean raw) {
        Properties p = new Properties();
        p.put("bootstrap.servers", infra.kafkaBootstrapServers());
        p.put("isolation.level", "read_committed");
        Map<Integer, Long> highest = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            var end = c.endOffsets(parts);
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    boolean watermark = raw ? EventCodec.decodeChange(r.value()).isWatermark() : EventCodec.decodeRow(r.value()).isWatermark();
                    long at = raw ? EventCodec.decodeChange(r.value()).lsn() : EventCodec.decodeRow(r.value()).lsn();
                    if (watermark) {
                        highest.merge(r.partition(), at, Math::max);
                    }
                }
            }
            return parts.stream().allMatch(tp -> highest.getOrDefault(tp.partition(), -1L) >= lsn);
        }
    }

    /** What retention does to a topic: deletes its records up to the end, on every partition. */
    static void deleteAllRecords(PipelineSpec spec, String topic) throws Exception {
        try (Admin admin = KafkaTopics.admin(spec.kafka())) {
            var ends = GroupPositions.ends(admin, GroupPositions.partitions(admin, List.of(topic)));
            Map<TopicPartition, RecordsToDelete> delete = new HashMap<>();
            ends.forEach((tp, end) -> delete.put(tp, RecordsToDelete.beforeOffset(end)));
            admin.deleteRecords(delete).all().get();
        }
    }
}
