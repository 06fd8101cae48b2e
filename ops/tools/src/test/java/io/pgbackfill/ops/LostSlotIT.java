package io.pgbackfill.ops;

import io.pgbackfill.embedded.InfrastructureExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.embedded.Infrastructure;
import io.pgbackfill.ops.demo.DemoData;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.pipeline.Pipeline;
import io.pgbackfill.sink.SinkConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The source removes WAL a stopped pipeline's slot still needed (max_slot_wal_keep_size): preflight fails naming the
 * slot, up stops at once saying it is lost, and resync brings the target back to the transform of the source, rows
 * deleted and updated meanwhile included.
 */
@ExtendWith(InfrastructureExtension.class)
class LostSlotIT {
    @InfrastructureExtension.Started
    static Infrastructure infra;

    @Test
    void aLostSlotIsNamedAtOnceAndResyncRepairsTheTarget() throws Exception {
        String db = "lost_slot";
        try (Connection c = infra.connect(db); Statement st = c.createStatement(); ResultSet v = st.executeQuery("SHOW server_version")) {
            v.next();
            System.out.println("LostSlotIT on PostgreSQL " + v.getString(1));
            DemoData.createTables(c);
            DemoData.seed(c, 300);
        }
        Path file = LostChanges.specFile(infra, "lost-slot", db);
        PipelineSpec spec = SpecLoader.load(file);
        MigrationPlan plan = MigrationPlan.connect(spec, file.toString());
        Path state = Files.createTempDirectory("lost-slot");
        LostChanges.syncOnce(plan, state);
        assertThat(LostChanges.mismatches(infra, db)).isZero();

        try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
            assertThat(LostChanges.changeSource(c)).isGreaterThan(100);
            st.execute("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'");
            st.execute("SELECT pg_reload_conf()");
            st.execute("CREATE TABLE filler (id bigserial PRIMARY KEY, pad text)");
            // WAL written while the pipeline is stopped, past what the slot may keep; the checkpoint removes it.
            await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(100)).until(() -> {
                st.execute("INSERT INTO filler (pad) SELECT repeat('x', 200) FROM generate_series(1, 2000)");
                st.execute("SELECT pg_switch_wal()");
                st.execute("CHECKPOINT");
                return "lost".equals(walStatus(st, spec.slotName()));
            });
        }
        try {
            CliRun preflight = CliRun.of("preflight", file.toString());
            assertThat(preflight.exitCode()).as(preflight.output()).isEqualTo(1);
            assertThat(preflight.output()).containsPattern("FAIL\\s+replication slot\\s+replication slot " + spec.slotName() + " is lost")
                    .contains("max_slot_wal_keep_size = 1MB").contains("backfill resync SPEC").contains("preflight: FAIL");

            long t0 = System.nanoTime();
            CliRun up = CliRun.of("up", file.toString(), "--metrics-port", "-1", "--state-dir", state.toString());
            long seconds = Duration.ofNanos(System.nanoTime() - t0).toSeconds();
            assertThat(up.exitCode()).as(up.output()).isEqualTo(3);
            assertThat(up.output()).contains("replication slot " + spec.slotName() + " is lost (wal_status = lost)").contains("backfill resync SPEC")
                    .doesNotContain("Cannot obtain valid replication slot");
            assertThat(seconds).as("up stops at once instead of retrying (took %d s)", seconds).isLessThan(30);
        } finally {
            try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
                st.execute("ALTER SYSTEM RESET max_slot_wal_keep_size");
                st.execute("SELECT pg_reload_conf()");
            }
        }
        assertThat(LostChanges.mismatches(infra, db)).isGreaterThan(100);

        // A resync interrupted before it reconciled the target leaves its marker: the pipeline refuses to start on it.
        io.pgbackfill.ops.resync.ResyncMarker.write(state, 0);
        CliRun half = CliRun.of("up", file.toString(), "--metrics-port", "-1", "--state-dir", state.toString());
        assertThat(half.exitCode()).as(half.output()).isEqualTo(2);
        assertThat(half.output()).contains("did not finish").contains("run `backfill resync SPEC` again");

        CliRun resync = CliRun.of("resync", file.toString(), "--state-dir", state.toString());
        assertThat(resync.exitCode()).as(resync.output()).isZero();
        assertThat(resync.output()).contains("dropped replication slot " + spec.slotName() + " (wal_status lost)");
        assertThat(state.resolve("resync-pending")).doesNotExist();
        try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
            assertThat(DemoData.oracleMismatches(c)).as("rows differing from the transform of the source: %s", DemoData.oracleDiff(c)).isZero();
            assertThat(DemoData.count(c, "users_v2")).isEqualTo(DemoData.count(c, "users"));
            assertThat(DemoData.count(c, "users_v2 WHERE id % 7 = 0 AND id <= 300")).as("rows deleted while the slot was lost").isZero();
            assertThat(DemoData.count(c, "users_v2 WHERE first_name = 'Changed'")).as("rows updated while the slot was lost").isGreaterThan(30);
            assertThat(walStatus(st, spec.slotName())).isEqualTo("reserved");
        }

        // After the resync the pipeline streams on from the new slot.
        try (Pipeline p = new Pipeline(plan, state, SinkConfig.from(spec.sink()))) {
            p.start();
            try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
                st.execute("UPDATE users SET name = 'After Resync' WHERE id = 1");
                st.execute("DELETE FROM users WHERE id = 2");
            }
            CatchUp.await(spec, true, Duration.ofMinutes(2), () -> p.failure() == null);
        }
        try (Connection c = infra.connect(db)) {
            assertThat(DemoData.oracleMismatches(c)).as("rows differing after streaming on: %s", DemoData.oracleDiff(c)).isZero();
            assertThat(DemoData.count(c, "users_v2 WHERE id = 2")).isZero();
        }
    }

    static String walStatus(Statement st, String slot) throws Exception {
        try (ResultSet rs = st.executeQuery("SELECT wal_status FROM pg_replication_slots WHERE slot_name = '" + slot + "'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
