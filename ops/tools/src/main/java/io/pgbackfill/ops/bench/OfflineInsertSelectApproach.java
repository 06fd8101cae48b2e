package io.pgbackfill.ops.bench;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The ceiling: one INSERT ... SELECT inside PostgreSQL. Nothing is faster, but it is offline: writes
 * to {@code users} that commit after its snapshot are not in the target, and nothing keeps it in sync.
 */
final class OfflineInsertSelectApproach implements Approach {
    @Override
    public String key() {
        return "offline-insert-select";
    }

    @Override
    public String label() {
        return "offline INSERT INTO users_v2 SELECT";
    }

    @Override
    public ApproachResult run(BenchContext ctx) throws SQLException {
        try (Connection c = ctx.connect()) {
            c.setAutoCommit(true);
            BenchDatabase.execute(c, "TRUNCATE users_v2");
            long t0 = System.nanoTime();
            long rows;
            try (var st = c.createStatement()) {
                rows = st.executeUpdate("INSERT INTO users_v2 (" + TransformOracle.TARGET_COLUMNS + ") SELECT "
                        + TransformOracle.TRANSFORM_COLUMNS + " FROM users");
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long v0 = System.nanoTime();
            long mismatches = TransformOracle.transformMismatches(c, "users", null, "users_v2");
            double verifySeconds = (System.nanoTime() - v0) / 1e9;
            return ApproachResult.verified(this, rows, seconds, verifySeconds, mismatches,
                    "one statement; offline: misses writes made meanwhile, no sync afterwards", null);
        }
    }
}
