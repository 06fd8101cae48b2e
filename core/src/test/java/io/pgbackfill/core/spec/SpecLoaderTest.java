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
}
