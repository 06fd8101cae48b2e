package io.pgbackfill.core.event;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;
import java.util.Set;

/**
 * One change of one source row, as the producer writes it to the raw topic (keyed by the primary key).
 * This is the contract between producer and transformer; see ARCHITECTURE.md.
 *
 * @param op        c (insert), u (update), d (delete), r (snapshot read), t (truncate), w (watermark)
 * @param table     source table, schema.table
 * @param lsn       LSN of the change in the source WAL: the row version used by the sink's guard
 * @param tsMs      source commit time, ms since the epoch
 * @param snapshot  true for snapshot reads
 * @param key       primary-key columns (for every op but t and w)
 * @param after     the row after the change (c, u, r); canonical values, see {@link CanonicalValues}
 * @param unchanged columns whose value Debezium could not send (unchanged TOAST): not in {@code after}
 * @param snapshotDone on a watermark: whether the snapshot of {@code table} has finished
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ChangeEvent(
        String op,
        String table,
        long lsn,
        long tsMs,
        boolean snapshot,
        Map<String, Object> key,
        Map<String, Object> after,
        Set<String> unchanged,
        Boolean snapshotDone) {

    public static final String CREATE = "c";
    public static final String UPDATE = "u";
    public static final String DELETE = "d";
    public static final String READ = "r";
    public static final String TRUNCATE = "t";
    public static final String WATERMARK = "w";

    public static ChangeEvent watermark(String table, long lsn, long tsMs, boolean snapshotDone) {
        return new ChangeEvent(WATERMARK, table, lsn, tsMs, false, null, null, null, snapshotDone);
    }

    public boolean isWatermark() {
        return WATERMARK.equals(op);
    }

    public boolean isDelete() {
        return DELETE.equals(op);
    }

    public boolean isTruncate() {
        return TRUNCATE.equals(op);
    }

    public boolean hasRow() {
        return CREATE.equals(op) || UPDATE.equals(op) || READ.equals(op);
    }
}
