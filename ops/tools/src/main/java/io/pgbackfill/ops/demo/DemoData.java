package io.pgbackfill.ops.demo;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The demo's tables: {@code users} (source) filled with realistic variety (one-, two- and three-word
 * names, NULL names, unicode and emoji, mixed-case emails), and the empty target {@code users_v2}.
 * Rows are generated inside PostgreSQL (generate_series), so seeding never holds the table in memory.
 */
public final class DemoData {
    static final String FIRST = "ARRAY['Ana','João','Zoë','Müller','李','Émilie','Олег','Priya','O''Brien','Sam 🙂']";
    static final String LAST = "ARRAY['Silva','Souza Lima','Ng','van der Berg','小龍','Kowalski','Nakamura','de la Cruz','Smith','Ødegaard']";

    /** The demo transform written independently in SQL: first_name before the first space, the rest or NULL, lower(email). */
    private static final String EXPECTED = "SELECT id, CASE WHEN position(' ' in name) = 0 THEN name ELSE split_part(name, ' ', 1) END AS first_name, "
            + "CASE WHEN position(' ' in name) = 0 THEN NULL ELSE substr(name, position(' ' in name) + 1) END AS last_name, "
            + "lower(email) AS email, created_at FROM users";
    private static final String ACTUAL = "SELECT id, first_name, last_name, email, created_at FROM users_v2";

    private DemoData() {
    }

    public static void createTables(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS users (id bigserial PRIMARY KEY, name text, email text, created_at timestamptz)");
            st.execute("CREATE TABLE IF NOT EXISTS users_v2 (id bigint PRIMARY KEY, first_name text, last_name text, email text, created_at timestamptz)");
        }
    }

    /** Appends {@code rows} users. */
    public static void seed(Connection c, long rows) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO users (name, email, created_at) SELECT "
                        + "CASE WHEN g % 17 = 0 THEN NULL WHEN g % 7 = 0 THEN (" + FIRST + ")[1 + g % 10] "
                        + "ELSE (" + FIRST + ")[1 + g % 10] || ' ' || (" + LAST + ")[1 + (g / 10) % 10] END, "
                        + "CASE WHEN g % 23 = 0 THEN NULL ELSE 'User.' || g || '@Example.COM' END, "
                        + "timestamptz '2020-01-01 00:00:00+00' + g * interval '37 seconds 123457 microseconds' "
                        + "FROM generate_series(1, ?) g")) {
            ps.setLong(1, rows);
            ps.executeUpdate();
        }
        try (Statement st = c.createStatement()) {
            st.execute("ANALYZE users");
        }
    }

    /**
     * Rows of the target that differ from an independent SQL statement of the demo transform
     * (first_name = text before the first space, last_name = the rest or NULL, email lower-cased),
     * both ways: keys missing on either side or with any column different. Independent of the CEL spec on purpose:
     * it checks the spec, too.
     */
    public static long oracleMismatches(Connection c) throws SQLException {
        // One join on the key instead of EXCEPT both ways: each side is read once, not twice (about half the time
        // on 1M rows). id is the primary key of both tables, so a key present on one side only or with any column
        // different is exactly a row EXCEPT would report (once here, where EXCEPT lists a differing row twice).
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT count(*) FROM (" + EXPECTED + ") e FULL JOIN (" + ACTUAL + ") a ON a.id = e.id "
                        + "WHERE e.id IS NULL OR a.id IS NULL OR (e.first_name, e.last_name, e.email, e.created_at) "
                        + "IS DISTINCT FROM (a.first_name, a.last_name, a.email, a.created_at)")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The rows behind {@link #oracleMismatches}, for a failure message (at most 20). */
    public static java.util.List<String> oracleDiff(Connection c) throws SQLException {
        java.util.List<String> out = new java.util.ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT 'expected' side, e.* FROM (" + EXPECTED + " EXCEPT " + ACTUAL + ") e UNION ALL SELECT 'target', a.* FROM (" + ACTUAL + " EXCEPT " + EXPECTED + ") a ORDER BY 2 LIMIT 20")) {
            while (rs.next()) {
                out.add(rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3) + " " + rs.getString(4) + " " + rs.getString(5) + " " + rs.getString(6));
            }
        }
        return out;
    }

    public static long count(Connection c, String table) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
