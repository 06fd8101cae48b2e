package io.pgbackfill.ops.control;

import io.pgbackfill.core.spec.ThrottleSpec;
import io.pgbackfill.ops.preflight.Check;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.List;

/**
 * Preflight's checks of {@code throttle:}: the throttle query runs and returns a boolean (a query that fails would
 * hold the snapshot forever: a failing check throttles), and replica lag can be seen (without superuser or
 * {@code pg_monitor}, pg_stat_replication hides other sessions' replay lag and the check would always read 0).
 */
public final class ThrottlePreflight {
    private ThrottlePreflight() {
    }

    public static void check(Connection c, ThrottleSpec spec, List<Check> out) {
        if (spec.query() != null) {
            try (Statement st = c.createStatement()) {
                st.setQueryTimeout(Math.max(1, spec.intervalMs() * 5 / 1000));
                try (ResultSet rs = st.executeQuery(spec.query())) {
                    int type = rs.getMetaData().getColumnType(1);
                    if (type != Types.BOOLEAN && type != Types.BIT) {
                        out.add(Check.fail("throttle query", "returns " + rs.getMetaData().getColumnTypeName(1) + ", not boolean",
                                "make its first column a boolean: true throttles"));
                    } else {
                        boolean now = rs.next() && rs.getBoolean(1);
                        out.add(Check.pass("throttle query", "runs; returns " + now + " now" + (now ? " (the snapshot would be held)" : "")));
                    }
                }
            } catch (SQLException e) {
                out.add(Check.fail("throttle query", e.getMessage(), "fix throttle.query: a failing check holds the snapshot"));
            }
        }
        if (spec.replicaLagMs() != null || spec.critical().replicaLagMs() != null) {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') FROM pg_roles WHERE rolname = current_user")) {
                boolean sees = rs.next() && rs.getBoolean(1);
                out.add(sees ? Check.pass("replica lag visible", "pg_stat_replication shows replay lag to this user")
                        : Check.warn("replica lag visible", "this user cannot see replay lag in pg_stat_replication: throttle.replicaLagMs would read 0",
                        "GRANT pg_monitor TO <pgbackfill user>"));
            } catch (SQLException e) {
                out.add(Check.warn("replica lag visible", e.getMessage(), "GRANT pg_monitor TO <pgbackfill user>"));
            }
        }
    }
}
