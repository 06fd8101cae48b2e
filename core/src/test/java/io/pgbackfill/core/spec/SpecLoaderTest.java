package io.pgbackfill.core.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every class of spec error fails at load with the file, line and column, and a message a data engineer understands. */
class SpecLoaderTest {

    static SpecException.Problem problem(String yaml) {
        try {
            SpecLoader.parse(yaml, "m.yaml");
        } catch (SpecException e) {
            return e.problems().get(0);
        }
        throw new AssertionError("spec was accepted:\n" + yaml);
    }

    static final String OK = """
            name: users-split
            source:
              jdbcUrl: jdbc:postgresql://h/db
              passwordEnv: PW
            tables:
              - source: public.users
                target: public.users_v2
                columns:
                  id: id
            """;

    @Test
    void aValidSpecLoadsWithDefaultsAndNamesDerivedFromItsName() {
        PipelineSpec s = SpecLoader.parse(OK, "m.yaml");
        assertThat(s.slotName()).isEqualTo("pgbackfill_users_split");
        assertThat(s.kafka().partitions()).isEqualTo(4);
        assertThat(s.sink().batchSize()).isEqualTo(5000);
        assertThat(s.rawTopic(s.tables().get(0))).isEqualTo("pgbackfill.users-split.raw.public.users");
        assertThat(s.sameDatabase()).isTrue();
        assertThat(s.tables().get(0).columns().get("id").at()).isEqualTo("9:11");
    }

    @Test
    void yamlSyntaxErrorNamesLineAndColumn() {
        SpecException.Problem p = problem("name: x\nsource: {jdbcUrl: a\ntables: []\n");
        assertThat(p.file()).isEqualTo("m.yaml");
        assertThat(p.line()).isEqualTo(3);
        assertThat(p.message()).startsWith("YAML syntax error");
    }

    @Test
    void unknownKeyIsNamedWithItsPlace() {
        SpecException.Problem p = problem(OK.replace("    columns:", "    colums:"));
        assertThat(p.line()).isEqualTo(8);
        assertThat(p.column()).isEqualTo(5);
        assertThat(p.message()).contains("unknown key 'colums'").contains("tables[0]");
    }

    @Test
    void missingRequiredKey() {
        SpecException.Problem p = problem(OK.replace("    target: public.users_v2\n", ""));
        assertThat(p.message()).contains("missing required key 'target'");
        assertThat(p.line()).isPositive();
    }

    @Test
    void maliciousTableNameIsRefused() {
        SpecException.Problem p = problem(OK.replace("source: public.users", "source: \"users; DROP TABLE x\""));
        assertThat(p.line()).isEqualTo(6);
        assertThat(p.column()).isEqualTo(13);
        assertThat(p.message()).contains("is not a valid SQL identifier");
    }

    @Test
    void invalidTargetColumnAndPipelineNames() {
        assertThat(problem(OK.replace("      id: id", "      \"id x\": id")).message()).contains("not a valid SQL identifier");
        assertThat(problem(OK.replace("name: users-split", "name: Users Split!")).message()).contains("must be 1-40 characters");
    }

    @Test
    void badValuesInRecordsAreReportedAtTheirPlace() {
        SpecException.Problem p = problem(OK + "sink: {batchSize: 0}\n");
        assertThat(p.message()).contains("sink.batchSize must be at least 1");
        assertThat(p.line()).isEqualTo(10);
    }

    @Test
    void secretsComeFromEnvOrFileAndNeverPrint() {
        ConnectionSpec c = SpecLoader.parse(OK, "m.yaml").source();
        assertThat(io.pgbackfill.core.Secret.resolve(c.passwordEnv(), null, Map.of("PW", "hunter2")::get).toString()).doesNotContain("hunter2");
        assertThatThrownBy(() -> io.pgbackfill.core.Secret.resolve("NOPE_NOT_SET_X", null, k -> null)).hasMessageContaining("NOPE_NOT_SET_X");
        assertThat(io.pgbackfill.core.Redaction.redact("jdbc:postgresql://u:hunter2@h/db?password=hunter2")).doesNotContain("hunter2");
    }

    @Test
    void environmentOverridesConnectionsButNeverPasswords() {
        PipelineSpec s = SpecOverrides.apply(SpecLoader.parse(OK, "m.yaml"),
                Map.of(SpecOverrides.SOURCE_URL, "jdbc:postgresql://other/db", SpecOverrides.KAFKA_BOOTSTRAP, "k:9092"));
        assertThat(s.source().jdbcUrl()).isEqualTo("jdbc:postgresql://other/db");
        assertThat(s.source().passwordEnv()).isEqualTo("PW");
        assertThat(s.kafka().bootstrapServers()).isEqualTo("k:9092");
    }

    @Test
    void aPasswordWrittenInTheSpecIsRefusedWithItsPlaceAndTheFix() {
        SpecException.Problem p = problem(OK.replace("  passwordEnv: PW\n", "  password: hunter2\n"));
        assertThat(p.line()).isEqualTo(4);
        assertThat(p.column()).isEqualTo(3);
        assertThat(p.message()).contains("source.password").contains("passwordEnv").contains("passwordFile").doesNotContain("hunter2");
        SpecException.Problem t = problem(OK.replace("tables:", "target: {jdbcUrl: \"jdbc:postgresql://t/db\", password: x}\ntables:"));
        assertThat(t.line()).isEqualTo(5);
        assertThat(t.message()).contains("target.password");
    }

    @Test
    void aPasswordInTheJdbcUrlIsRefused() {
        SpecException.Problem p = problem(OK.replace("jdbc:postgresql://h/db", "jdbc:postgresql://h/db?user=u&password=hunter2"));
        assertThat(p.line()).isEqualTo(3);
        assertThat(p.message()).contains("source.jdbcUrl carries 'password='").contains("passwordEnv").doesNotContain("hunter2");
    }

    @Test
    void jdbcUrlsAreReadByPgjdbcWithIpv6HostsAndTlsParameters() {
        PipelineSpec s = SpecLoader.parse(OK.replace("jdbc:postgresql://h/db", "\"jdbc:postgresql://[::1]:5433/app?sslmode=verify-ca&sslrootcert=/etc/ca.pem\""), "m.yaml");
        ConnectionSpec.JdbcUrl u = s.source().parsedUrl();
        assertThat(u.host()).isEqualTo("[::1]");
        assertThat(u.port()).isEqualTo(5433);
        assertThat(u.database()).isEqualTo("app");
        assertThat(u.parameters()).containsEntry("sslmode", "verify-ca").containsEntry("sslrootcert", "/etc/ca.pem");
        assertThat(problem(OK.replace("jdbc:postgresql://h/db", "\"jdbc:postgresql://[::1]:5433/app?sslmode=verify-full\"")).message())
                .contains("verify-full cannot check an IPv6 address").contains("verify-ca");
        assertThatThrownBy(() -> ConnectionSpec.JdbcUrl.parse("jdbc:postgresql://h:port/db")).hasMessageContaining("not a valid PostgreSQL JDBC URL");
    }

    @Test
    void aMultiHostSourceIsRefusedButAMultiHostTargetIsNot() {
        SpecException.Problem p = problem(OK.replace("jdbc:postgresql://h/db", "jdbc:postgresql://h1,h2/db?targetServerType=primary"));
        assertThat(p.line()).isEqualTo(3);
        assertThat(p.message()).contains("several hosts").contains("replication");
        PipelineSpec s = SpecLoader.parse(OK.replace("tables:", "target: {jdbcUrl: \"jdbc:postgresql://t1,t2:5433/db\"}\ntables:"), "m.yaml");
        assertThat(s.target().parsedUrl().hosts()).containsExactly("t1", "t2");
    }

    static final String KAFKA = OK + """
            kafka:
              bootstrapServers: broker:9096
              properties:
                security.protocol: SASL_SSL
                sasl.mechanism: SCRAM-SHA-512
                sasl.username: pgbackfill
                sasl.password: {env: KAFKA_PASSWORD}
                ssl.truststore.location: /etc/kafka/truststore.p12
                ssl.truststore.password: {file: /run/secrets/truststore-password}
                client.dns.lookup: use_all_dns_ips
            """;

    @Test
    void kafkaClientPropertiesReachTheClientConfigWithSecretsResolvedAtTheLastMoment() throws Exception {
        java.nio.file.Path pw = java.nio.file.Files.createTempFile("ts", ".txt");
        java.nio.file.Files.writeString(pw, "store-secret\n");
        PipelineSpec s = SpecLoader.parse(KAFKA.replace("/run/secrets/truststore-password", pw.toString()), "m.yaml");
        assertThat(s.kafka().properties().toString()).doesNotContain("store-secret");
        var p = io.pgbackfill.core.kafka.KafkaClientConfig.of(s.kafka(), "c1", Map.of("KAFKA_PASSWORD", "p\"w")::get);
        assertThat(p).containsEntry("bootstrap.servers", "broker:9096").containsEntry("client.id", "c1")
                .containsEntry("security.protocol", "SASL_SSL").containsEntry("ssl.truststore.password", "store-secret")
                .containsEntry("client.dns.lookup", "use_all_dns_ips")
                .containsEntry("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"pgbackfill\" password=\"p\\\"w\";")
                .doesNotContainKeys("sasl.username", "sasl.password");
        java.nio.file.Files.delete(pw);
    }

    @Test
    void aMisspeltKafkaPropertyIsRefusedAtItsLine() {
        SpecException.Problem p = problem(KAFKA.replace("sasl.mechanism:", "sasl.mechansim:"));
        assertThat(p.line()).isEqualTo(14);
        assertThat(p.message()).contains("unknown Kafka client property 'sasl.mechansim'").contains("did you mean 'sasl.mechanism'");
        assertThat(problem(KAFKA.replace("client.dns.lookup: use_all_dns_ips", "bootstrap.servers: x:1")).message()).contains("set by pgbackfill");
        assertThat(problem(KAFKA.replace("security.protocol: SASL_SSL", "security.protocol: SASL_TLS")).message()).contains("security.protocol");
    }

    @Test
    void aKafkaSecretWrittenInTheSpecIsRefused() {
        SpecException.Problem p = problem(KAFKA.replace("{env: KAFKA_PASSWORD}", "hunter2"));
        assertThat(p.line()).isEqualTo(16);
        assertThat(p.message()).contains("sasl.password is a secret").contains("{env: VARIABLE}").doesNotContain("hunter2");
        assertThat(problem(KAFKA.replace("{file: /run/secrets/truststore-password}", "changeit")).message()).contains("ssl.truststore.password is a secret");
        assertThat(problem(KAFKA.replace("    sasl.username: pgbackfill\n", "")).message()).contains("both sasl.username and sasl.password");
        assertThat(problem(KAFKA.replace("{env: KAFKA_PASSWORD}", "{envv: X}")).message()).contains("{env: VARIABLE} or {file: PATH}");
    }
}
