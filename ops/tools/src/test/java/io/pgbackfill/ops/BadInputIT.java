package io.pgbackfill.ops;

import io.pgbackfill.embedded.InfrastructureExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbackfill.core.Secret;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.KafkaSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecException;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.embedded.EmbeddedInfrastructure;
import io.pgbackfill.ops.dlq.DeadLetterTopic;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.pipeline.Pipeline;
import io.pgbackfill.sink.SinkConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Classes of awkward rows, each with where it must end: in the target, equal to the source, or in the DLQ
 * with its reason, while the rows around it still arrive. Also: a password never shows in anything printed.
 */
@ExtendWith(InfrastructureExtension.class)
class BadInputIT {
    @InfrastructureExtension.Started
    static EmbeddedInfrastructure infra;
    static final String PASSWORD = "S3cr3t-Pa55word-xyzzy";

    @Test
    void everyClassOfBadInputEndsInTheTargetOrTheDeadLetterTopicWithItsReason() throws Exception {
        String url = infra.jdbcUrl("bad");
        try (Connection c = infra.connect("bad"); Statement st = c.createStatement()) {
            st.execute("CREATE ROLE app LOGIN SUPERUSER PASSWORD '" + PASSWORD + "'");
            st.execute("CREATE TABLE things (id bigint PRIMARY KEY, big text, label text, must text, num text, f double precision, "
                    + "ts timestamptz, doc jsonb, tags text[], bin bytea, \"Order\" text)");
            st.execute("CREATE TABLE things_v2 (id bigint PRIMARY KEY, big text, label text, must text NOT NULL, num numeric(6,2), "
                    + "f double precision, ts timestamptz, doc jsonb, tags text[], bin bytea, \"Order\" text)");
            // good neighbours around every bad row
            st.execute("INSERT INTO things SELECT g, 'b', 'l', 'm', '1.5', 0.5, now(), '{}', '{a}', '\\x00', 'o' FROM generate_series(1, 300) g");
            st.execute("INSERT INTO things VALUES "
                    + "(1001, repeat('x', 2 * 1024 * 1024), 'big', 'm', '1', 1, now(), null, null, null, null),"                 // 2 MB text
                    + "(1002, 'u', 'Zoë 🙂 李小龍 ﷽ \u200d', 'm', '1', 1, now(), null, null, null, null),"                     // unicode, emoji
                    + "(1003, '', '', 'm', '1', 1, now(), null, null, null, null),"                                               // empty strings
                    + "(1004, null, null, 'm', null, null, null, null, null, null, null),"                                      // NULLs
                    + "(1005, 'n', 'null into not null', null, '1', 1, now(), null, null, null, null),"                         // NULL -> NOT NULL
                    + "(1006, 'n', 'overflow', 'm', '123456.789', 1, now(), null, null, null, null),"                           // numeric overflow
                    + "(1007, 'n', 'abc', 'm', 'abc', 1, now(), null, null, null, null),"                                       // 'abc' to numeric
                    + "(1008, 'n', 'nan', 'm', '1', 'NaN', now(), null, null, null, null),"                                     // NaN
                    + "(1009, 'n', 'inf', 'm', '1', '-Infinity', now(), null, null, null, null),"                               // -Infinity
                    + "(1010, 'n', 'year 1', 'm', '1', 1, '0001-01-01 00:00:00+00', null, null, null, null),"                   // timestamp edges
                    + "(1011, 'n', 'year 9999', 'm', '1', 1, '9999-12-31 23:59:59.999999+00', null, null, null, null),"
                    + "(1012, 'n', 'json', 'm', '1', 1, now(), '{\"a\": [1, 2, {\"b\": null}], \"c\": \"ü\"}', '{x,\"y z\",NULL}', '\\xdeadbeef', 'reserved')"); // jsonb, arrays, bytea, reserved word
        }
        // Kafka secrets ride along: every client resolves them, and on this PLAINTEXT broker they are unused, so the
        // run shows they never reach the output (ProductionConnectionsIT checks the same on a SASL_SSL broker).
        java.nio.file.Path kafkaSecret = Files.createTempFile("bad-input-kafka", ".pw");
        Files.writeString(kafkaSecret, PASSWORD);
        String spec = """
                name: bad-input
                source: {jdbcUrl: "%s", user: app, passwordEnv: BAD_INPUT_PW}
                kafka:
                  bootstrapServers: "%s"
                  partitions: 2
                  properties:
                    sasl.mechanism: SCRAM-SHA-512
                    sasl.username: app
                    sasl.password: {file: "%3$s"}
                    ssl.truststore.password: {file: "%3$s"}
                snapshot: {chunkSize: 200}
                tables:
                  - source: public.things
                    target: public.things_v2
                    columns: {id: id, big: big, label: label, must: must, num: "to_numeric(num, 2)", f: f, ts: ts, doc: doc, tags: tags, bin: bin, Order: Order}
                """.formatted(url, infra.kafkaBootstrapServers(), kafkaSecret);
        PipelineSpec s = SpecLoader.parse(spec, "bad-input.yaml");
        s = s.withConnections(ConnectionSpec.of(url, "app", Secret.of(PASSWORD, "test")), null);
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.err;
        PrintStream originalOut = System.out;
        PrintStream tee = new PrintStream(new TeeStream(captured, original), true, StandardCharsets.UTF_8);
        System.setErr(tee);
        System.setOut(tee);
        try {
            MigrationPlan plan = MigrationPlan.connect(s, "bad-input.yaml");
            java.nio.file.Path state = Files.createTempDirectory("bad");
            try (Pipeline p = new Pipeline(plan, state, SinkConfig.from(s.sink()))) {
                p.start();
                await().atMost(Duration.ofMinutes(2)).until(() -> p.producer().snapshotDone() || p.failure() != null);
                CatchUp.await(s, true, Duration.ofMinutes(1), () -> p.failure() == null);
                // a schema change while streaming: a column the spec reads is dropped
                try (Connection c = infra.connect("bad"); Statement st = c.createStatement()) {
                    st.execute("ALTER TABLE things DROP COLUMN \"Order\"");
                    st.execute("UPDATE things SET label = 'after drop' WHERE id = 1");
                }
                CatchUp.await(s, true, Duration.ofMinutes(1), () -> p.failure() == null);
                // bad credentials fail with a message that does not echo them
                PipelineSpec wrong = s.withConnections(ConnectionSpec.of(url.replace("localhost", "127.0.0.1:1"), "app", Secret.of(PASSWORD, "test")), null);
                try {
                    wrong.source().open();
                } catch (java.sql.SQLException e) {
                    System.err.println("expected failure: " + e.getMessage());
                }
            }
            // what an operator prints afterwards, with the password read from a file
            java.nio.file.Path pw = Files.writeString(state.resolve("pw"), PASSWORD);
            java.nio.file.Path file = Files.writeString(state.resolve("bad-input.yaml"),
                    spec.replace("passwordEnv: BAD_INPUT_PW", "passwordFile: \"" + pw + "\""));
            assertThat(CliRun.of("status", file.toString(), "--state-dir", state.toString()).output()).contains("things");
            assertThat(CliRun.of("verify", file.toString()).output()).contains("things");
            assertThat(CliRun.of("dlq", "show", file.toString()).output()).contains("numeric overflow");
            assertThat(CliRun.of("preflight", file.toString().replace("bad-input", "missing")).exitCode()).isNotZero();
        } finally {
            System.setErr(original);
            System.setOut(originalOut);
        }
        Map<String, String> reasons = new HashMap<>();
        new DeadLetterTopic(s).forEach(l -> reasons.put(new String(l.key(), StandardCharsets.UTF_8), l.reason() + ": " + l.message()));
        assertThat(reasons).containsOnlyKeys("{\"id\":1005}", "{\"id\":1006}", "{\"id\":1007}", "{\"id\":1}");
        assertThat(reasons.get("{\"id\":1005}")).startsWith("NULL into NOT NULL");
        assertThat(reasons.get("{\"id\":1006}")).startsWith("numeric overflow");
        assertThat(reasons.get("{\"id\":1007}")).startsWith("cast failure");
        assertThat(reasons.get("{\"id\":1}")).startsWith("source schema changed").contains("Order");
        try (Connection c = infra.connect("bad"); Statement st = c.createStatement()) {
            ResultSet rs = st.executeQuery("SELECT count(*) FROM things_v2");
            rs.next();
            // Row 1's update after the drop is a dead letter, so its older version is withdrawn from the target.
            assertThat(rs.getLong(1)).as("300 neighbours + 9 awkward rows that must arrive, minus row 1 (in the DLQ)").isEqualTo(308);
            assertThat(st.executeQuery("SELECT 1 FROM things_v2 WHERE id = 1").next()).as("a row whose latest change is a dead letter").isFalse();
            rs = st.executeQuery("SELECT count(*) FROM things s JOIN things_v2 t USING (id) WHERE s.id > 1000 AND "
                    + "s.big IS NOT DISTINCT FROM t.big AND s.label IS NOT DISTINCT FROM t.label AND s.f IS NOT DISTINCT FROM t.f AND "
                    + "s.ts IS NOT DISTINCT FROM t.ts AND s.doc IS NOT DISTINCT FROM t.doc AND s.tags IS NOT DISTINCT FROM t.tags AND s.bin IS NOT DISTINCT FROM t.bin");
            rs.next();
            assertThat(rs.getLong(1)).as("awkward rows arrive unchanged").isEqualTo(9);
            rs = st.executeQuery("SELECT label = '' AND big = '' FROM things_v2 WHERE id = 1003");
            rs.next();
            assertThat(rs.getBoolean(1)).as("empty strings stay empty, not NULL").isTrue();
            rs = st.executeQuery("SELECT label IS NULL FROM things_v2 WHERE id = 1004");
            rs.next();
            assertThat(rs.getBoolean(1)).isTrue();
            rs = st.executeQuery("SELECT \"Order\" FROM things_v2 WHERE id = 1012");
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("reserved");
        }
        String everything = captured.toString(StandardCharsets.UTF_8);
        assertThat(everything).contains("expected failure").doesNotContain(PASSWORD);
        assertThat(reasons.values()).noneMatch(v -> v.contains(PASSWORD));
    }

    @Test
    void aTableWithoutAKeyIsRefusedAtStartUnlessAKeyIsDeclared() throws Exception {
        String url = infra.jdbcUrl("nokey");
        try (Connection c = infra.connect("nokey"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE logs (at timestamptz, msg text)");
            st.execute("CREATE TABLE logs_v2 (at timestamptz PRIMARY KEY, msg text)");
        }
        PipelineSpec s = SpecLoader.parse("""
                name: nokey
                source: {jdbcUrl: "%s", user: postgres}
                tables:
                  - source: public.logs
                    target: public.logs_v2
                    columns: {at: at, msg: msg}
                """.formatted(url), "nokey.yaml");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> MigrationPlan.connect(s, "nokey.yaml"))
                .isInstanceOf(SpecException.class).hasMessageContaining("nokey.yaml:4:13").hasMessageContaining("has no primary key");
    }

    @Test
    void twoSourceRowsMappingToOneTargetKeyAreReportedAndNeitherIsLost() throws Exception {
        String url = infra.jdbcUrl("dupkeys");
        try (Connection c = infra.connect("dupkeys"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE codes (code text PRIMARY KEY, v text)");
            st.execute("CREATE TABLE codes_v2 (code text PRIMARY KEY, v text)");
            st.execute("INSERT INTO codes SELECT 'n' || g, 'neighbour ' || g FROM generate_series(1, 200) g");
            st.execute("INSERT INTO codes VALUES ('A1', 'upper A1'), ('a1', 'lower a1')"); // meet in 'a1' in the snapshot
        }
        PipelineSpec s = SpecLoader.parse("""
                name: dupkeys
                source: {jdbcUrl: "%s", user: postgres}
                kafka: {bootstrapServers: "%s", partitions: 2}
                tables:
                  - source: public.codes
                    target: public.codes_v2
                    columns: {code: lower(code), v: v}
                """.formatted(url, infra.kafkaBootstrapServers()), "dupkeys.yaml");
        s = s.withConnections(ConnectionSpec.of(url, infra.user(), Secret.of(infra.password(), "test")), null);
        MigrationPlan plan = MigrationPlan.connect(s, "dupkeys.yaml");
        assertThat(plan.tables().get(0).tracksSourceKey()).isTrue();
        try (Pipeline p = new Pipeline(plan, Files.createTempDirectory("dup"), SinkConfig.from(s.sink()))) {
            p.start();
            await().atMost(Duration.ofMinutes(2)).until(() -> p.producer().snapshotDone() || p.failure() != null);
            CatchUp.await(s, true, Duration.ofMinutes(1), () -> p.failure() == null);
            try (Connection c = infra.connect("dupkeys"); Statement st = c.createStatement()) {
                st.execute("INSERT INTO codes VALUES ('b2', 'lower b2')");
                st.execute("INSERT INTO codes VALUES ('B2', 'upper B2')"); // streamed, later: B2 is the duplicate
                st.execute("UPDATE codes SET v = 'lower b2, updated' WHERE code = 'b2'");
                st.execute("UPDATE codes SET v = 'upper B2, updated' WHERE code = 'B2'"); // must not overwrite b2's row
                st.execute("UPDATE codes SET v = 'neighbour, updated' WHERE code = 'n7'");
            }
            CatchUp.await(s, true, Duration.ofMinutes(1), () -> p.failure() == null);
            try (Connection c = infra.connect("dupkeys"); Statement st = c.createStatement()) {
                st.execute("DELETE FROM codes WHERE code = 'B2'"); // must not delete b2's row
            }
            CatchUp.await(s, true, Duration.ofMinutes(1), () -> p.failure() == null);
            assertThat(p.failure()).isNull();
        }
        List<String> duplicates = new java.util.ArrayList<>();
        new DeadLetterTopic(s).forEach(l -> {
            assertThat(l.reason()).isEqualTo("duplicate target key");
            assertThat(l.message()).contains("already holds");
            duplicates.add(EventCodec.decodeRow(l.value()).sourceKey() + " " + l.message());
        });
        try (Connection c = infra.connect("dupkeys"); Statement st = c.createStatement()) {
            ResultSet rs = st.executeQuery("SELECT count(*) FROM codes s JOIN codes_v2 t USING (code) WHERE s.v = t.v");
            rs.next();
            assertThat(rs.getLong(1)).as("every neighbour arrives unchanged, and b2").isEqualTo(201);
            rs = st.executeQuery("SELECT v, _pgbackfill_source_key FROM codes_v2 WHERE code = 'a1'");
            rs.next();
            // the snapshot read both rows at one LSN: either may hold 'a1', the other is reported, never merged
            String holder = rs.getString(2);
            String other = holder.contains("A1") ? "{\"code\":\"a1\"}" : "{\"code\":\"A1\"}";
            assertThat(rs.getString(1)).isEqualTo(holder.contains("A1") ? "upper A1" : "lower a1");
            assertThat(duplicates).anyMatch(d -> d.startsWith(other + " ") && d.contains(holder + " already holds"));
            assertThat(duplicates).anyMatch(d -> d.startsWith("{\"code\":\"B2\"} ") && d.contains("{\"code\":\"b2\"} already holds"));
            assertThat(duplicates).allMatch(d -> d.startsWith(other + " ") || d.startsWith("{\"code\":\"B2\"} "));
            rs = st.executeQuery("SELECT count(*) FROM codes_v2");
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(202);
        }
    }

    /** Copies everything written to two streams. */
    static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream a;
        private final java.io.OutputStream b;

        TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public synchronized void write(int x) throws java.io.IOException {
            a.write(x);
            b.write(x);
        }

        @Override
        public synchronized void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
