package io.pgbackfill.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.embedded.EmbeddedInfrastructure;
import io.pgbackfill.embedded.InfrastructureExtension;
import io.pgbackfill.ops.cutover.Cutover;
import io.pgbackfill.ops.dlq.DeadLetterTopic;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.pipeline.Pipeline;
import io.pgbackfill.ops.preflight.Check;
import io.pgbackfill.ops.preflight.Preflight;
import io.pgbackfill.ops.verify.Verifier;
import io.pgbackfill.sink.SinkConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The operator library used directly, without the CLI: preflight, verify (clean, then a planted difference found
 * and repaired by the stream) and a same-database cutover, on one small in-process pipeline.
 */
@ExtendWith(InfrastructureExtension.class)
class OperatorLibraryIT {
    private static final int ROWS = 2000;

    @InfrastructureExtension.Started
    static EmbeddedInfrastructure infra;

    @Test
    void preflightVerifyAndCutoverWorkWithoutTheCli() throws Exception {
        try (Connection c = infra.connect("library"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE users (id bigint PRIMARY KEY, name text, email text)");
            st.execute("INSERT INTO users SELECT g, 'First' || g || ' Last' || g, 'User' || g || '@Example.COM' FROM generate_series(1, " + ROWS + ") g");
            st.execute("CREATE TABLE users_v2 (id bigint PRIMARY KEY, first_name text, last_name text, email text)");
        }
        PipelineSpec spec = SpecLoader.parse("""
                name: library
                source: {jdbcUrl: "%s", user: postgres}
                kafka: {bootstrapServers: "%s", partitions: 2}
                cutover: {lockTimeoutMs: 1000}
                tables:
                  - source: public.users
                    target: public.users_v2
                    columns:
                      id: id
                      first_name: before(name, ' ')
                      last_name: after(name, ' ')
                      email: lower(email)
                """.formatted(infra.jdbcUrl("library"), infra.kafkaBootstrapServers()), "library.yaml");

        List<Check> checks = new Preflight(spec, "library.yaml").run();
        assertThat(Preflight.passed(checks)).as("preflight: %s", checks).isTrue();
        assertThat(checks).extracting(Check::name).contains("wal_level");

        MigrationPlan plan = MigrationPlan.connect(spec, "library.yaml");
        Path state = Files.createTempDirectory("library");
        try (Pipeline pipeline = new Pipeline(plan, state, SinkConfig.from(spec.sink()))) {
            pipeline.start();
            await().atMost(Duration.ofMinutes(2)).until(() -> pipeline.producer().snapshotDone() || pipeline.failure() != null);
            assertThat(pipeline.failure()).isNull();
            CatchUp.await(spec, true, Duration.ofMinutes(2), () -> pipeline.failure() == null);

            Verifier verifier = new Verifier(plan, 500, 0, s -> { });
            long verifiedAt = CatchUp.fence(spec);
            List<Verifier.Report> clean = verifier.verify();
            assertThat(clean).singleElement().satisfies(r -> {
                assertThat(r.clean()).as("%s", r).isTrue();
                assertThat(r.sourceRows()).isEqualTo(ROWS);
            });

            try (Connection c = infra.connect("library"); Statement st = c.createStatement()) {
                assertThat(st.executeUpdate("UPDATE users_v2 SET last_name = 'Tampered' WHERE id = 77")).isOne();
            }
            List<Verifier.Report> tampered = verifier.verify();
            assertThat(tampered.get(0).mismatches()).singleElement().satisfies(m -> assertThat(m.toString()).contains("id=77").contains("different"));
            try (Connection c = infra.connect("library"); Statement st = c.createStatement()) {
                st.execute("UPDATE users SET email = email WHERE id = 77"); // the source sends the row again
            }
            CatchUp.await(spec, false, Duration.ofMinutes(2), () -> pipeline.failure() == null);
            assertThat(verifier.verify().get(0).clean()).isTrue();

            ByteArrayOutputStream log = new ByteArrayOutputStream();
            Cutover.Outcome outcome = new Cutover(plan, new PrintStream(log, true, StandardCharsets.UTF_8), Duration.ofSeconds(60), null, Duration.ZERO)
                    .run(verifiedAt, new DeadLetterTopic(spec).outstanding(), false);
            assertThat(outcome.done()).as(log.toString(StandardCharsets.UTF_8)).isTrue();
        }
        try (Connection c = infra.connect("library"); Statement st = c.createStatement()) {
            // After the swap, users is the new shape and users_old the source: equal to its transform, row for row.
            try (ResultSet rs = st.executeQuery("""
                    SELECT count(*) FROM (
                      (SELECT id, split_part(name, ' ', 1) AS first_name, substr(name, position(' ' in name) + 1) AS last_name, lower(email) AS email FROM users_old
                       EXCEPT SELECT id, first_name, last_name, email FROM users)
                      UNION ALL
                      (SELECT id, first_name, last_name, email FROM users
                       EXCEPT SELECT id, split_part(name, ' ', 1), substr(name, position(' ' in name) + 1), lower(email) FROM users_old)) d""")) {
                rs.next();
                assertThat(rs.getLong(1)).as("rows differing from the transform of the old table").isZero();
            }
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM users")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(ROWS);
            }
        }
    }
}
