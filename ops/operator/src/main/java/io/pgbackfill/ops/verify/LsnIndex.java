package io.pgbackfill.ops.verify;

import io.pgbackfill.core.sql.SqlIdentifier;
import io.pgbackfill.core.sql.TableName;
import io.pgbackfill.sink.TargetTable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * An index on the target's row versions ({@code _pgbackfill_lsn}), so that "rows changed since LSN x" is a range
 * scan over the changes, not a scan of the table: what keeps the check under cutover's lock bounded by the changes
 * since the last check instead of the table's size. Built CONCURRENTLY (writers go on) when continuous verify or a
 * cutover first needs it, not during the snapshot, where it would slow every write; dropped with the column at
 * cutover.
 */
public final class LsnIndex {
    private LsnIndex() {
    }

    public static SqlIdentifier name(TableName target) {
        String base = target.table().name();
        String name = (base.length() > 40 ? base.substring(0, 40) : base) + "_pgbackfill_lsn_idx";
        return SqlIdentifier.of(name);
    }

    /** Creates the index if it is missing (or left invalid by an interrupted build); needs an autocommit connection. */
    public static void ensure(Connection tgt, TableName target) throws SQLException {
        SqlIdentifier idx = name(target);
        Boolean valid = null;
        try (PreparedStatement ps = tgt.prepareStatement("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                + "WHERE i.indrelid = to_regclass(?) AND c.relname = ?")) {
            ps.setString(1, target.quoted());
            ps.setString(2, idx.name());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    valid = rs.getBoolean(1);
                }
            }
        }
        if (Boolean.TRUE.equals(valid)) {
            return;
        }
        boolean auto = tgt.getAutoCommit();
        tgt.setAutoCommit(true);
        try (Statement st = tgt.createStatement()) {
            String qualified = target.schema().quoted() + "." + idx.quoted();
            if (valid != null) {
                st.execute("DROP INDEX CONCURRENTLY IF EXISTS " + qualified);
            }
            st.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS " + idx.quoted() + " ON " + target.quoted() + " ("
                    + SqlIdentifier.of(TargetTable.LSN_COLUMN).quoted() + ")");
        } finally {
            tgt.setAutoCommit(auto);
        }
    }
}
