package io.pgbackfill.ops.connections;

import io.pgbackfill.ops.UsersSplitSpec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.embedded.CertificateAuthority;
import io.pgbackfill.embedded.EmbeddedKafkaBroker;
import io.pgbackfill.embedded.EmbeddedPostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Production connections on real servers: a PostgreSQL with {@code ssl=on} and a certificate from a CA this test
 * makes, reached with {@code sslmode=verify-full}; a Kafka broker whose only client listener is SASL_SSL with
 * SCRAM-SHA-512, reached with a PKCS12 trust store. Every secret (Kafka password, trust store password, database
 * password) comes from the environment of a {@code backfill} child process, as an operator would give it; none
 * appears in anything any command printed.
 */
class ProductionConnectionsIT {
    static final String KAFKA_PASSWORD = "Kafka-Scram-Secret-qwerty42";
    static final String STORE_PASSWORD = "Trust-Store-Secret-asdfgh17";
    static final String PG_PASSWORD = "Pg-Secret-zxcvbn99";
    static CertificateAuthority ca;
    static CertificateAuthority otherCa;
    static EmbeddedPostgresServer pg;
    static EmbeddedKafkaBroker kafka;
    static Path dir;
    static Path trustStore;

    @BeforeAll
    static void up() throws Exception {
        ca = CertificateAuthority.create("good");
        otherCa = CertificateAuthority.create("other");
        trustStore = ca.trustStore(STORE_PASSWORD);
        pg = EmbeddedPostgresServer.startWithTls(ca);
        kafka = EmbeddedKafkaBroker.startSaslSsl(ca, "pgbackfill", KAFKA_PASSWORD);
        dir = Files.createTempDirectory("pgbackfill-secure");
        pg.createDatabase("secure");
        try (Connection c = pg.connect("secure"); Statement st = c.createStatement()) {
            ResultSet v = st.executeQuery("SELECT version()");
            v.next();
            System.out.println("[production-connections] " + v.getString(1));
            st.execute("CREATE TABLE users (id bigint PRIMARY KEY, name text, email text, created_at timestamptz DEFAULT now())");
            st.execute("CREATE TABLE users_v2 (id bigint PRIMARY KEY, first_name text, last_name text, email text NOT NULL, created_at timestamptz)");
            st.execute("INSERT INTO users SELECT g, CASE WHEN g % 10 = 0 THEN 'Single' || g ELSE 'First' || g || ' Last Name ' || g END, "
                    + "'User' || g || '@Example.COM', now() - g * interval '1 minute' FROM generate_series(1, 2000) g");
            st.execute("INSERT INTO users (id, name, email) VALUES (5000, 'No Mail', NULL)"); // NOT NULL in the target: a dead letter
        }
    }

    @AfterAll
    static void down() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
        if (pg != null) {
            pg.close();
        }
        for (CertificateAuthority c : new CertificateAuthority[] {ca, otherCa}) {
            if (c != null) {
                c.delete();
            }
        }
        if (dir != null) {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static String spec(Path rootCert, String passwordRefs) {
        return """
                name: secure
                source:
                  jdbcUrl: "jdbc:postgresql://localhost:%d/secure?sslmode=verify-full&sslrootcert=%s"
                  user: postgres
                  passwordEnv: PGBACKFILL_SOURCE_PASSWORD
                kafka:
                  bootstrapServers: "%s"
                  partitions: 2
                  properties:
                    security.protocol: SASL_SSL
                    sasl.mechanism: SCRAM-SHA-512
                    sasl.username: pgbackfill
                    sasl.password: %s
                    ssl.truststore.type: PKCS12
                    ssl.truststore.location: "%s"
                    ssl.truststore.password: %s
                %s""".formatted(pg.port(), rootCert, kafka.bootstrapServers(), passwordRefs.split(";")[0], trustStore, passwordRefs.split(";")[1], UsersSplitSpec.tables("users"));
    }

    static final String ENV_REFS = "{env: PGBACKFILL_KAFKA_PASSWORD};{env: PGBACKFILL_TRUSTSTORE_PASSWORD}";

    static Map<String, String> env(String kafkaPassword) {
        Map<String, String> e = new HashMap<>();
        e.put("PGBACKFILL_SOURCE_PASSWORD", PG_PASSWORD);
        e.put("PGBACKFILL_KAFKA_PASSWORD", kafkaPassword);
        e.put("PGBACKFILL_TRUSTSTORE_PASSWORD", STORE_PASSWORD);
        return e;
    }

    /** Rows of the target that differ from the transform of the source, both ways (the dead letter excluded). */
    static long differences() throws Exception {
        String expected = "SELECT id, CASE WHEN position(' ' in name) > 0 THEN substr(name, 1, position(' ' in name) - 1) ELSE name END, "
                + "CASE WHEN position(' ' in name) > 0 THEN substr(name, position(' ' in name) + 1) END, lower(email), created_at FROM users WHERE email IS NOT NULL";
        String actual = "SELECT id, first_name, last_name, email, created_at FROM users_v2";
        try (Connection c = pg.connect("secure"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT (SELECT count(*) FROM (" + expected + " EXCEPT " + actual + ") a) + (SELECT count(*) FROM ("
                     + actual + " EXCEPT " + expected + ") b)")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static long count(String sql) throws Exception {
        try (Connection c = pg.connect("secure"); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void thePipelineRunsEndToEndOverTlsAndSaslAndTheOperatorCommandsWorkAgainstThem() throws Exception {
        Path specFile = Files.writeString(dir.resolve("secure.yaml"), spec(ca.caCertificate(), ENV_REFS));
        Path state = dir.resolve("state");
        List<String> outputs = new ArrayList<>();
        ChildCli up = ChildCli.start(dir, "up", env(KAFKA_PASSWORD), "up", specFile.toString(), "--state-dir", state.toString());
        try {
            await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(500)).until(() -> {
                assertThat(up.process().isAlive()).as("up is running:\n%s", up.output()).isTrue();
                return count("SELECT count(*) FROM users_v2") == 2000 && differences() == 0;
            });
            // Debezium's replication connection is one of the TLS ones too (the server would also take plain connections).
            assertThat(count("SELECT count(*) FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE s.ssl")).isEqualTo(1);
            assertThat(count("SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'pgbackfill' AND NOT s.ssl")).isZero();
            // streamed changes, through the TLS replication connection and the SASL_SSL broker
            try (Connection c = pg.connect("secure"); Statement st = c.createStatement()) {
                st.execute("UPDATE users SET name = 'Changed Person', email = 'CHANGED@X.COM' WHERE id % 7 = 0");
                st.execute("DELETE FROM users WHERE id % 11 = 0");
                st.execute("INSERT INTO users SELECT g, 'New ' || g, 'n' || g || '@X.COM', now() FROM generate_series(3001, 3100) g");
            }
            long expectedRows = count("SELECT count(*) FROM users WHERE email IS NOT NULL");
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).until(() -> {
                assertThat(up.process().isAlive()).as("up is running:\n%s", up.output()).isTrue();
                return count("SELECT count(*) FROM users_v2") == expectedRows && differences() == 0;
            });
        } finally {
            up.stop();
            outputs.add(up.output());
        }
        assertThat(differences()).isZero();

        ChildCli.Finished status = ChildCli.run(dir, "status", env(KAFKA_PASSWORD), "status", specFile.toString(), "--state-dir", state.toString());
        outputs.add(status.output());
        assertThat(status.exitCode()).as(status.output()).isZero();
        assertThat(status.output()).contains("sink");
        ChildCli.Finished verify = ChildCli.run(dir, "verify", env(KAFKA_PASSWORD), "verify", specFile.toString());
        outputs.add(verify.output());
        assertThat(verify.exitCode()).as(verify.output()).isZero();
        assertThat(verify.output()).contains("0 differing");
        ChildCli.Finished dlq = ChildCli.run(dir, "dlq", env(KAFKA_PASSWORD), "dlq", "show", specFile.toString());
        outputs.add(dlq.output());
        assertThat(dlq.exitCode()).as(dlq.output()).isZero();
        assertThat(dlq.output()).contains("NULL into NOT NULL").contains("5000");

        // ops/scripts/consumer-groups.sh: `spec kafka-config` writes the client properties for Kafka's own tool
        Path clientProperties = dir.resolve("client.properties");
        ChildCli.Finished config = ChildCli.run(dir, "kafka-config", env(KAFKA_PASSWORD), "spec", "kafka-config", specFile.toString(),
                "--output", clientProperties.toString());
        outputs.add(config.output());
        assertThat(config.exitCode()).as(config.output()).isZero();
        assertThat(Files.getPosixFilePermissions(clientProperties)).containsExactlyInAnyOrder(
                java.nio.file.attribute.PosixFilePermission.OWNER_READ, java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        ChildCli.Finished groups = ChildCli.finish("consumer-groups", ChildCli.startMain(dir, "consumer-groups", Map.of(),
                "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", "--bootstrap-server", kafka.bootstrapServers(),
                "--command-config", clientProperties.toString(), "--describe", "--group", "pgbackfill-secure-sink"));
        outputs.add(groups.output());
        assertThat(groups.exitCode()).as(groups.output()).isZero();
        assertThat(groups.output()).contains("pgbackfill.secure.rows.public.users_v2");
        Files.delete(clientProperties);

        // teardown --kafka removes the topics: seen by a SASL_SSL admin built in this JVM from the same spec, secrets from files
        Path kafkaPw = Files.writeString(dir.resolve("kafka-pw"), KAFKA_PASSWORD);
        Path storePw = Files.writeString(dir.resolve("store-pw"), STORE_PASSWORD);
        PipelineSpec inProcess = SpecLoader.parse(spec(ca.caCertificate(), "{file: \"" + kafkaPw + "\"};{file: \"" + storePw + "\"}"), "secure.yaml");
        String rawTopic = inProcess.rawTopic(inProcess.tables().get(0));
        try (Admin admin = KafkaTopics.admin(inProcess.kafka())) {
            assertThat(admin.listTopics().names().get()).contains(rawTopic);
        }
        ChildCli.Finished teardown = ChildCli.run(dir, "teardown", env(KAFKA_PASSWORD), "teardown", specFile.toString(), "--kafka", "--state-dir", state.toString());
        outputs.add(teardown.output());
        assertThat(teardown.exitCode()).as(teardown.output()).isZero();
        try (Admin admin = KafkaTopics.admin(inProcess.kafka())) {
            assertThat(admin.listTopics().names().get()).doesNotContain(rawTopic);
        }
        assertThat(count("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgbackfill_secure'")).isZero();

        for (String out : outputs) {
            assertThat(out).doesNotContain(KAFKA_PASSWORD).doesNotContain(STORE_PASSWORD).doesNotContain(PG_PASSWORD);
        }
    }

    @Test
    void aWrongKafkaPasswordFailsAtStartWithExit2AndOneClearLine() throws Exception {
        Path specFile = Files.writeString(dir.resolve("wrong-password.yaml"), spec(ca.caCertificate(), ENV_REFS).replace("name: secure", "name: wrongpw"));
        ChildCli.Finished up = ChildCli.run(dir, "up-wrong-password", env("not-" + KAFKA_PASSWORD), "up", specFile.toString(),
                "--state-dir", dir.resolve("state-wrong-password").toString());
        assertThat(up.exitCode()).as(up.output()).isEqualTo(2);
        assertThat(up.output()).contains("backfill up: Kafka at " + kafka.bootstrapServers() + " (SASL_SSL SCRAM-SHA-512 as pgbackfill) refused the connection")
                .doesNotContain("\tat ").doesNotContain(KAFKA_PASSWORD).doesNotContain(STORE_PASSWORD);
        // status meets the same broker first thing
        ChildCli.Finished status = ChildCli.run(dir, "status-wrong-password", env("not-" + KAFKA_PASSWORD), "status", specFile.toString());
        assertThat(status.exitCode()).as(status.output()).isEqualTo(2);
        assertThat(status.output()).contains("refused the connection").doesNotContain("\tat ");
    }

    @Test
    void anIpv6HostIsReachedOverTlsAndVerifyFullOnOneIsRefusedWithTheReason() throws Exception {
        // pgjdbc reads the bracketed host and connects over IPv6; verify-ca checks the chain (pgjdbc cannot match an IPv6
        // literal with the certificate's names, so verify-full on one is refused at spec check).
        String ipv6 = spec(ca.caCertificate(), ENV_REFS).replace("name: secure", "name: ipv6").replace("jdbc:postgresql://localhost:", "jdbc:postgresql://[::1]:");
        Path refused = Files.writeString(dir.resolve("ipv6-full.yaml"), ipv6);
        ChildCli.Finished full = ChildCli.run(dir, "check-ipv6-full", env(KAFKA_PASSWORD), "spec", "check", refused.toString());
        assertThat(full.exitCode()).as(full.output()).isEqualTo(2);
        assertThat(full.output()).contains("ipv6-full.yaml:3:").contains("verify-full cannot check an IPv6 address");
        Path specFile = Files.writeString(dir.resolve("ipv6.yaml"), ipv6.replace("sslmode=verify-full", "sslmode=verify-ca"));
        ChildCli.Finished check = ChildCli.run(dir, "check-ipv6", env(KAFKA_PASSWORD), "spec", "check", specFile.toString());
        assertThat(check.exitCode()).as(check.output()).isZero();
        assertThat(check.output()).contains("spec OK");
    }

    @Test
    void specCheckRefusesAWrittenPasswordAndAnInlineKafkaSecretWithFileLineAndTheFix() throws Exception {
        Path specFile = Files.writeString(dir.resolve("written.yaml"), spec(ca.caCertificate(), "hunter2;{env: PGBACKFILL_TRUSTSTORE_PASSWORD}")
                .replace("  passwordEnv: PGBACKFILL_SOURCE_PASSWORD\n", "  password: hunter2\n"));
        ChildCli.Finished check = ChildCli.run(dir, "check-written", env(KAFKA_PASSWORD), "spec", "check", "--offline", specFile.toString());
        assertThat(check.exitCode()).as(check.output()).isEqualTo(2);
        assertThat(check.output()).contains("written.yaml:5:3: source.password: a password is never written in the spec")
                .contains("passwordEnv").doesNotContain("hunter2");
        specFile = Files.writeString(dir.resolve("written-kafka.yaml"), spec(ca.caCertificate(), "hunter2;{env: PGBACKFILL_TRUSTSTORE_PASSWORD}"));
        check = ChildCli.run(dir, "check-written-kafka", env(KAFKA_PASSWORD), "spec", "check", "--offline", specFile.toString());
        assertThat(check.exitCode()).as(check.output()).isEqualTo(2);
        assertThat(check.output()).contains("written-kafka.yaml:13:").contains("sasl.password is a secret").doesNotContain("hunter2");
    }

    @Test
    void aServerCertificateFromAnotherCaFailsAtStartWithExit2NamingTheConnection() throws Exception {
        Path specFile = Files.writeString(dir.resolve("wrong-ca.yaml"), spec(otherCa.caCertificate(), ENV_REFS).replace("name: secure", "name: wrongca"));
        ChildCli.Finished up = ChildCli.run(dir, "up-wrong-ca", env(KAFKA_PASSWORD), "up", specFile.toString(),
                "--state-dir", dir.resolve("state-wrong-ca").toString());
        assertThat(up.exitCode()).as(up.output()).isEqualTo(2);
        List<String> lines = up.output().lines().filter(l -> l.startsWith("backfill up:")).toList();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).contains("cannot connect to the source database at jdbc:postgresql://localhost:" + pg.port()).contains("SSL");
        assertThat(up.output()).doesNotContain("\tat ").doesNotContain(PG_PASSWORD);
    }
}
