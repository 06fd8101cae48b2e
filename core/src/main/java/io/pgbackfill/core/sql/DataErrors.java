package io.pgbackfill.core.sql;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.List;

/**
 * Which database errors are the rows' own fault, and how to find the rows: one rule for the sink (rows to the DLQ)
 * and for {@code rehearse} (rows it predicts the DLQ gets), so the prediction cannot drift from what happens.
 */
public final class DataErrors {
    private DataErrors() {
    }

    /**
     * SQLSTATE class 21 (cardinality), 22 (data exception), 23 (integrity constraint), 54 (program limit, e.g. a row
     * too large) and 42804 (datatype mismatch, a value of the wrong type for its column): isolate such rows, do not retry.
     */
    public static boolean isDataError(SQLException e) {
        String s = e.getSQLState();
        return s != null && (s.startsWith("21") || s.startsWith("22") || s.startsWith("23") || s.startsWith("54") || s.equals("42804"));
    }

    /** Writes some rows inside the caller's transaction. */
    @FunctionalInterface
    public interface Write<T> {
        void write(List<T> rows) throws SQLException;
    }

    /** Told of one row the database refused, with the error. */
    @FunctionalInterface
    public interface Refused<T> {
        void refused(T row, SQLException e);
    }

    /**
     * Writes {@code rows} under a savepoint; on a data error rolls back to it and writes each half again, down to the
     * single rows the database refuses, which go to {@code refused}; the rest stays written. Any other error is thrown
     * (after the savepoint is rolled back, so the caller may still use the transaction).
     */
    public static <T> void bisect(Connection c, List<T> rows, Write<T> write, Refused<T> refused) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        Savepoint sp = c.setSavepoint();
        try {
            write.write(rows);
            c.releaseSavepoint(sp);
        } catch (SQLException e) {
            try {
                c.rollback(sp);
            } catch (SQLException rollback) {
                e.addSuppressed(rollback); // a broken connection: the caller sees the first error
            }
            if (!isDataError(e)) {
                throw e;
            }
            if (rows.size() == 1) {
                refused.refused(rows.get(0), e);
                return;
            }
            int mid = rows.size() >>> 1;
            bisect(c, rows.subList(0, mid), write, refused);
            bisect(c, rows.subList(mid, rows.size()), write, refused);
        }
    }
}
