package io.pgbackfill.ops.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The bench's judge: rows that differ between a target and what it should hold, both ways (SQL EXCEPT),
 * in the style of DemoData.oracleMismatches but for any of the bench's tables. The expected rows are
 * computed by PostgreSQL from the source, independently of every approach's own code.
 */
final class TransformOracle {
    /** The demo transform in SQL: name split at the first space, email lower-cased. */
    static final String TRANSFORM_COLUMNS = "id, "
            + "CASE WHEN position(' ' in name) = 0 THEN name ELSE split_part(name, ' ', 1) END AS first_name, "
            + "CASE WHEN position(' ' in name) = 0 THEN NULL ELSE substr(name, position(' ' in name) + 1) END AS last_name, "
            + "lower(email) AS email, created_at";
    static final String TARGET_COLUMNS = "id, first_name, last_name, email, created_at";
    static final String COPY_COLUMNS = "id, name, email, created_at";

    private TransformOracle() {
    }

    /** Mismatches between {@code target} and the transform of the rows of {@code source} matching {@code where} (null = all). */
    static long transformMismatches(Connection c, String source, String where, String target) throws SQLException {
        String filter = where == null ? "" : " WHERE " + where;
        return symmetricDifference(c, "SELECT " + TRANSFORM_COLUMNS + " FROM " + source + filter,
                "SELECT " + TARGET_COLUMNS + " FROM " + target);
    }

    /** Mismatches between {@code target} and a plain copy of {@code source}. */
    static long copyMismatches(Connection c, String source, String target) throws SQLException {
        return symmetricDifference(c, "SELECT " + COPY_COLUMNS + " FROM " + source, "SELECT " + COPY_COLUMNS + " FROM " + target);
    }

    private static long symmetricDifference(Connection c, String expected, String actual) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT count(*) FROM ((" + expected + " EXCEPT " + actual + ") UNION ALL (" + actual + " EXCEPT " + expected + ")) d")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
