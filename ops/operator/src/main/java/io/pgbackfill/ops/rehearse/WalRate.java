package io.pgbackfill.ops.rehearse;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * How fast the source writes WAL: its insert position read twice, a short window apart, before the
 * rehearsal reads anything (so its own reads do not count). A slot created for the snapshot keeps
 * every byte written after it whenever the pipeline falls behind; this rate times the snapshot's
 * duration is what to budget (and what max_slot_wal_keep_size must allow).
 */
final class WalRate {
    private WalRate() {
    }

    static RehearsalReport.Wal measure(Connection source, Duration window) throws SQLException {
        Long keep = keepSize(source);
        if (window.isZero() || window.isNegative()) {
            return new RehearsalReport.Wal(null, 0, keep); // asked not to watch
        }
        String first;
        try {
            first = insertPosition(source);
        } catch (SQLException e) {
            return new RehearsalReport.Wal(null, 0, keep); // a standby has no insert position
        }
        long t0 = System.nanoTime();
        try {
            Thread.sleep(window.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String second = insertPosition(source);
        double seconds = (System.nanoTime() - t0) / 1e9;
        try (PreparedStatement ps = source.prepareStatement("SELECT pg_wal_lsn_diff(?::pg_lsn, ?::pg_lsn)")) {
            ps.setString(1, second);
            ps.setString(2, first);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new RehearsalReport.Wal(rs.getDouble(1) / seconds, seconds, keep);
            }
        }
    }

    private static String insertPosition(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_current_wal_insert_lsn()::text")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** max_slot_wal_keep_size in bytes; null when unlimited (-1). */
    private static Long keepSize(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT setting::bigint FROM pg_settings WHERE name = 'max_slot_wal_keep_size'")) {
            if (!rs.next() || rs.getLong(1) < 0) {
                return null;
            }
            return rs.getLong(1) << 20; // the setting is in MB
        }
    }
}
