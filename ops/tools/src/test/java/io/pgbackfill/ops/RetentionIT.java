package io.pgbackfill.ops;

import io.pgbackfill.embedded.InfrastructureExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.kafka.TopicSettings;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.embedded.Infrastructure;
import io.pgbackfill.ops.demo.DemoData;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.producer.ChangeEventProducer;
import io.pgbackfill.producer.ProducerConfig;
import io.pgbackfill.transformer.TransformerApp;
import io.pgbackfill.transformer.TransformerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;

/**
 * Kafka deletes events a stopped stage had not read (what retention does, done here with deleteRecords): the stage
 * refuses to skip them, names what was lost and the way on, and resync brings the target back row for row.
 */
@ExtendWith(InfrastructureExtension.class)
class RetentionIT {
    @InfrastructureExtension.Started
    static Infrastructure infra;

    record Run(Path file, PipelineSpec spec, MigrationPlan plan, Path state, String db) {
    }

    /** A synced pipeline, then source changes made while it is stopped. */
    static Run syncedThenChanged(String name) throws Exception {
        String db = name.replace('-', '_');
        try (Connection c = infra.connect(db)) {
            DemoData.createTables(c);
            DemoData.seed(c, 300);
        }
        Path file = LostChanges.specFile(infra, name, db);
        PipelineSpec spec = SpecLoader.load(file);
        MigrationPlan plan = MigrationPlan.connect(spec, file.toString());
        Path state = Files.createTempDirectory(name);
        LostChanges.syncOnce(plan, state);
        assertThat(LostChanges.mismatches(infra, db)).isZero();
        try (Connection c = infra.connect(db)) {
            assertThat(LostChanges.changeSource(c)).isGreaterThan(100);
        }
        assertThat(LostChanges.mismatches(infra, db)).as("the target misses the changes made while stopped").isGreaterThan(100);
        return new Run(file, spec, plan, state, db);
    }

    @Test
    void topicsAreCreatedWithUnlimitedRetention() throws Exception {
        Run run = syncedThenChanged("ret-topics");
        try (Admin admin = KafkaTopics.admin(new io.pgbackfill.core.spec.KafkaSpec(infra.kafkaBootstrapServers(), null, 1))) {
            var t = run.spec().tables().get(0);
            var settings = TopicSettings.read(admin, List.of(run.spec().rawTopic(t), run.spec().rowsTopic(t), run.spec().dlqTopic(t)));
            assertThat(settings).hasSize(3);
            assertThat(settings.values()).allSatisfy(s -> {
                assertThat(s.retentionMs()).isEqualTo(-1);
                assertThat(s.retentionBytes()).isEqualTo(-1);
                assertThat(s.cleanupPolicy()).isEqualTo("delete");
                assertThat(s.findings(1)).isEmpty();
            });
            // An existing topic with a finite retention is what preflight warns about, with the fix.
            admin.incrementalAlterConfigs(java.util.Map.of(new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, run.spec().dlqTopic(t)), List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                    new org.apache.kafka.clients.admin.ConfigEntry("retention.ms", "3600000"), org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)))).all().get();
        }
        CliRun preflight = CliRun.of("preflight", run.file().toString());
        assertThat(preflight.exitCode()).as(preflight.output()).isZero();
        assertThat(preflight.output()).containsPattern("WARN\\s+topic " + java.util.regex.Pattern.quote(run.spec().dlqTopic(run.spec().tables().get(0))))
                .contains("retention.ms=3600000").contains("--add-config retention.ms=-1,retention.bytes=-1")
                .contains("PASS max_slot_wal_keep_size").doesNotContain("MB MB");
        CliRun status = CliRun.of("status", run.file().toString(), "--state-dir", run.state().toString());
        assertThat(status.output()).contains("TOPICS").contains("retention.ms=3600000").contains("retention.ms=-1 retention.bytes=-1 cleanup.policy=delete");
    }

    @Test
    void aStoppedSinkWhoseRowsWereDeletedRefusesToSkipThemAndResyncRepairsTheTarget() throws Exception {
        Run run = syncedThenChanged("ret-sink");
        String rows = run.spec().rowsTopic(run.spec().tables().get(0));
        long fence = CatchUp.fence(run.spec());
        // Producer and transformer move the changes into the rows topic while the sink is stopped.
        try (TransformerApp transformer = new TransformerApp(run.plan(), TransformerConfig.of(run.state().resolve("streams")));
             ChangeEventProducer producer = new ChangeEventProducer(ProducerConfig.of(run.spec(), run.state().resolve("producer")))) {
            transformer.start();
            producer.start();
            await().atMost(Duration.ofMinutes(2)).until(() -> LostChanges.watermarkAtLeast(infra, rows, fence, false)
                    || transformer.failure() != null || producer.failure() != null);
            assertThat(transformer.failure()).isNull();
            assertThat(producer.failure()).isNull();
        }
        LostChanges.deleteAllRecords(run.spec(), rows);

        CliRun sink = CliRun.of("sink", run.file().toString(), "--metrics-port", "-1");
        assertThat(sink.exitCode()).as(sink.output()).isEqualTo(3);
        assertThat(sink.output()).contains("sink failed").contains("topic " + rows + " partition ").contains("were deleted before they were read")
                .contains("backfill resync SPEC").contains("ops/runbooks/resync.md");
        assertThat(LostChanges.mismatches(infra, run.db())).as("nothing was written past the gap").isGreaterThan(100);

        CliRun resync = CliRun.of("resync", run.file().toString(), "--state-dir", run.state().toString());
        assertThat(resync.exitCode()).as(resync.output()).isZero();
        assertRepaired(run);
    }

    @Test
    void aStoppedTransformerWhoseRawEventsWereDeletedRefusesToSkipThemAndResyncRepairsTheTarget() throws Exception {
        Run run = syncedThenChanged("ret-transformer");
        String raw = run.spec().rawTopic(run.spec().tables().get(0));
        long fence = CatchUp.fence(run.spec());
        try (ChangeEventProducer producer = new ChangeEventProducer(ProducerConfig.of(run.spec(), run.state().resolve("producer")))) {
            producer.start();
            await().atMost(Duration.ofMinutes(2)).until(() -> LostChanges.watermarkAtLeast(infra, raw, fence, true) || producer.failure() != null);
            assertThat(producer.failure()).isNull();
        }
        LostChanges.deleteAllRecords(run.spec(), raw);

        CliRun transformer = CliRun.of("transformer", run.file().toString(), "--metrics-port", "-1", "--state-dir", run.state().toString());
        assertThat(transformer.exitCode()).as(transformer.output()).isEqualTo(3);
        assertThat(transformer.output()).contains("the transformer stopped instead of skipping").contains("topic " + raw + " partition ")
                .contains("were deleted before they were read").contains("backfill resync SPEC");
        CliRun up = CliRun.of("up", run.file().toString(), "--metrics-port", "-1", "--state-dir", run.state().toString());
        assertThat(up.exitCode()).as(up.output()).isEqualTo(3);
        assertThat(up.output()).contains("topic " + raw + " partition ");
        assertThat(LostChanges.mismatches(infra, run.db())).isGreaterThan(100);

        CliRun resync = CliRun.of("resync", run.file().toString(), "--state-dir", run.state().toString());
        assertThat(resync.exitCode()).as(resync.output()).isZero();
        assertRepaired(run);
    }

    static void assertRepaired(Run run) throws Exception {
        try (Connection c = infra.connect(run.db())) {
            assertThat(DemoData.oracleMismatches(c)).as("rows differing from the transform of the source: %s", DemoData.oracleDiff(c)).isZero();
            assertThat(DemoData.count(c, "users_v2")).isEqualTo(DemoData.count(c, "users"));
        }
    }
}
