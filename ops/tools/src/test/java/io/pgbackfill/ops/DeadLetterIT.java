package io.pgbackfill.ops;

import io.pgbackfill.embedded.InfrastructureExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbackfill.core.Secret;
import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.KafkaSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.embedded.EmbeddedInfrastructure;
import io.pgbackfill.ops.dlq.DeadLetterTopic;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.verify.Verifier;
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
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** 1% poison rows land in the DLQ with their reason while 99% arrive; after a spec fix, a replay completes the target. */
@ExtendWith(InfrastructureExtension.class)
class DeadLetterIT {
    @InfrastructureExtension.Started
    static EmbeddedInfrastructure infra;

    static PipelineSpec spec(String amountExpression) throws Exception {
        PipelineSpec s = SpecLoader.parse("""
                name: payments
                source: {jdbcUrl: x}
                kafka: {partitions: 2}
                snapshot: {chunkSize: 500}
                tables:
                  - source: public.payments
                    target: public.payments_v2
                    columns:
                      id: id
                      amount: %s
                      currency: coalesce(currency, 'BRL')
                      note: note
                """.formatted(amountExpression), "payments.yaml");
        return s.withConnections(ConnectionSpec.of(infra.jdbcUrl("pay"), infra.user(), Secret.of(infra.password(), "test")), null)
                .withKafka(new KafkaSpec(infra.kafkaBootstrapServers(), null, 2));
    }

    @Test
    void poisonGoesToTheDeadLetterTopicAndReplayAfterAFixCompletesTheTarget() throws Exception {
        try (Connection c = infra.connect("pay"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE payments (id bigserial PRIMARY KEY, amount text, currency text, note text)");
            st.execute("CREATE TABLE payments_v2 (id bigint PRIMARY KEY, amount numeric(10,2) NOT NULL, currency text NOT NULL, note varchar(40))");
            st.execute("INSERT INTO payments (amount, currency, note) SELECT CASE WHEN g % 100 = 0 THEN 'n/a' ELSE (g * 1.5)::text END, "
                    + "CASE WHEN g % 3 = 0 THEN NULL ELSE 'USD' END, 'payment ' || g FROM generate_series(1, 2000) g");
        }
        PipelineSpec broken = spec("to_numeric(amount, 2)");
        MigrationPlan plan = MigrationPlan.connect(broken, "payments.yaml");
        Path state = Files.createTempDirectory("dlq-it");
        ChangeEventProducer producer = new ChangeEventProducer(ProducerConfig.of(broken, state.resolve("producer")));
        TransformerApp transformer = new TransformerApp(plan, TransformerConfig.of(state.resolve("streams")));
        RowSink sink = new RowSink(broken, SinkConfig.from(broken.sink()));
        try {
            sink.start();
            transformer.start();
            producer.start();
            await().atMost(Duration.ofMinutes(2)).until(producer::snapshotDone);
            TransformerApp first = transformer;
            CatchUp.await(broken, true, Duration.ofMinutes(1), () -> first.failure() == null && sink.failure() == null);
            try (Connection c = infra.connect("pay"); Statement st = c.createStatement()) {
                ResultSet rs = st.executeQuery("SELECT count(*), count(*) FILTER (WHERE currency = 'BRL') FROM payments_v2");
                rs.next();
                assertThat(rs.getLong(1)).as("the 99% that map").isEqualTo(1980);
                assertThat(rs.getLong(2)).as("currency defaulted to BRL").isEqualTo(660);
            }
            List<DeadLetterTopic.Letter> letters = new ArrayList<>();
            new DeadLetterTopic(broken).forEach(letters::add);
            assertThat(letters).hasSize(20).allSatisfy(l -> {
                assertThat(l.stage()).isEqualTo("transformer");
                assertThat(l.reason()).isEqualTo("cast failure");
                assertThat(l.message()).contains("'n/a'").contains("numeric");
                assertThat(l.sourceTopic()).isEqualTo(broken.rawTopic(broken.tables().get(0)));
                assertThat(new String(l.value())).contains("\"amount\":\"n/a\"");
            });
            CliRun shown = CliRun.of("dlq", "show", specFile(broken).toString());
            assertThat(shown.output()).contains("20  transformer: cast failure");

            // fix the spec: 'n/a' means zero; restart the transformer with it, replay the letters
            transformer.close();
            PipelineSpec fixed = spec("\"amount == 'n/a' ? '0' : to_numeric(amount, 2)\"");
            MigrationPlan fixedPlan = MigrationPlan.connect(fixed, "payments.yaml");
            transformer = new TransformerApp(fixedPlan, TransformerConfig.of(state.resolve("streams2")));
            transformer.start();
            assertThat(new DeadLetterTopic(fixed).replay()).isEqualTo(20);
            assertThat(new DeadLetterTopic(fixed).replay()).as("each letter is replayed once").isZero();
            TransformerApp running = transformer;
            CatchUp.await(fixed, true, Duration.ofMinutes(1), () -> running.failure() == null);
            await().atMost(Duration.ofSeconds(30)).until(() -> count("payments_v2") == 2000);
            List<Verifier.Report> reports = new Verifier(fixedPlan, 500, 0, s -> { }).verify();
            assertThat(reports.get(0).mismatches()).isEmpty();
            assertThat(reports.get(0).rejectedRows()).isZero();
        } finally {
            producer.close();
            transformer.close();
            sink.close();
        }
    }

    static long count(String table) throws Exception {
        try (Connection c = infra.connect("pay"); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static Path specFile(PipelineSpec s) throws Exception {
        Path f = Files.createTempFile("payments", ".yaml");
        Files.writeString(f, """
                name: payments
                source: {jdbcUrl: "%s", user: postgres}
                kafka: {bootstrapServers: "%s", partitions: 2}
                tables:
                  - source: public.payments
                    target: public.payments_v2
                    columns: {id: id, amount: amount, currency: currency, note: note}
                """.formatted(s.source().jdbcUrl(), s.kafka().bootstrapServers()));
        return f;
    }
}
