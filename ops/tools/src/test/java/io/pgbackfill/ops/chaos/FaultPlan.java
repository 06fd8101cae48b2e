package io.pgbackfill.ops.chaos;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * One trial's fault, drawn from the run's seeded random source, so that a failing run can be replayed with
 * {@code -Dchaos.seed=N} (same faults in the same order; the moments they hit are as close as timing allows).
 *
 * @param trial        1-based trial number
 * @param fault        what breaks
 * @param phase        what the pipeline is doing when it breaks: copying the table (the initial snapshot, or a
 *                     fresh incremental snapshot asked for at the start of the trial) or only streaming changes
 * @param faultAfterMs how long the writer runs before the fault
 * @param downMs       how long the broken part stays down before it is started again
 * @param settleMs     how long the writer keeps running after the restart, before it pauses for the check
 */
record FaultPlan(int trial, Fault fault, Phase phase, long faultAfterMs, long downMs, long settleMs) {

    enum Fault {
        /** kill -9 of a stage, started again after {@code downMs}. */
        KILL_PRODUCER, KILL_TRANSFORMER, KILL_SINK,
        /** kill -9 of the Kafka broker, started again on the same log directories after {@code downMs}. */
        RESTART_BROKER,
        /** PostgreSQL (source and target) stopped (fast shutdown) and started again after {@code downMs}. */
        RESTART_DATABASE,
        /** The producer's replication connection terminated on the server (pg_terminate_backend of the slot's walsender). */
        DROP_SOURCE_CONNECTION,
        /** SIGQUIT to PostgreSQL's postmaster: a crash (immediate shutdown, WAL not yet written is lost), recovery on start. */
        CRASH_DATABASE;

        /** The faults drawn when {@code chaos.faults} is not set: all of them. */
        static final List<Fault> DEFAULT = List.of(values());

        ChaosHarness.Stage stage() {
            return switch (this) {
                case KILL_PRODUCER -> ChaosHarness.Stage.PRODUCER;
                case KILL_TRANSFORMER -> ChaosHarness.Stage.TRANSFORMER;
                case KILL_SINK -> ChaosHarness.Stage.SINK;
                default -> null;
            };
        }
    }

    enum Phase {
        SNAPSHOT, STREAMING
    }

    /**
     * Draws a trial's fault among {@code faults} (all of them by default; {@code -Dchaos.faults=A,B} narrows it down),
     * in a random phase or, if {@code only} is not null ({@code -Dchaos.phase=snapshot}), in that one.
     */
    static FaultPlan draw(SplittableRandom random, int trial, List<Fault> faults, Phase only) {
        Fault fault = faults.get(random.nextInt(faults.size()));
        Phase phase = random.nextBoolean() ? Phase.SNAPSHOT : Phase.STREAMING;
        phase = only != null ? only : phase;
        // A snapshot of a few thousand rows lasts a few seconds here: hit it early.
        long faultAfter = phase == Phase.SNAPSHOT ? random.nextLong(0, 1_500) : random.nextLong(300, 3_000);
        long down = random.nextLong(0, 2_000);
        long settle = random.nextLong(300, 2_000);
        return new FaultPlan(trial, fault, phase, faultAfter, down, settle);
    }

    /** The faults named in {@code property} (comma-separated names of {@link Fault}), or all when it is blank. */
    static List<Fault> faults(String property) {
        if (property == null || property.isBlank()) {
            return Fault.DEFAULT;
        }
        return Arrays.stream(property.split(",")).map(String::trim).filter(n -> !n.isEmpty())
                .map(n -> Fault.valueOf(n.toUpperCase(Locale.ROOT))).toList();
    }

    String describe() {
        return String.format(Locale.ROOT, "%s during %s at +%d ms, down %d ms, then %d ms of writes", fault, phase.name().toLowerCase(Locale.ROOT),
                faultAfterMs, downMs, settleMs);
    }
}
