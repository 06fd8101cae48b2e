package io.pgbackfill.ops.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The loop users write first: for each id, SELECT the row, compute the new columns in Java, INSERT it
 * into the target; autocommit, so one round trip and one commit per statement. Run on a sample of
 * the table (its rate does not change with the table size, and the whole table would take minutes).
 */
final class RowByRowApproach implements Approach {
    @Override
    public String key() {
        return "row-by-row";
    }

    @Override
    public String label() {
        return "row-by-row (SELECT + INSERT per row)";
    }

    @Override
    public ApproachResult run(BenchContext ctx) throws SQLException {
        long sample = Math.min(ctx.options().rowByRowSample(), ctx.sourceRows());
        try (Connection c = ctx.connect()) {
            BenchDatabase.execute(c, "TRUNCATE users_v2");
            long minId = BenchDatabase.queryLong(c, "SELECT coalesce(min(id), 0) FROM users");
            long maxId = BenchDatabase.queryLong(c, "SELECT coalesce(max(id), 0) FROM (SELECT id FROM users ORDER BY id LIMIT " + sample + ") s");
            c.setAutoCommit(true);
            long copied = 0;
            long t0 = System.nanoTime();
            try (PreparedStatement select = c.prepareStatement("SELECT name, email, created_at FROM users WHERE id = ?");
                 PreparedStatement insert = c.prepareStatement(
                         "INSERT INTO users_v2 (id, first_name, last_name, email, created_at) VALUES (?, ?, ?, ?, ?)")) {
                for (long id = minId; id <= maxId; id++) {
                    select.setLong(1, id);
                    String name;
                    String email;
                    OffsetDateTime createdAt;
                    try (ResultSet rs = select.executeQuery()) {
                        if (!rs.next()) {
                            continue; // a gap in the keys
                        }
                        name = rs.getString(1);
                        email = rs.getString(2);
                        createdAt = rs.getObject(3, OffsetDateTime.class);
                    }
                    insert.setLong(1, id);
                    insert.setString(2, NameSplit.firstName(name));
                    insert.setString(3, NameSplit.lastName(name));
                    insert.setString(4, NameSplit.email(email));
                    insert.setObject(5, createdAt);
                    insert.executeUpdate();
                    copied++;
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long v0 = System.nanoTime();
            long mismatches = TransformOracle.transformMismatches(c, "users", "id BETWEEN " + minId + " AND " + maxId, "users_v2");
            double verifySeconds = (System.nanoTime() - v0) / 1e9;
            Map<String, Object> extras = new LinkedHashMap<>();
            extras.put("sampleRows", copied);
            extras.put("extrapolatedSecondsForTable", seconds > 0 ? ctx.sourceRows() * seconds / Math.max(1, copied) : null);
            String note = String.format(java.util.Locale.ROOT, "sample of %,d rows; the whole table would take ~%,.0f s",
                    copied, seconds * ctx.sourceRows() / Math.max(1, copied));
            return ApproachResult.verified(this, copied, seconds, verifySeconds, mismatches, note, extras);
        }
    }
}
