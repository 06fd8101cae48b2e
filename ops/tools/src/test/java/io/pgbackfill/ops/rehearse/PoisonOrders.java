package io.pgbackfill.ops.rehearse;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A source table with known poison, each class in rows of its own (so the first failing column of a
 * row is the one seeded), spread evenly through the heap by generating it with the row number:
 * <ul>
 *   <li>every 100th amount is 'n/a': a cast failure for the numeric(12,2) target (1%)</li>
 *   <li>every 400th note (offset 3) is a 2 MiB string, stored out of line and uncompressed, for a
 *       varchar(100) target (0.25%)</li>
 *   <li>every 50th customer (offset 7) is NULL, for a NOT NULL target (2%)</li>
 *   <li>a legacy re-import: 200 rows copied with id + 1,000,000, which the spec's key {@code id % 1000000}
 *       maps onto the original row's target key. Each copy is stored half a table away from its original,
 *       next to an unrelated row, so the two rows of a pair lie on different pages and the copies on many:
 *       page sampling then sees each pair independently, with probability f² (appended together, the
 *       copies would fill two pages and be sampled all or nothing)</li>
 * </ul>
 */
final class PoisonOrders {
    static final long ROWS = 20_000;
    static final long DUPLICATE_OFFSET = 1_000_000;

    private PoisonOrders() {
    }

    static void create(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE orders (id bigint PRIMARY KEY, amount text, note text, customer text, created_at timestamptz)");
            st.execute("ALTER TABLE orders ALTER COLUMN note SET STORAGE EXTERNAL");
            // Row b's values; rows are stored in the order of pos (copies right after the row at their pos).
            st.execute("INSERT INTO orders SELECT id, "
                    + "CASE WHEN b % 100 = 0 THEN 'n/a' ELSE (b % 997)::text || '.' || lpad((b % 100)::text, 2, '0') END, "
                    + "CASE WHEN b % 400 = 3 THEN repeat(md5(b::text), 65536) ELSE 'note ' || b END, "
                    + "CASE WHEN b % 50 = 7 THEN NULL ELSE 'customer ' || (b % 1000) END, "
                    + "timestamptz '2024-01-01 00:00:00+00' + b * interval '1 minute' "
                    + "FROM (SELECT g AS pos, 0 AS copy, g AS b, g AS id FROM generate_series(1, " + ROWS + ") g "
                    + "      UNION ALL "
                    + "      SELECT pos, 1, b, " + DUPLICATE_OFFSET + " + b FROM (SELECT g AS pos, (g + " + (ROWS / 2 - 1) + ") % " + ROWS + " + 1 AS b "
                    + "                   FROM generate_series(1, " + ROWS + ") g) c WHERE b % 100 = 1) r "
                    + "ORDER BY pos, copy");
            st.execute("ANALYZE orders");
            st.execute("CREATE TABLE orders_v2 (id bigint PRIMARY KEY, amount numeric(12,2) NOT NULL, note varchar(100), "
                    + "customer text NOT NULL, created_at timestamptz)");
        }
    }

    /** The true number of rows of each class, counted by SQL that knows nothing of the transform. */
    record Truth(long rows, long castFailures, long tooLong, long nullCustomers, long duplicates) {
    }

    static Truth truth(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*), "
                + "count(*) FILTER (WHERE amount !~ '^-?[0-9]+([.][0-9]+)?$'), "
                + "count(*) FILTER (WHERE length(note) > 100), "
                + "count(*) FILTER (WHERE customer IS NULL), "
                + "count(*) FILTER (WHERE id >= " + DUPLICATE_OFFSET + ") FROM orders")) {
            rs.next();
            return new Truth(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5));
        }
    }
}
