package io.pgbackfill.core.memory;

import io.pgbackfill.core.sql.TableName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;

/**
 * The average size of a table's rows, from the catalog: its size on disk (heap and TOAST) over its row estimate; for
 * a table never analyzed, the text size of its first 100 rows. Compressed TOAST values make the first figure low,
 * so stages use it to size row counts, never as the only bound (each also has a byte bound).
 */
public final class RowBytes {
    private static final long SMALLEST = 64;

    private RowBytes() {
    }

    /** Average bytes per row of {@code table}; {@value #SMALLEST} if the table is empty or unknown. */
    public static long average(Connection c, TableName table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_table_size(oid), reltuples FROM pg_class WHERE oid = to_regclass(?)")) {
            ps.setString(1, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return SMALLEST;
                }
                double tuples = rs.getDouble(2);
                if (tuples > 0) {
                    return Math.max(SMALLEST, (long) (rs.getLong(1) / tuples));
                }
            }
        }
        // Never analyzed (reltuples = -1): read a few rows' text size on the server, not into this JVM.
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(avg(octet_length(t::text)), 0)::bigint FROM (SELECT * FROM "
                + table.quoted() + " LIMIT 100) t")) {
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Math.max(SMALLEST, rs.getLong(1)) : SMALLEST;
            }
        }
    }

    /** The largest average over {@code tables}: the stages size their row counts for the widest table. */
    public static long widest(Connection c, Collection<TableName> tables) throws SQLException {
        long max = SMALLEST;
        for (TableName t : tables) {
            max = Math.max(max, average(c, t));
        }
        return max;
    }
}
