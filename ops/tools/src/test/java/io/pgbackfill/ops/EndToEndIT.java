package io.pgbackfill.ops;

import io.pgbackfill.embedded.InfrastructureExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.embedded.Infrastructure;
import io.pgbackfill.ops.demo.DemoData;
import io.pgbackfill.ops.demo.DemoWriter;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.pipeline.Pipeline;
import io.pgbackfill.ops.verify.Verifier;
import io.pgbackfill.sink.SinkConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The walking skeleton on real PostgreSQL and Kafka: snapshot + live changes under a concurrent writer, row for row. */
@ExtendWith(InfrastructureExtension.class)
class EndToEndIT {
    @InfrastructureExtension.Started
    static Infrastructure infra;

    @Test
    void targetEqualsTheTransformOfTheSourceUnderAConcurrentWriter() throws Exception {
        PipelineSpec spec = TestPipelines.demoSpec(infra, "e2e", "snapshot: {chunkSize: 1000}\n");
        String db = TestPipelines.database(spec);
        try (Connection c = infra.connect(db)) {
            DemoData.createTables(c);
            DemoData.seed(c, 5000);
        }
        MigrationPlan plan = MigrationPlan.connect(spec, "users-split.yaml");
        Path state = Files.createTempDirectory("e2e");
        long rekeyed;
        try (Pipeline pipeline = new Pipeline(plan, state, SinkConfig.from(spec.sink()));
             DemoWriter writer = new DemoWriter(() -> connect(db), 200, 7)) {
            pipeline.start();
            writer.start();
            await().atMost(Duration.ofMinutes(2)).until(() -> pipeline.producer().snapshotDone() || pipeline.failure() != null);
            assertThat(pipeline.failure()).isNull();
            writer.close();
            try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
                // The writer may have deleted or re-keyed any seeded row: re-key one that still exists.
                try (var rs = st.executeQuery("SELECT min(id) FROM users WHERE id > 12")) {
                    rs.next();
                    rekeyed = rs.getLong(1);
                }
                st.execute("INSERT INTO users (id, name, email) VALUES (10, 'Back Again', 'b@x.com') ON CONFLICT (id) DO NOTHING");
                st.execute("INSERT INTO users (id, name, email) VALUES (11, 'Soon Gone', 's@x.com') ON CONFLICT (id) DO NOTHING");
                st.execute("UPDATE users SET name = 'Última Versão Aqui', email = 'LAST@X.COM' WHERE id = 10");
                st.execute("UPDATE users SET name = 'Second Update' WHERE id = 10");
                st.execute("DELETE FROM users WHERE id = 11");
                st.execute("UPDATE users SET id = 900000 WHERE id = " + rekeyed);
            }
            CatchUp.await(spec, true, Duration.ofMinutes(2), () -> pipeline.failure() == null);
            assertThat(writer.operations()).isPositive();
        }
        try (Connection c = infra.connect(db)) {
            assertThat(DemoData.oracleMismatches(c)).as("rows differing from an independent SQL transform: %s", DemoData.oracleDiff(c)).isZero();
            assertThat(DemoData.count(c, "users_v2")).isEqualTo(DemoData.count(c, "users"));
            assertThat(row(c, 10)).containsExactly("Second", "Update", "last@x.com");
            assertThat(row(c, 11)).as("deleted row").isEmpty();
            assertThat(row(c, rekeyed)).as("old key of a key change").isEmpty();
            assertThat(row(c, 900000)).as("new key of a key change").isNotEmpty();
        }
        List<Verifier.Report> reports = new Verifier(plan, 700, 0, s -> { }).verify();
        assertThat(reports).allSatisfy(r -> assertThat(r.mismatches()).isEmpty());
        assertThat(reports.get(0).sourceRows()).isGreaterThan(5000);
    }

    static List<String> row(Connection c, long id) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT first_name, last_name, email FROM users_v2 WHERE id = " + id)) {
            return rs.next() ? java.util.Arrays.asList(rs.getString(1), rs.getString(2), rs.getString(3)) : List.of();
        }
    }

    static Connection connect(String db) {
        try {
            return infra.connect(db);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
