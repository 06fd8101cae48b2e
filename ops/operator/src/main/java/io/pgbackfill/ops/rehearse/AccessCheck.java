package io.pgbackfill.ops.rehearse;

import io.pgbackfill.core.sql.TableName;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.core.transform.TableTransform;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The privileges a rehearsal needs, checked before it reads a row, so a missing one is one line with
 * its GRANT instead of an error halfway: SELECT on each source table; on the target, TEMPORARY on the
 * database (the trial write's table) and SELECT on each target table (CREATE TABLE … LIKE needs it).
 */
final class AccessCheck {
    private AccessCheck() {
    }

    static void source(Connection c, MigrationPlan plan) throws SQLException {
        for (TableTransform t : plan.tables()) {
            requireTable(c, t.source(), "source");
        }
    }

    static void target(Connection c, MigrationPlan plan) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT has_database_privilege(current_user, current_database(), 'TEMPORARY'), "
                + "current_user, current_database()"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            if (!rs.getBoolean(1)) {
                throw new CannotRehearse("role " + rs.getString(2) + " may not create temporary tables in target database " + rs.getString(3)
                        + " (the trial write needs one): GRANT TEMPORARY ON DATABASE " + rs.getString(3) + " TO " + rs.getString(2));
            }
        }
        for (TableTransform t : plan.tables()) {
            requireTable(c, t.target(), "target");
        }
    }

    private static void requireTable(Connection c, TableName table, String side) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT to_regclass(?) IS NOT NULL AND has_table_privilege(current_user, to_regclass(?), 'SELECT'), to_regclass(?) IS NOT NULL, current_user")) {
            ps.setString(1, table.quoted());
            ps.setString(2, table.quoted());
            ps.setString(3, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(2)) {
                    throw new CannotRehearse(side + " table " + table + " does not exist");
                }
                if (!rs.getBoolean(1)) {
                    throw new CannotRehearse("role " + rs.getString(3) + " has no SELECT privilege on " + side + " table " + table
                            + ": GRANT SELECT ON " + table.quoted() + " TO " + rs.getString(3));
                }
            }
        }
    }
}
