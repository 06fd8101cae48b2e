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
import io.pgbackfill.sink.SinkConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Stop every stage mid-snapshot, start them again on the same state: same target, and no second full snapshot. */
@ExtendWith(InfrastructureExtension.class)
class RestartIT {
    @InfrastructureExtension.Started
    static Infrastructure infra;

    @Test
    void resumesTheSnapshotWhereItStopped() throws Exception {
        long rows = 40_000;
        int chunk = 1000;
        PipelineSpec spec = TestPipelines.demoSpec(infra, "restart", "snapshot: {chunkSize: " + chunk + "}\n");
        String db = TestPipelines.database(spec);
        try (Connection c = infra.connect(db)) {
            DemoData.createTables(c);
            DemoData.seed(c, rows);
        }
        MigrationPlan plan = MigrationPlan.connect(spec, "users-split.yaml");
        Path state = Files.createTempDirectory("restart");
        try (DemoWriter writer = new DemoWriter(() -> connect(db), 100, 11)) {
            writer.start();
            long readBeforeStop;
            try (Pipeline first = new Pipeline(plan, state, SinkConfig.from(spec.sink()))) {
                first.start();
                await().atMost(Duration.ofMinutes(2)).until(() -> first.producer().snapshotRowsRead("public.users") >= rows / 2 || first.failure() != null);
                assertThat(first.failure()).isNull();
                assertThat(first.producer().snapshotDone()).as("stopped mid-snapshot").isFalse();
                readBeforeStop = first.producer().snapshotRowsRead("public.users");
            }
            assertThat(readBeforeStop).isLessThan(rows);
            try (Pipeline second = new Pipeline(plan, state, SinkConfig.from(spec.sink()))) {
                second.start();
                await().atMost(Duration.ofMinutes(3)).until(() -> second.producer().snapshotDone() || second.failure() != null);
                assertThat(second.failure()).isNull();
                writer.close();
                CatchUp.await(spec, true, Duration.ofMinutes(2), () -> second.failure() == null);
            }
        }
        try (Connection c = infra.connect(db)) {
            assertThat(DemoData.oracleMismatches(c)).as("differing rows: %s", DemoData.oracleDiff(c)).isZero();
            assertThat(DemoData.count(c, "users_v2")).isEqualTo(DemoData.count(c, "users"));
        }
        long reads = TestPipelines.snapshotReads(infra, spec);
        // A second full snapshot would read at least rows + rows/2. Resuming re-reads at most what was in flight when
        // the first run stopped: one Debezium batch (max.batch.size) sent but not yet acknowledged, plus chunks.
        long batch = io.pgbackfill.producer.ProducerConfig.of(null, null).maxBatchSize();
        assertThat(reads).as("snapshot reads in Kafka over both runs").isGreaterThanOrEqualTo(rows - 1000).isLessThan(rows + batch + 3L * chunk);
    }

    static Connection connect(String db) {
        try {
            return infra.connect(db);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
