package io.pgbackfill.ops.bench;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The "just UPDATE it" migration: new columns added to the live table and filled by UPDATEs over key
 * ranges of {@link BenchOptions#IN_PLACE_RANGE}, one autocommit statement each. Runs on a copy of
 * {@code users} (users_inplace) so the other approaches keep the same source. Fast, but every row
 * leaves a dead version behind (MVCC) and each range holds row locks on the live table while it runs.
 */
final class InPlaceUpdateApproach implements Approach {
    static final String TABLE = "users_inplace";

    @Override
    public String key() {
        return "in-place-update";
    }

    @Override
    public String label() {
        return "batched in-place UPDATE (10k key ranges)";
    }

    @Override
    public ApproachResult run(BenchContext ctx) throws SQLException, InterruptedException {
        try (Connection c = ctx.connect()) {
            c.setAutoCommit(true);
            // The copy stands for the live table before the migration: set up untimed, vacuumed, autovacuum off so the
            // dead tuples counted afterwards are the ones this migration leaves for VACUUM (not whatever autovacuum
            // happened to reach first).
            BenchDatabase.execute(c, "DROP TABLE IF EXISTS " + TABLE);
            BenchDatabase.execute(c, "CREATE TABLE " + TABLE + " AS SELECT id, name, email, created_at FROM users");
            BenchDatabase.execute(c, "ALTER TABLE " + TABLE + " ADD PRIMARY KEY (id), ADD COLUMN first_name text, ADD COLUMN last_name text");
            BenchDatabase.execute(c, "ALTER TABLE " + TABLE + " SET (autovacuum_enabled = false)");
            BenchDatabase.execute(c, "VACUUM ANALYZE " + TABLE);
            long sizeBefore = BenchDatabase.queryLong(c, "SELECT pg_table_size('" + TABLE + "')");
            long minId = BenchDatabase.queryLong(c, "SELECT coalesce(min(id), 0) FROM " + TABLE);
            long maxId = BenchDatabase.queryLong(c, "SELECT coalesce(max(id), -1) FROM " + TABLE);
            String update = "UPDATE " + TABLE + " SET "
                    + "first_name = CASE WHEN position(' ' in name) = 0 THEN name ELSE split_part(name, ' ', 1) END, "
                    + "last_name = CASE WHEN position(' ' in name) = 0 THEN NULL ELSE substr(name, position(' ' in name) + 1) END, "
                    + "email = lower(email) WHERE id BETWEEN ? AND ?";
            long updated = 0;
            long statements = 0;
            long t0 = System.nanoTime();
            try (var ps = c.prepareStatement(update)) {
                for (long lo = minId; lo <= maxId; lo += BenchOptions.IN_PLACE_RANGE) {
                    ps.setLong(1, lo);
                    ps.setLong(2, lo + BenchOptions.IN_PLACE_RANGE - 1);
                    updated += ps.executeUpdate();
                    statements++;
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long deadTuples = deadTuples(c);
            long sizeAfter = BenchDatabase.queryLong(c, "SELECT pg_table_size('" + TABLE + "')");
            long v0 = System.nanoTime();
            long mismatches = TransformOracle.transformMismatches(c, "users", null, TABLE);
            double verifySeconds = (System.nanoTime() - v0) / 1e9;
            BenchDatabase.execute(c, "DROP TABLE " + TABLE);
            Map<String, Object> extras = new LinkedHashMap<>();
            extras.put("deadTuples", deadTuples);
            extras.put("statements", statements);
            extras.put("tableBytesBefore", sizeBefore);
            extras.put("tableBytesAfter", sizeAfter);
            String note = String.format(Locale.ROOT, "%,d dead tuples left for VACUUM; table %,d -> %,d MiB; row locks on the live table",
                    deadTuples, sizeBefore >> 20, sizeAfter >> 20);
            return ApproachResult.verified(this, updated, seconds, verifySeconds, mismatches, note, extras);
        }
    }

    /** n_dead_tup once this backend's statistics are flushed (PostgreSQL 15+ flushes them lazily). */
    private static long deadTuples(Connection c) throws SQLException, InterruptedException {
        BenchDatabase.execute(c, "SELECT pg_stat_force_next_flush()");
        long dead = 0;
        for (int attempt = 0; attempt < 30 && dead == 0; attempt++) {
            BenchDatabase.execute(c, "SELECT pg_stat_clear_snapshot()");
            dead = BenchDatabase.queryLong(c, "SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_user_tables WHERE relname = '" + TABLE + "'");
            if (dead == 0) {
                Thread.sleep(100);
            }
        }
        return dead;
    }
}
