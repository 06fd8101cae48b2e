package io.pgbackfill.ops;

import io.pgbackfill.embedded.InfrastructureExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.embedded.EmbeddedInfrastructure;
import io.pgbackfill.core.event.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** --json of preflight, dlq show and cutover through the real CLI (schemas: docs/json-output.md). */
@ExtendWith(InfrastructureExtension.class)
class JsonOutputIT {
    static final ObjectMapper JSON = new ObjectMapper();
    @InfrastructureExtension.Started
    static EmbeddedInfrastructure infra;
    static Path spec;

    @BeforeAll
    static void up() throws Exception {
        try (Connection c = infra.connect("jsonout"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE users (id bigint PRIMARY KEY, name text)");
            st.execute("CREATE TABLE users_v2 (id bigint PRIMARY KEY, name text)");
            st.execute("INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 100) g");
        }
        spec = Files.createTempFile("jsonout", ".yaml");
        Files.writeString(spec, """
                name: jsonout
                source: {jdbcUrl: "%s", user: postgres}
                kafka: {bootstrapServers: "%s", partitions: 2}
                tables:
                  - source: public.users
                    target: public.users_v2
                    columns: {id: id, name: name}
                """.formatted(infra.jdbcUrl("jsonout"), infra.kafkaBootstrapServers()));
    }

    /** The one JSON object the command printed on stdout (logs and progress may surround it). */
    static JsonNode object(CliRun r, String kind) throws Exception {
        List<String> objects = r.output().lines().filter(l -> l.startsWith("{\"kind\":\"" + kind + "\"")).toList();
        assertThat(objects).as(r.output()).hasSize(1);
        return JSON.readTree(objects.get(0));
    }

    @Test
    void preflight() throws Exception {
        CliRun r = CliRun.of("preflight", spec.toString(), "--json");
        JsonNode o = object(r, "preflight");
        assertThat(o.path("checks").size()).isPositive();
        for (JsonNode c : o.path("checks")) {
            assertThat(c.path("name").asText()).isNotBlank();
            assertThat(c.path("verdict").asText()).isIn("PASS", "WARN", "FAIL");
            assertThat(c.has("detail")).isTrue();
            assertThat(c.has("fix")).isTrue();
        }
        boolean anyFail = false;
        for (JsonNode c : o.path("checks")) {
            anyFail |= c.path("verdict").asText().equals("FAIL");
        }
        assertThat(o.path("passed").asBoolean()).isEqualTo(!anyFail);
        assertThat(r.exitCode()).isEqualTo(anyFail ? 1 : 0);
        assertThat(r.output()).doesNotContain("preflight: PASS").doesNotContain("preflight: FAIL");
    }

    @Test
    void dlqShowCountsEveryLetterAndListsUpToTheLimit() throws Exception {
        PipelineSpec s = SpecLoader.load(spec);
        String topic = s.dlqTopic(s.tables().get(0));
        KafkaTopics.ensure(new io.pgbackfill.core.spec.KafkaSpec(infra.kafkaBootstrapServers(), null, 2), List.of(topic), 2);
        Properties p = new Properties();
        p.put("bootstrap.servers", infra.kafkaBootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 3; i++) {
                String reason = i < 2 ? "cast failure" : "NULL into NOT NULL";
                producer.send(new ProducerRecord<>(topic, 0, ("{\"id\":" + i + "}").getBytes(StandardCharsets.UTF_8), "{}".getBytes(StandardCharsets.UTF_8),
                        DeadLetter.headers("transformer", reason, "X", "bad value " + i, null, s.rawTopic(s.tables().get(0)), 0, i))).get();
            }
        }
        CliRun r = CliRun.of("dlq", "show", spec.toString(), "--json", "--limit", "2");
        assertThat(r.exitCode()).isZero();
        JsonNode o = object(r, "dlq");
        assertThat(o.path("total").asLong()).isEqualTo(3);
        assertThat(o.path("byReason").toString()).isEqualTo("[{\"stage\":\"transformer\",\"reason\":\"NULL into NOT NULL\",\"count\":1},"
                + "{\"stage\":\"transformer\",\"reason\":\"cast failure\",\"count\":2}]");
        assertThat(o.path("letters").size()).isEqualTo(2);
        JsonNode first = o.path("letters").get(0);
        assertThat(first.path("topic").asText()).isEqualTo(topic);
        assertThat(first.path("offset").asLong()).isZero();
        assertThat(first.path("key").asText()).isEqualTo("{\"id\":0}");
        assertThat(first.path("message").asText()).isEqualTo("bad value 0");
        assertThat(first.path("sourceTopic").asText()).isEqualTo(s.rawTopic(s.tables().get(0)));
    }

    @Test
    void cutoverRefusedIsOneObjectWithTheReasons() throws Exception {
        // The pipeline's topics exist (as after `backfill up`), but nothing ran: nothing caught up, nothing verified.
        PipelineSpec s = SpecLoader.load(spec);
        KafkaTopics.ensure(new io.pgbackfill.core.spec.KafkaSpec(infra.kafkaBootstrapServers(), null, 2), List.of(s.rawTopic(s.tables().get(0)), s.rowsTopic(s.tables().get(0)),
                s.dlqTopic(s.tables().get(0))), 2);
        CliRun r = CliRun.of("cutover", spec.toString(), "--json", "--max-lag-ms", "200");
        assertThat(r.exitCode()).isEqualTo(1);
        JsonNode o = object(r, "cutover");
        assertThat(o.path("result").asText()).isEqualTo("refused");
        assertThat(o.path("done").asBoolean()).isFalse();
        assertThat(o.path("refusals").size()).isPositive();
        assertThat(o.path("refusals").toString()).contains("verify");
        assertThat(o.path("deadLetters").path("accepted").asBoolean()).isFalse();
    }
}
