package io.pgbackfill.core.state;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The sink's state tables in the target database, the one place outside the sink that knows them: catch-up, status,
 * resync and teardown read and clear a pipeline's rows through these methods. The sink owns the tables' DDL
 * ({@code BatchWriter}, {@code SinkFence}) and names them from here.
 * <ul>
 *   <li>{@value #PROGRESS_TABLE}: per pipeline, target table and partition, the LSN of the last watermark the sink
 *       committed, and whether that partition's snapshot is done.</li>
 *   <li>{@value #FENCE_TABLE}: per pipeline, topic and partition, the epoch of its current owner (zombie fencing).</li>
 * </ul>
 * A missing table or schema means the sink never ran: readers get "nothing yet", not an error.
 */
public final class SinkState {
    public static final String PROGRESS_TABLE = "pgbackfill.sink_progress";
    public static final String FENCE_TABLE = "pgbackfill.sink_fence";

    private SinkState() {
    }

    /** Partitions (over all tables) whose watermark is at or past {@code lsn}; with {@code snapshot}, also snapshot-done. */
    public static int partitionsAt(Connection c, String pipeline, long lsn, boolean snapshot) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM " + PROGRESS_TABLE
                + " WHERE pipeline = ? AND lsn >= ? AND (snapshot_done OR NOT ?)")) {
            ps.setString(1, pipeline);
            ps.setLong(2, lsn);
            ps.setBoolean(3, snapshot);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (SQLException e) {
            if (neverRan(e)) {
                return 0;
            }
            throw e;
        }
    }

    /** The lowest watermark of the pipeline over all partitions, empty when the sink has written none. */
    public static OptionalLong lowestWatermark(Connection c, String pipeline) {
        try (PreparedStatement ps = c.prepareStatement("SELECT min(lsn), count(*) FROM " + PROGRESS_TABLE + " WHERE pipeline = ?")) {
            ps.setString(1, pipeline);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getLong(2) > 0 ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
            }
        } catch (SQLException e) {
            return OptionalLong.empty(); // no progress table yet: the sink has not started
        }
    }

    /** Partitions of one target table whose snapshot the sink has seen complete (0 when it cannot tell). */
    public static long snapshotDonePartitions(Connection c, String pipeline, String targetTable) {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FILTER (WHERE snapshot_done) FROM " + PROGRESS_TABLE
                + " WHERE pipeline = ? AND target_table = ?")) {
            ps.setString(1, pipeline);
            ps.setString(2, targetTable);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        } catch (SQLException e) {
            return 0;
        }
    }

    /** Forgets the pipeline's watermarks (resync: the new snapshot starts from none); returns how many. */
    public static int forgetWatermarks(Connection c, String pipeline) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + PROGRESS_TABLE + " WHERE pipeline = ?")) {
            ps.setString(1, pipeline);
            return ps.executeUpdate();
        } catch (SQLException e) {
            if (neverRan(e)) {
                return 0;
            }
            throw e;
        }
    }

    /** Removes the pipeline's rows from both tables (teardown); says what it removed, e.g. "sink watermarks of users-split". */
    public static List<String> remove(Connection c, String pipeline) throws SQLException {
        List<String> removed = new ArrayList<>();
        for (String[] table : List.of(new String[] {PROGRESS_TABLE, "sink watermarks"}, new String[] {FENCE_TABLE, "sink partition epochs"})) {
            try (PreparedStatement exists = c.prepareStatement("SELECT 1 FROM pg_class WHERE oid = to_regclass(?)")) {
                exists.setString(1, table[0]);
                if (!exists.executeQuery().next()) {
                    continue;
                }
            }
            try (PreparedStatement d = c.prepareStatement("DELETE FROM " + table[0] + " WHERE pipeline = ?")) {
                d.setString(1, pipeline);
                if (d.executeUpdate() > 0) {
                    removed.add(table[1] + " of " + pipeline);
                }
            }
        }
        return removed;
    }

    /** Undefined table (42P01) or schema (3F000): the sink has not created its state yet. */
    private static boolean neverRan(SQLException e) {
        return "42P01".equals(e.getSQLState()) || "3F000".equals(e.getSQLState());
    }
}
