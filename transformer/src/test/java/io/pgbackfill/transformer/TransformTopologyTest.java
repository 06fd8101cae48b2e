package io.pgbackfill.transformer;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbackfill.core.event.ChangeEvent;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.event.RowChange;
import io.pgbackfill.core.spec.PipelineSpec;
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
            assertThat(out).hasSize(3);
            assertThat(out.get(0).values()).containsEntry("first_name", "Ana").containsEntry("last_name", "Maria Souza")
                    .containsEntry("email", "ana@x.com").containsEntry("score", "7");
            assertThat(out.get(0).lsn()).isEqualTo(10);
            assertThat(out.get(1)).isEqualTo(RowChange.delete(12, Map.of("id", "1")));
            assertThat(out.get(2)).isEqualTo(RowChange.watermark(13, true));

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
}
