package io.pgbackfill.ops.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Issue 8, process faults: kill anything at any moment, lose nothing. Producer, transformer and sink run as separate
 * OS processes against a broker that is a process too and an embedded PostgreSQL, while the application writes. Each
 * trial breaks one thing at a random moment, during a snapshot or while streaming ({@link FaultPlan}): kill -9 of a
 * stage, kill -9 and restart of the broker, a restart or a crash (SIGQUIT) of the database, or the source's replication
 * connection dropped. Then everything runs again, the writer pauses, the target catches up to a fence on the source
 * ({@code CatchUp}), and the target is compared with the transform of the source row for row: lost, stale and
 * duplicate rows must all be 0.
 *
 * <p>The first trial's snapshot is the initial one. Later "snapshot" trials delete 100 rows from the target and ask
 * Debezium for a new incremental snapshot before the fault: a snapshot that gives up early leaves them lost.
 *
 * <p>{@code -Dchaos.trials=N} (default 3 with a fixed fault plan; given, or in the {@code chaos} profile's 100 trials, the
 * plan is random), {@code -Dchaos.seed=S} replays a run's faults ({@code random}: a new plan), {@code -Dchaos.rows=N} seeds N users (default 5000), {@code -Dchaos.faults=KILL_SINK,RESTART_BROKER} narrows the
 * faults drawn, {@code -Dchaos.phase=snapshot|streaming} fixes the phase, {@code -Dchaos.snapshotMode=incremental|initial}
 * sets the spec's snapshot mode, {@code -Dchaos.keepLogs=true} keeps the work directory (child logs, Kafka data) after a
 * clean run. Ends with one line: {@code chaos: trials=N lost=X stale=Y duplicates=Z seed=S}.
 */
class ChaosIT {
    static final Duration CATCH_UP = Duration.ofSeconds(120);
    /** The default suite's fault plan: a database crash while streaming, a producer kill during a snapshot, and a third. */
    static final long DEFAULT_SEED = -830692030703277524L;
    /** How long a snapshot may take to restore the rows taken away from the target (snapshots queue behind each other). */
    static final Duration SNAPSHOT_TIMEOUT = Duration.ofSeconds(120);
    /** Target rows deleted before each new snapshot: a snapshot must copy every row, these included. */
    static final int DAMAGED_ROWS = 100;

    @Test
    void killAnythingAtAnyMomentLoseNothing() throws Exception {
        int trials = Integer.getInteger("chaos.trials", 3);
        long rows = Long.getLong("chaos.rows", 5000);
        List<FaultPlan.Fault> faults = FaultPlan.faults(System.getProperty("chaos.faults"));
        boolean keepLogs = Boolean.getBoolean("chaos.keepLogs");
        String phaseProperty = System.getProperty("chaos.phase", "");
        FaultPlan.Phase onlyPhase = phaseProperty.isBlank() ? null : FaultPlan.Phase.valueOf(phaseProperty.trim().toUpperCase(Locale.ROOT));
        String seedProperty = System.getProperty("chaos.seed");
        // The default suite replays one fixed fault plan (reproducible CI); the campaign (-Pchaos, or -Dchaos.seed=random)
        // draws new ones. (A random plan found the restart-after-scan race: a source restart just after the initial scan,
        // before Debezium's first offset flush, made its in-engine retry scan again and skip the deletes in between. Fixed:
        // an initial-scan engine no longer retries in-engine; ChangeEventProducerIT reproduces it deterministically.)
        boolean campaign = System.getProperty("chaos.trials") != null || "random".equals(seedProperty);
        long seed = seedProperty != null && !seedProperty.isBlank() && !"random".equals(seedProperty) ? Long.parseLong(seedProperty.trim())
                : campaign ? new SecureRandom().nextLong() : DEFAULT_SEED;
        System.out.println("chaos: " + trials + " trials, seed=" + seed + " (replay with -Dchaos.seed=" + seed + ")");
        SplittableRandom random = new SplittableRandom(seed);
        Path dir = Files.createTempDirectory("pgbackfill-chaos");
        ChaosHarness.Mismatch total = new ChaosHarness.Mismatch(0, 0, 0);
        int done = 0;
        boolean clean = false;
        ChaosHarness h = new ChaosHarness(dir, System.out);
        List<String> failure = new ArrayList<>();
        try {
            h.start(rows);
            for (int trial = 1; trial <= trials; trial++) {
                FaultPlan plan = FaultPlan.draw(random, trial, faults, onlyPhase);
                long t0 = System.nanoTime();
                h.log("trial %d/%d: %s", trial, trials, plan.describe());
                if (plan.phase() == FaultPlan.Phase.STREAMING) {
                    h.awaitInitialSnapshot(Duration.ofSeconds(120));
                }
                long opsBefore = h.writerOperations();
                h.resumeWriter(seed * 31 + trial);
                List<Long> damaged = List.of();
                if (plan.phase() == FaultPlan.Phase.SNAPSHOT && (trial > 1 || h.initialSnapshotDone())) {
                    // Past the initial snapshot: take rows away from the target and ask for a new snapshot to restore them.
                    damaged = h.damageTarget(DAMAGED_ROWS, seed + trial);
                    h.requestSnapshot("chaos-" + Long.toUnsignedString(seed, 36) + "-" + trial);
                }
                h.pause(plan.faultAfterMs());
                long readAtFault = h.snapshotRowsRead();
                inject(h, plan);
                h.pause(plan.settleMs());
                h.awaitAllRunning(ChaosHarness.STARTUP);
                h.pauseWriter();
                long ops = h.writerOperations() - opsBefore;
                h.catchUp(CATCH_UP);
                String incomplete = null;
                if (!damaged.isEmpty()) {
                    long missing = h.awaitRestored(damaged, SNAPSHOT_TIMEOUT);
                    if (missing > 0) {
                        incomplete = missing + " of the " + damaged.size() + " rows deleted from the target were not restored by the snapshot";
                    }
                }
                ChaosHarness.Mismatch m = h.compare();
                h.log("snapshot rows read by the producer: %d at the fault, %d after the catch-up", readAtFault, h.snapshotRowsRead());
                total = total.plus(m);
                done++;
                System.out.printf(Locale.ROOT, "chaos: trial %d/%d %s -> lost=%d stale=%d duplicates=%d (target rows %d, writer ops %d, %.1f s)%n",
                        trial, trials, plan.fault(), m.lost(), m.stale(), m.duplicates(), h.targetRows(), ops, (System.nanoTime() - t0) / 1e9);
                if (incomplete != null) {
                    failure.add("trial " + trial + " (" + plan.describe() + "): " + incomplete);
                }
                if (!m.clean()) {
                    failure.add("trial " + trial + " (" + plan.describe() + ") left the target different from the transform of the source:");
                    for (String d : h.differences()) {
                        failure.add(d);
                        String id = d.substring(3, d.indexOf(':'));
                        if (failure.size() < 12) {
                            failure.addAll(h.history(Long.parseLong(id)));
                        }
                    }
                }
                if (!failure.isEmpty()) {
                    break; // the damage stays in the target: later trials would count it again
                }
            }
            clean = failure.isEmpty();
        } finally {
            System.out.printf(Locale.ROOT, "chaos: trials=%d lost=%d stale=%d duplicates=%d seed=%d%n", done, total.lost(), total.stale(), total.duplicates(), seed);
            System.out.println("chaos: stages exiting on their own (restarted by the supervisor): " + h.ownExits()
                    + ", writer operations: " + h.writerOperations());
            if (!clean || keepLogs) {
                System.out.println("chaos: logs kept in " + dir + " (" + h.logPaths() + ")");
            }
            h.close();
            if (clean && !keepLogs) {
                h.deleteWorkDirectory();
            }
        }
        assertThat(failure).as("replay with -Dchaos.seed=%d; logs in %s", seed, dir).isEmpty();
        assertThat(total.clean()).isTrue();
    }

    private static void inject(ChaosHarness h, FaultPlan plan) throws Exception {
        switch (plan.fault()) {
            case KILL_PRODUCER, KILL_TRANSFORMER, KILL_SINK -> {
                h.killStage(plan.fault().stage());
                h.pause(plan.downMs());
                h.reviveStage(plan.fault().stage());
            }
            case RESTART_BROKER -> h.restartBroker(plan.downMs());
            case RESTART_DATABASE -> h.restartDatabase(plan.downMs());
            case CRASH_DATABASE -> h.crashDatabase(plan.downMs());
            case DROP_SOURCE_CONNECTION -> h.dropSourceConnection();
        }
    }
}
