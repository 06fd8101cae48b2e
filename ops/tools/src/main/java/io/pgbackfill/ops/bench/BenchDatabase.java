package io.pgbackfill.ops.bench;

import io.pgbackfill.embedded.Infrastructure;
import io.pgbackfill.ops.demo.DemoData;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** The few SQL chores the bench repeats: seeding, emptying a target, counting, dropping a finished run's slot. */
final class BenchDatabase {
    private BenchDatabase() {
    }

    /** A database with the demo's {@code users} table ({@code rows} generated rows) and an empty {@code users_v2}. */
    static void seed(Infrastructure infra, String database, long rows) throws SQLException {
        try (Connection c = infra.connect(database)) {
            DemoData.createTables(c);
            DemoData.seed(c, rows);
        }
    }

    /**
     * Settles the server before an approach is timed, so none pays for another's leftovers: a checkpoint (the WAL the
     * previous one wrote), then up to 60 s for autovacuum workers to finish (the tables it filled). Not timed.
     */
    static void settle(Infrastructure infra, String database) throws SQLException, InterruptedException {
        try (Connection c = infra.connect(database)) {
            execute(c, "CHECKPOINT");
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            while (queryLong(c, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'") > 0 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
        }
    }

    static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    static long queryLong(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static long count(Connection c, String table) throws SQLException {
        return queryLong(c, "SELECT count(*) FROM " + table);
    }

    /**
     * Drops a replication slot once nothing streams from it. A finished run's slot would otherwise pin
     * the WAL of every later approach on this server (up to max_slot_wal_keep_size of disk).
     */
    static void dropSlot(Connection c, String slot) throws SQLException, InterruptedException {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (PreparedStatement ps = c.prepareStatement("SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, slot);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return;
                    }
                    if (!rs.getBoolean(1)) {
                        try (PreparedStatement drop = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
                            drop.setString(1, slot);
                            drop.execute();
                        }
                        return;
                    }
                }
            }
            Thread.sleep(100);
        }
    }
}
