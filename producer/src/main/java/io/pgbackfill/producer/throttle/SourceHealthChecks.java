package io.pgbackfill.producer.throttle;

import io.pgbackfill.core.spec.ThrottleSpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The checks of {@link ThrottleSpec}, one query each, against the source primary: its physical replicas' replay lag,
 * this pipeline's slot's retained WAL, and the user's throttle query. Critical thresholds are looked at first.
 */
public final class SourceHealthChecks {
    static final long MIB = 1024 * 1024;
    private final ThrottleSpec spec;
    private final String slotName;

    public SourceHealthChecks(ThrottleSpec spec, String slotName) {
        this.spec = spec;
        this.slotName = slotName;
    }

    public ThrottleVerdict evaluate(Connection c) throws SQLException {
        Double lagMs = spec.replicaLagMs() != null || spec.critical().replicaLagMs() != null ? replicaLagMs(c) : null;
        Double retainedMiB = spec.slotRetainedMiB() != null || spec.critical().slotRetainedMiB() != null ? slotRetainedMiB(c) : null;
        if (over(lagMs, spec.critical().replicaLagMs())) {
            return new ThrottleVerdict("critical", "replicaLag", lagMs, spec.critical().replicaLagMs(), null);
        }
        if (over(retainedMiB, spec.critical().slotRetainedMiB())) {
            return new ThrottleVerdict("critical", "slotRetained", retainedMiB, spec.critical().slotRetainedMiB(), null);
        }
        if (over(lagMs, spec.replicaLagMs())) {
            return new ThrottleVerdict("throttled", "replicaLag", lagMs, spec.replicaLagMs(), null);
        }
        if (over(retainedMiB, spec.slotRetainedMiB())) {
            return new ThrottleVerdict("throttled", "slotRetained", retainedMiB, spec.slotRetainedMiB(), null);
        }
        if (spec.query() != null && query(c)) {
            return new ThrottleVerdict("throttled", "query", 1, 0, "the throttle query returned true");
        }
        return ThrottleVerdict.CLEAR;
    }

    private static boolean over(Double value, Long threshold) {
        return value != null && threshold != null && value > threshold;
    }

    /**
     * The largest replay lag of the physical replicas: walsenders that serve no logical slot (ours and other
     * pipelines' logical walsenders are not replicas). NULL replay_lag means the replica is idle and caught up.
     */
    static double replicaLagMs(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT coalesce(max(extract(epoch FROM replay_lag) * 1000), 0) "
                + "FROM pg_stat_replication WHERE pid NOT IN (SELECT active_pid FROM pg_replication_slots WHERE slot_type = 'logical' AND active_pid IS NOT NULL)")) {
            rs.next();
            return rs.getDouble(1);
        }
    }

    double slotRetainedMiB(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(pg_current_wal_lsn() - restart_lsn, 0) FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slotName);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getDouble(1) / MIB : 0;
            }
        }
    }

    /** The user's query, under a statement timeout: true (first column) throttles. */
    private boolean query(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.setQueryTimeout(Math.max(1, spec.intervalMs() * 5 / 1000));
            try (ResultSet rs = st.executeQuery(spec.query())) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }
}
