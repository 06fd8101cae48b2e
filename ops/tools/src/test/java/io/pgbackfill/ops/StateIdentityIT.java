package io.pgbackfill.ops;

import io.pgbackfill.embedded.InfrastructureExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.embedded.Infrastructure;
import io.pgbackfill.ops.demo.DemoData;
import io.pgbackfill.producer.ChangeEventProducer;
import io.pgbackfill.producer.ProducerConfig;
import io.pgbackfill.producer.SourceIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The same pipeline name against a second database: the producer refuses the first one's state, and starts fresh only when told to. */
@ExtendWith(InfrastructureExtension.class)
class StateIdentityIT {
    @InfrastructureExtension.Started
    static Infrastructure infra;

    @Test
    void theProducerRefusesStateOfAnotherSource() throws Exception {
        for (var db : new String[][] {{"ident_a", "120"}, {"ident_b", "50"}}) {
            try (Connection c = infra.connect(db[0])) {
                DemoData.createTables(c);
                DemoData.seed(c, Long.parseLong(db[1]));
            }
        }
        Path fileA = LostChanges.specFile(infra, "ident", "ident_a");
        Path fileB = LostChanges.specFile(infra, "ident", "ident_b");
        PipelineSpec specA = SpecLoader.load(fileA);
        PipelineSpec specB = SpecLoader.load(fileB);
        Path state = Files.createTempDirectory("ident");
        try (ChangeEventProducer a = new ChangeEventProducer(ProducerConfig.of(specA, state.resolve("producer")))) {
            a.start();
            await().atMost(Duration.ofMinutes(2)).until(() -> a.snapshotDone() || a.failure() != null);
            assertThat(a.failure()).isNull();
        }
        SourceIdentity recorded = SourceIdentity.read(state.resolve("producer")).orElseThrow();
        assertThat(recorded.database()).isEqualTo("ident_a");
        assertThat(recorded.slot()).isEqualTo(specA.slotName());
        assertThat(recorded.systemIdentifier()).matches("\\d+");
        byte[] offsets = Files.readAllBytes(state.resolve("producer").resolve("offsets.dat"));

        CliRun refused = CliRun.of("producer", fileB.toString(), "--metrics-port", "-1", "--state-dir", state.toString());
        assertThat(refused.exitCode()).as(refused.output()).isEqualTo(2);
        assertThat(refused.output()).contains("belongs to another source (system " + recorded.systemIdentifier() + ", database ident_a")
                .contains("not to this one (system " + recorded.systemIdentifier() + ", database ident_b").contains("--fresh-state");
        assertThat(Files.readAllBytes(state.resolve("producer").resolve("offsets.dat"))).as("the other source's state is left alone").isEqualTo(offsets);
        CliRun status = CliRun.of("status", fileB.toString(), "--state-dir", state.toString());
        assertThat(status.output()).as("status does not show the other source's progress").doesNotContain("read 120");

        // Told to, it discards that state and snapshots this source (the slot name is cluster-wide: tear down the other first).
        assertThat(CliRun.of("teardown", fileA.toString()).exitCode()).isZero();
        try (ChangeEventProducer b = new ChangeEventProducer(ProducerConfig.of(specB, state.resolve("producer")).withFreshState(true))) {
            b.start();
            await().atMost(Duration.ofMinutes(2)).until(() -> b.snapshotDone() || b.failure() != null);
            assertThat(b.failure()).isNull();
            assertThat(b.snapshotRowsRead("public.users")).as("rows read, counted for this source only").isEqualTo(50);
        }
        assertThat(SourceIdentity.read(state.resolve("producer")).orElseThrow().database()).isEqualTo("ident_b");
    }
}
