package io.pgbackfill.ops.rehearse;

import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.event.CanonicalValues;
import io.pgbackfill.core.sql.SqlIdentifier;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Streams a sample of a source table, one row at a time, in the canonical form the transform sees
 * (the same {@link CanonicalValues#fromJdbc} {@code verify} uses). Nothing is kept: pgjdbc fetches
 * {@value #FETCH_SIZE} rows per round trip inside a transaction (a cursor needs one; the session is
 * READ ONLY, see {@link Rehearsal}), which is ended as soon as the table is done. A lock_timeout keeps the rehearsal from queueing behind a
 * migration's exclusive lock, and from making everyone else queue behind it.
 */
final class SampleReader {
    static final int FETCH_SIZE = 1000;
    static final long FETCH_BYTES = 32L << 20;
    private final int fetchSize;

    /**
     * What to do with each row; {@code sourceKey} reads like "id=42", {@code readNanos} is the time spent
     * fetching and converting this row (not the handler, not throttling).
     */
    interface RowHandler {
        void row(Map<String, Object> row, String sourceKey, long readNanos) throws SQLException;
    }

    private final TableSchema schema;
    private final SamplePlan plan;
    private final long rowsPerSecond;

    SampleReader(TableSchema schema, SamplePlan plan, long rowsPerSecond) {
        this(schema, plan, rowsPerSecond, FETCH_SIZE);
    }

    /** {@code fetchSize}: rows per round trip; fewer than {@link #FETCH_SIZE} for large rows ({@link #fetchSize}). */
    SampleReader(TableSchema schema, SamplePlan plan, long rowsPerSecond, int fetchSize) {
        this.schema = schema;
        this.plan = plan;
        this.rowsPerSecond = rowsPerSecond;
        this.fetchSize = fetchSize;
    }

    /** Rows per fetch for rows of {@code averageRowBytes}: pgjdbc holds a whole fetch, so at most 32 MiB of them. */
    static int fetchSize(long averageRowBytes) {
        return (int) Math.max(1, Math.min(FETCH_SIZE, FETCH_BYTES / Math.max(1, averageRowBytes)));
    }

    /** Streams the sample through {@code handler}; returns the rows read. */
    long read(Connection source, RowHandler handler) throws SQLException {
        List<Column> cols = new ArrayList<>(schema.columns().values());
        List<String> key = schema.primaryKey();
        // Without a primary key, the physical row address is the only way to name an example row.
        boolean byCtid = key.isEmpty();
        String select = "SELECT " + cols.stream().map(c -> SqlIdentifier.of(c.name()).quoted()).collect(Collectors.joining(", "))
                + (byCtid ? ", ctid::text" : "") + " FROM " + schema.name().quoted() + " " + plan.clause();
        Map<String, Integer> position = new HashMap<>();
        for (int i = 0; i < cols.size(); i++) {
            position.put(cols.get(i).name(), i + 1);
        }
        source.setAutoCommit(false);
        long rows = 0;
        long started = System.nanoTime();
        try {
            try (Statement st = source.createStatement()) {
                st.execute("SET LOCAL lock_timeout = '5s'");
            }
            try (PreparedStatement ps = source.prepareStatement(select)) {
                ps.setFetchSize(fetchSize);
                long t0 = System.nanoTime();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Map<String, Object> row = new LinkedHashMap<>();
                        for (int i = 0; i < cols.size(); i++) {
                            row.put(cols.get(i).name(), CanonicalValues.fromJdbc(rs, i + 1, cols.get(i).type()));
                        }
                        String sourceKey = byCtid ? "ctid=" + rs.getString(cols.size() + 1) : sourceKey(rs, key, position);
                        rows++;
                        handler.row(row, sourceKey, System.nanoTime() - t0);
                        throttle(started, rows);
                        t0 = System.nanoTime();
                    }
                }
            }
        } finally {
            source.rollback(); // read-only: nothing to keep; ends the snapshot so VACUUM is not held back
            source.setAutoCommit(true);
        }
        return rows;
    }

    private static String sourceKey(ResultSet rs, List<String> key, Map<String, Integer> position) throws SQLException {
        StringBuilder sb = new StringBuilder();
        for (String k : key) {
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(k).append('=').append(rs.getString(position.get(k)));
        }
        return sb.toString();
    }

    private void throttle(long startedNanos, long rows) {
        if (rowsPerSecond <= 0) {
            return;
        }
        long wait = startedNanos + rows * 1_000_000_000L / rowsPerSecond - System.nanoTime();
        if (wait > 0) {
            try {
                Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
