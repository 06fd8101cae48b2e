package io.pgbackfill.ops.bench;

import java.sql.Connection;
import java.sql.SQLException;

/** PostgreSQL's clock in microseconds since the epoch: writes are stamped with it, so lags are read against it too. */
final class DbClock {
    /** SQL for a timestamptz expression as epoch microseconds (exact: extract returns numeric). */
    static String micros(String timestamptz) {
        return "(extract(epoch from " + timestamptz + ") * 1000000)::bigint";
    }

    private DbClock() {
    }

    static long nowMicros(Connection c) throws SQLException {
        return BenchDatabase.queryLong(c, "SELECT " + micros("clock_timestamp()"));
    }
}
