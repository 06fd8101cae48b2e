package io.pgbackfill.ops.compose;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbackfill.core.Secret;
import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.spec.SpecOverrides;
import io.pgbackfill.embedded.EmbeddedInfrastructure;
import io.pgbackfill.ops.demo.DemoData;
import io.pgbackfill.ops.demo.DemoWriter;
import io.pgbackfill.ops.commands.ServiceCommands;
import io.pgbackfill.ops.pipeline.CatchUp;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scale-out as docker compose runs it, with processes instead of containers: one producer, two transformers and two
 * sinks, each `backfill STAGE SPEC` in its own JVM, configured only through the environment variables compose sets,
 * on a spec with 4 partitions, while the application keeps writing. Then one transformer and one sink are killed
 * with SIGKILL: the survivors take over their partitions, and the target still ends up exactly the transform of the
 * source.
 */
class ScaleOutIT {
    static final int PARTITIONS = 4;
    static final long ROWS = 20_000;
    static final Duration STARTUP = Duration.ofSeconds(60);
    /** Kafka notices a member killed without leaving after its session timeout (10 s, KafkaClientConfig.GROUP_SESSION_TIMEOUT_MS), then rebalances. */
    static final Duration TAKEOVER = Duration.ofSeconds(90);

    @TempDir
    Path dir;
    private final long started = System.nanoTime();

    /** Where the time goes: the takeover waits out Kafka's session timeout, the rest should be short. */
    private void phase(String what) {
        System.out.printf(java.util.Locale.ROOT, "[scale-out] %5.1f s  %s%n", (System.nanoTime() - started) / 1e9, what);
    }

    @Test
    void survivorsTakeOverWhenATransformerAndASinkAreKilled() throws Exception {
        try (EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
             ServiceProcesses stages = new ServiceProcesses(dir.resolve("work"))) {
            String db = "scaleout";
            String url = infra.jdbcUrl(db);
            try (Connection c = infra.connect(db)) {
                DemoData.createTables(c);
                DemoData.seed(c, ROWS);
            }
            phase("infrastructure up, " + ROWS + " users seeded");
            Path specFile = writeSpec();
            // What compose sets: connections by environment over the spec's placeholders, the password by the spec's passwordEnv.
            Map<String, String> env = Map.of(SpecOverrides.SOURCE_URL, url, SpecOverrides.KAFKA_BOOTSTRAP, infra.kafkaBootstrapServers(),
                    "PGBACKFILL_SOURCE_PASSWORD", infra.password());
            PipelineSpec spec = SpecOverrides.apply(SpecLoader.load(specFile), env)
                    .withConnections(ConnectionSpec.of(url, infra.user(), Secret.of(infra.password(), "test")), null);
            assertThat(spec.kafka().partitions()).isEqualTo(PARTITIONS);
            String specArg = specFile.toString();

            // The first sink creates the target's bookkeeping; the rest start together, as `docker compose up --scale` does.
            ServiceProcess sink1 = stages.start("sink-1", env, "sink", specArg, "--metrics-port", "0");
            awaitHealthy(stages, sink1);
            ServiceProcess sink2 = stages.start("sink-2", env, "sink", specArg, "--metrics-port", "0");
            ServiceProcess transformer1 = stages.start("transformer-1", env, "transformer", specArg, "--metrics-port", "0",
                    "--state-dir", dir.resolve("transformer-1").toString());
            ServiceProcess transformer2 = stages.start("transformer-2", env, "transformer", specArg, "--metrics-port", "0",
                    "--state-dir", dir.resolve("transformer-2").toString());
            ServiceProcess producer = stages.start("producer", env, "producer", specArg, "--metrics-port", "0",
                    "--state-dir", dir.resolve("producer").toString());
            for (ServiceProcess p : List.of(sink2, transformer1, transformer2, producer)) {
                awaitHealthy(stages, p);
            }

            phase("5 stage processes healthy");
            try (DemoWriter writer = new DemoWriter(() -> connect(infra, db), 200, 7)) {
                writer.start();
                // Both instances of each stage are doing work before one of each dies.
                awaitTrue(stages, STARTUP, "both transformers and both sinks processed events", () ->
                        eventsIn(transformer1) > 0 && eventsIn(transformer2) > 0 && rowsWritten(sink1) > 0 && rowsWritten(sink2) > 0);

                phase("both instances of each stage busy; kill -9 transformer-1 and sink-1");
                transformer1.killHard();
                sink1.killHard();
                List<ServiceProcess> survivors = List.of(producer, transformer2, sink2);

                String rawTopic = spec.rawTopic(spec.tables().get(0));
                String rowsTopic = spec.rowsTopic(spec.tables().get(0));
                try (Admin admin = KafkaTopics.admin(new io.pgbackfill.core.spec.KafkaSpec(infra.kafkaBootstrapServers(), null, 1))) {
                    awaitTrue(stages, TAKEOVER, "the surviving transformer owns every raw partition and the surviving sink every rows partition", () ->
                            survivors.stream().allMatch(ServiceProcess::isAlive)
                                    && ownsAllPartitions(admin, spec.transformerApplicationId(), rawTopic)
                                    && ownsAllPartitions(admin, spec.sinkGroupId(), rowsTopic));
                }
                phase("survivors own all partitions");
                awaitTrue(stages, STARTUP, "the snapshot is done", () -> producer.scrape().sum("pgbackfill_snapshot_done") == 1);
                writer.close();
                assertThat(writer.operations()).as("the application wrote during the run").isPositive();

                phase("snapshot done, writer stopped after " + writer.operations() + " operations");
                CatchUp.await(spec, true, Duration.ofSeconds(60), () -> survivors.stream().allMatch(ServiceProcess::isAlive));
                phase("target caught up");
                for (ServiceProcess p : survivors) {
                    assertThat(p.health()).as("%s /health after the takeover", p.name()).isEqualTo(200);
                }
                PrometheusText producerMetrics = producer.scrape();
                assertThat(producerMetrics.sum("pgbackfill_snapshot_rows_read", "table=\"public.users\"")).isGreaterThanOrEqualTo(ROWS - 1000);
                assertThat(producerMetrics.sum("pgbackfill_snapshot_progress", "table=\"public.users\"")).isEqualTo(1.0);
                assertThat(producerMetrics.sum("pgbackfill_events_out_total", "stage=\"producer\"")).isGreaterThanOrEqualTo(ROWS);
                assertThat(producerMetrics.sum("pgbackfill_source_lsn_lag_bytes")).as("LSN lag, polled from the source").isNotNaN().isNotNegative();
                assertThat(producerMetrics.sum("pgbackfill_source_slot_retained_wal_bytes")).as("WAL held by the slot").isNotNaN().isNotNegative();
                PrometheusText sinkMetrics = sink2.scrape();
                assertThat(sinkMetrics.sum("pgbackfill_events_out_total", "stage=\"sink\"")).as("the surviving sink wrote rows").isPositive();
                assertThat(sinkMetrics.sum("pgbackfill_sink_batch_size_count")).isPositive()
                        .isLessThanOrEqualTo(sinkMetrics.sum("pgbackfill_sink_batches_total"));
                assertThat(sinkMetrics.sum("pgbackfill_sink_batch_size_sum")).isPositive()
                        .isLessThanOrEqualTo(sinkMetrics.sum("pgbackfill_events_out_total", "stage=\"sink\""));
            }

            // docker compose stop: SIGTERM. The stages close before the JVM exits, so they leave their groups at once
            // (a JVM that halted mid-close would leave its partitions stuck for the session timeout).
            phase("SIGTERM to the surviving transformer and sink");
            for (ServiceProcess p : List.of(transformer2, sink2)) {
                p.process().destroy();
                assertThat(p.process().waitFor(ServiceCommands.CLOSE_GRACE_SECONDS + 10, TimeUnit.SECONDS)).as("%s stops on SIGTERM", p.name()).isTrue();
            }
            try (Admin admin = KafkaTopics.admin(new io.pgbackfill.core.spec.KafkaSpec(infra.kafkaBootstrapServers(), null, 1))) {
                assertThat(members(admin, spec.sinkGroupId())).as("sink group members after a clean stop").isZero();
                assertThat(members(admin, spec.transformerApplicationId())).as("transformer group members after a clean stop").isZero();
            }
            phase("stopped cleanly");

            try (Connection c = infra.connect(db)) {
                assertThat(DemoData.oracleMismatches(c)).as("rows differing from the transform of the source: %s", DemoData.oracleDiff(c)).isZero();
                assertThat(DemoData.count(c, "users_v2")).isEqualTo(DemoData.count(c, "users"));
            }
        }
    }

    /** The demo spec with 4 partitions; its connections are placeholders that the environment overrides. */
    private Path writeSpec() throws Exception {
        String yaml;
        try (InputStream in = ScaleOutIT.class.getResourceAsStream("/examples/users-split.yaml")) {
            yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(yaml).contains("partitions: " + PARTITIONS);
        return Files.writeString(dir.resolve("users-split.yaml"), yaml + "snapshot: {chunkSize: 2000}\n");
    }

    /** One member in the group, and it holds every partition of the topic. */
    static boolean ownsAllPartitions(Admin admin, String group, String topic) throws Exception {
        var description = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
        if (description.members().size() != 1) {
            return false;
        }
        MemberDescription member = description.members().iterator().next();
        Set<Integer> owned = member.assignment().topicPartitions().stream().filter(tp -> tp.topic().equals(topic))
                .map(TopicPartition::partition).collect(Collectors.toSet());
        return owned.size() == PARTITIONS;
    }

    static int members(Admin admin, String group) throws Exception {
        return admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get().members().size();
    }

    static double eventsIn(ServiceProcess transformer) throws Exception {
        return transformer.scrape().sum("pgbackfill_events_in_total", "stage=\"transformer\"");
    }

    static double rowsWritten(ServiceProcess sink) throws Exception {
        return sink.scrape().sum("pgbackfill_events_out_total", "stage=\"sink\"");
    }

    static void awaitHealthy(ServiceProcesses stages, ServiceProcess p) throws Exception {
        p.metricsPort(STARTUP);
        awaitTrue(stages, STARTUP, p.name() + " healthy", () -> {
            if (!p.isAlive()) {
                throw new AssertionError(p.name() + " exited with " + p.process().exitValue());
            }
            return p.health() == 200;
        });
    }

    /** Polls {@code condition}; on timeout fails with every stage's log tail. */
    static void awaitTrue(ServiceProcesses stages, Duration timeout, String what, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Throwable last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (condition.call()) {
                    return;
                }
            } catch (AssertionError e) {
                if (e.getMessage() != null && e.getMessage().contains("exited with")) {
                    throw new AssertionError(e.getMessage() + "\n" + stages.logTails(), e);
                }
                last = e;
            } catch (Exception e) {
                last = e;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("not within " + timeout.toSeconds() + " s: " + what + (last == null ? "" : " (last: " + last + ")") + "\n" + stages.logTails());
    }

    static Connection connect(EmbeddedInfrastructure infra, String db) {
        try {
            return infra.connect(db);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
