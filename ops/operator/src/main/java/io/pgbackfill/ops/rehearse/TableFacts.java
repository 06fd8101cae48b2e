package io.pgbackfill.ops.rehearse;

import io.pgbackfill.core.sql.TableName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Locale;

/**
 * What the catalog says about a source table, without reading it: estimated rows, bytes on disk
 * (heap + indexes + TOAST) and the TOAST relations' share of them. A partitioned table is the sum of
 * its leaf partitions (the parent itself has no storage).
 *
 * @param estimatedRows  the planner's estimate: reltuples per page × the table's current pages
 * @param estimatedBy    "catalog", or "quick sample" when a table was never analyzed (64 random pages counted)
 */
public record TableFacts(long estimatedRows, String estimatedBy, long totalBytes, long toastBytes) {
    private static final int QUICK_SAMPLE_PAGES = 64;

    @com.fasterxml.jackson.annotation.JsonProperty
    public double toastShare() {
        return totalBytes == 0 ? 0 : (double) toastBytes / totalBytes;
    }

    public static TableFacts read(Connection c, TableName table, long seed) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "WITH rels AS (SELECT c.oid, c.reltuples, c.relpages, c.reltoastrelid, pg_relation_size(c.oid) AS heap FROM pg_class c "
                        + "  WHERE c.oid = to_regclass(?) OR c.oid IN (SELECT relid FROM pg_partition_tree(to_regclass(?)) WHERE isleaf)) "
                        + "SELECT count(*), "
                        + "  coalesce(bool_or(heap > 0 AND (reltuples < 0 OR relpages = 0)), false), "
                        // What the planner does: the density seen at the last ANALYZE/VACUUM, times today's size.
                        + "  coalesce(sum(CASE WHEN relpages > 0 AND reltuples >= 0 THEN reltuples / relpages * (heap / current_setting('block_size')::bigint) END), 0), "
                        + "  coalesce(sum(heap), 0) / current_setting('block_size')::bigint, "
                        + "  coalesce(sum(pg_total_relation_size(oid)), 0), "
                        + "  coalesce(sum(CASE WHEN reltoastrelid = 0 THEN 0 ELSE pg_total_relation_size(reltoastrelid) END), 0) "
                        + "FROM rels")) {
            ps.setString(1, table.quoted());
            ps.setString(2, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getLong(1) == 0) {
                    throw new CannotRehearse("source table " + table + " does not exist");
                }
                boolean neverAnalyzed = rs.getBoolean(2);
                long catalogRows = Math.round(rs.getDouble(3));
                long pages = rs.getLong(4);
                long total = rs.getLong(5);
                long toast = rs.getLong(6);
                if (pages == 0) {
                    return new TableFacts(0, "catalog", total, toast);
                }
                if (!neverAnalyzed) {
                    return new TableFacts(catalogRows, "catalog", total, toast);
                }
                return new TableFacts(quickEstimate(c, table, pages, seed), "quick sample", total, toast);
            }
        }
    }

    /** Never analyzed: count the rows on a few random pages and scale by the page count. */
    private static long quickEstimate(Connection c, TableName table, long pages, long seed) throws SQLException {
        double percent = Math.min(100, 100.0 * QUICK_SAMPLE_PAGES / pages);
        String sql = String.format(Locale.ROOT, "SELECT count(*) FROM %s TABLESAMPLE SYSTEM (%.6f) REPEATABLE (%d)", table.quoted(), percent, seed);
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return Math.round(rs.getLong(1) * 100 / percent);
        }
    }
}
