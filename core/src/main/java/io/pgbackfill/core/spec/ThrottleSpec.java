package io.pgbackfill.core.spec;

/**
 * Throttling on the source's health: each check, every {@code intervalMs}, against its threshold. While a check is over
 * its threshold the snapshot's reads wait (and the sink's writes, when the target is the source database); the
 * streaming of changes already in the WAL never does. A {@code critical} threshold pauses the pipeline instead, until an
 * operator resumes it ({@code backfill ctl SPEC resume}).
 *
 * <pre>
 * throttle:
 *   intervalMs: 1000              # how often the checks run (default 1000)
 *   replicaLagMs: 10000           # physical replicas' replay lag (pg_stat_replication), the largest
 *   slotRetainedMiB: 10240        # WAL this pipeline's slot retains
 *   query: "SELECT load > 0.8 FROM app.health"   # returns true to throttle
 *   critical: {replicaLagMs: 60000, slotRetainedMiB: 51200}
 *   rowsPerSecond: 20000          # the snapshot's rate limit at start (change it while running: backfill ctl)
 * </pre>
 */
public record ThrottleSpec(Integer intervalMs, Long replicaLagMs, Long slotRetainedMiB, String query, Critical critical, Long rowsPerSecond) {
    public static final ThrottleSpec DEFAULT = new ThrottleSpec(null, null, null, null, null, null);

    /** Thresholds that pause instead of slowing down. */
    public record Critical(Long replicaLagMs, Long slotRetainedMiB) {
    }

    public ThrottleSpec {
        // Defaults and checks: SpecOptions (docs/spec-reference.md).
        intervalMs = SpecOptions.THROTTLE_INTERVAL_MS.resolve(intervalMs);
        replicaLagMs = SpecOptions.THROTTLE_REPLICA_LAG_MS.resolve(replicaLagMs);
        slotRetainedMiB = SpecOptions.THROTTLE_SLOT_RETAINED_MIB.resolve(slotRetainedMiB);
        rowsPerSecond = SpecOptions.THROTTLE_ROWS_PER_SECOND.resolve(rowsPerSecond);
        critical = critical == null ? new Critical(null, null) : critical;
        if (query != null && query.isBlank()) {
            query = null;
        }
    }

    /** Whether any check is configured (otherwise nothing is polled). */
    public boolean checksAnything() {
        return replicaLagMs != null || slotRetainedMiB != null || query != null || critical.replicaLagMs() != null
                || critical.slotRetainedMiB() != null;
    }
}
