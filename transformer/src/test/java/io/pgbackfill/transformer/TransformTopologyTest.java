package io.pgbackfill.transformer;

import io.pgbackfill.core.event.DeadLetter;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgbackfill.core.event.ChangeEvent;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.event.RowChange;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.transform.MigrationPlan;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

/** The topology on Kafka Streams' TopologyTestDriver: rows out, dead letters with headers, markers passed on. */
class TransformTopologyTest {

    static Map<String, Object> row(long id, String name, String email, String score) {
        Map<String, Object> m = new HashMap<>();
        m.put("id", id);
        m.put("name", name);
        m.put("email", email);
        m.put("created_at", "2024-01-01T00:00:00.000000Z");
        m.put("score", score);
        return m;
    }

    @Test
    void mapsRowsRoutesPoisonToTheDeadLetterTopicAndPassesWatermarks() {
        MigrationPlan plan = Fixtures.plan();
        PipelineSpec spec = plan.spec();
        Properties props = new Properties();
        props.put("application.id", "t");
        props.put("bootstrap.servers", "unused:9092");
        TransformProcessor.TransformMetrics metrics = new TransformProcessor.TransformMetrics();
        try (TopologyTestDriver driver = new TopologyTestDriver(TransformTopology.build(plan, metrics), props)) {
            TestInputTopic<byte[], byte[]> in = driver.createInputTopic(spec.rawTopic(spec.tables().get(0)), new ByteArraySerializer(), new ByteArraySerializer());
            TestOutputTopic<byte[], byte[]> rows = driver.createOutputTopic(spec.rowsTopic(spec.tables().get(0)), new ByteArrayDeserializer(), new ByteArrayDeserializer());
            TestOutputTopic<byte[], byte[]> dlq = driver.createOutputTopic(spec.dlqTopic(spec.tables().get(0)), new ByteArrayDeserializer(), new ByteArrayDeserializer());
            in.pipeInput(EventCodec.encodeKey(Map.of("id", 1L)), EventCodec.encode(new ChangeEvent("r", "public.users", 10, 0, true, Map.of("id", 1L),
                    row(1, "Ana Maria Souza", "ANA@X.COM", "7"), null, null)));
            in.pipeInput(EventCodec.encodeKey(Map.of("id", 2L)), EventCodec.encode(new ChangeEvent("c", "public.users", 11, 0, false, Map.of("id", 2L),
                    row(2, "Bo", null, "abc"), null, null)));
            in.pipeInput(EventCodec.encodeKey(Map.of("id", 1L)), EventCodec.encode(new ChangeEvent("d", "public.users", 12, 0, false, Map.of("id", 1L), null, null, null)));
            in.pipeInput(null, EventCodec.encode(ChangeEvent.watermark("public.users", 13, 0, true)));
            in.pipeInput(EventCodec.encodeKey(Map.of("id", 3L)), "not json".getBytes());

            List<RowChange> out = rows.readValuesToList().stream().map(EventCodec::decodeRow).toList();
            assertThat(out).hasSize(4);
            assertThat(out.get(0).values()).containsEntry("first_name", "Ana").containsEntry("last_name", "Maria Souza")
                    .containsEntry("email", "ana@x.com").containsEntry("score", "7");
            assertThat(out.get(0).lsn()).isEqualTo(10);
            assertThat(out.get(1)).as("a rejected change withdraws the key's older version from the target").isEqualTo(RowChange.delete(11, Map.of("id", "2")));
            assertThat(out.get(2)).isEqualTo(RowChange.delete(12, Map.of("id", "1")));
            assertThat(out.get(3)).isEqualTo(RowChange.watermark(13, true));

            List<TestRecord<byte[], byte[]>> letters = dlq.readRecordsToList();
            assertThat(letters).hasSize(2);
            assertThat(DeadLetter.header(letters.get(0).headers(), DeadLetter.REASON)).isEqualTo("cast failure");
            assertThat(DeadLetter.header(letters.get(0).headers(), DeadLetter.MESSAGE)).contains("'abc'");
            assertThat(DeadLetter.header(letters.get(0).headers(), DeadLetter.STAGE)).isEqualTo("transformer");
            assertThat(DeadLetter.header(letters.get(0).headers(), DeadLetter.SOURCE_OFFSET)).isEqualTo("1");
            assertThat(new String(letters.get(0).value())).contains("\"score\":\"abc\"");
            assertThat(DeadLetter.header(letters.get(1).headers(), DeadLetter.REASON)).isEqualTo("malformed event");
            assertThat(metrics.in.get()).isEqualTo(5);
            assertThat(metrics.dlq.get()).isEqualTo(2);
        }
    }

    /**
     * "Else DLQ", written: reject('…') sends the row to the dead-letter topic with the author's reason; a map
     * lookup that misses says which column, which value, and which keys there are.
     */
    @Test
    void rejectAndAFailedLookupReachTheDeadLetterTopicAsSentences() {
        PipelineSpec spec = SpecLoader.parse("""
                name: orders
                source: {jdbcUrl: "jdbc:postgresql://h/db"}
                kafka: {partitions: 1}
                tables:
                  - source: public.orders
                    target: public.orders_v2
                    columns:
                      id: id
                      status: "status in ['new', 'paid', 'lost'] ? status : reject('unknown status ' + status)"
                      code: "{'new': 0, 'paid': 1}[status]"
                """, "orders.yaml");
        MigrationPlan plan = MigrationPlan.compile(spec, "orders.yaml",
                Map.of("public.orders", Fixtures.schema("public.orders", "id:bigint", "status:text")),
                Map.of("public.orders_v2", Fixtures.schema("public.orders_v2", "id:bigint", "status:text", "code:smallint")), true);
        Properties props = new Properties();
        props.put("application.id", "t");
        props.put("bootstrap.servers", "unused:9092");
        try (TopologyTestDriver driver = new TopologyTestDriver(TransformTopology.build(plan, new TransformProcessor.TransformMetrics()), props)) {
            TestInputTopic<byte[], byte[]> in = driver.createInputTopic(spec.rawTopic(spec.tables().get(0)), new ByteArraySerializer(), new ByteArraySerializer());
            TestOutputTopic<byte[], byte[]> rows = driver.createOutputTopic(spec.rowsTopic(spec.tables().get(0)), new ByteArrayDeserializer(), new ByteArrayDeserializer());
            TestOutputTopic<byte[], byte[]> dlq = driver.createOutputTopic(spec.dlqTopic(spec.tables().get(0)), new ByteArrayDeserializer(), new ByteArrayDeserializer());
            long lsn = 10;
            for (String status : List.of("paid", "bogus", "lost")) {
                long id = lsn;
                in.pipeInput(EventCodec.encodeKey(Map.of("id", id)), EventCodec.encode(new ChangeEvent("c", "public.orders", lsn++, 0, false,
                        Map.of("id", id), Map.of("id", id, "status", status), null, null)));
            }

            List<RowChange> out = rows.readValuesToList().stream().map(EventCodec::decodeRow).toList();
            assertThat(out).hasSize(3);
            assertThat(out.get(0).values()).containsEntry("status", "paid").containsEntry("code", "1");
            assertThat(out.subList(1, 3)).as("rejected rows are withdrawn, never left at an older version")
                    .containsExactly(RowChange.delete(11, Map.of("id", "11")), RowChange.delete(12, Map.of("id", "12")));
            List<TestRecord<byte[], byte[]>> letters = dlq.readRecordsToList();
            assertThat(letters).hasSize(2);
            assertThat(DeadLetter.header(letters.get(0).headers(), DeadLetter.REASON)).isEqualTo("rejected by the spec: unknown status bogus");
            assertThat(DeadLetter.header(letters.get(0).headers(), DeadLetter.MESSAGE)).isEqualTo("column status: unknown status bogus");
            assertThat(DeadLetter.header(letters.get(0).headers(), DeadLetter.COLUMN)).isEqualTo("status");
            assertThat(new String(letters.get(0).value())).contains("\"status\":\"bogus\"");
            assertThat(DeadLetter.header(letters.get(1).headers(), DeadLetter.REASON)).isEqualTo("expression error");
            assertThat(DeadLetter.header(letters.get(1).headers(), DeadLetter.MESSAGE)).startsWith("column code: no key 'lost' in the map (keys: new, paid)");
            assertThat(DeadLetter.header(letters.get(1).headers(), DeadLetter.COLUMN)).isEqualTo("code");
        }
    }
}
