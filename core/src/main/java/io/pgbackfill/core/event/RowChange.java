package io.pgbackfill.core.event;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;
import java.util.Set;

/**
 * One change of one target row, as the transformer writes it to the rows topic (keyed by the target key).
 * This is the contract between transformer and sink.
 *
 * @param op        u (upsert), d (delete), r (re-read: the source row must be read again, see below), t (truncate, sent
 *                  to every partition), w (watermark, every partition)
 * @param lsn       source LSN of the change: the sink keeps it per row and never lets an older one win
 * @param key       target key columns, as SQL text
 * @param values    target columns (key included) as SQL text literals, null = SQL NULL; for u only
 * @param unchanged target columns to leave as they are in the target (they came from unchanged TOAST values)
 * @param snapshotDone on a watermark: whether the source snapshot of this table had finished
 * @param sourceKey the source primary key (JSON) on u and d, only for tables whose target key is not the source
 *                  key itself: two source rows could then map to one target key, and the sink refuses to let
 *                  one overwrite or delete the other (see ARCHITECTURE.md, "duplicate target keys")
 * @param rereadKey the source primary key (JSON, the raw topic's key) on a change that does not carry the whole row:
 *                  an upsert with {@code unchanged} columns, and every re-read. The sink asks the producer to read
 *                  this source row again ({@link RereadRequest}) when the target cannot complete the change: for a
 *                  re-read always (after deleting the older target row, guarded), for an upsert when the target
 *                  lacks the row
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RowChange(
        String op,
        long lsn,
        Map<String, String> key,
        Map<String, String> values,
        Set<String> unchanged,
        Boolean snapshotDone,
        String sourceKey,
        String rereadKey) {

    public static final String UPSERT = "u";
    public static final String DELETE = "d";
    public static final String REREAD = "r";
    public static final String TRUNCATE = "t";
    public static final String WATERMARK = "w";

    public static RowChange upsert(long lsn, Map<String, String> key, Map<String, String> values, Set<String> unchanged) {
        return upsert(lsn, key, values, unchanged, null);
    }

    public static RowChange upsert(long lsn, Map<String, String> key, Map<String, String> values, Set<String> unchanged, String sourceKey) {
        return upsert(lsn, key, values, unchanged, sourceKey, null);
    }

    public static RowChange upsert(long lsn, Map<String, String> key, Map<String, String> values, Set<String> unchanged, String sourceKey,
                                   String rereadKey) {
        boolean partial = unchanged != null && !unchanged.isEmpty();
        return new RowChange(UPSERT, lsn, key, values, partial ? unchanged : null, null, sourceKey, partial ? rereadKey : null);
    }

    /**
     * The source row at {@code rereadKey} changed at {@code lsn}, but the change does not carry it whole and the
     * target cannot complete it (a new key without its unchanged TOAST values, a filter that reads one): the target's
     * older row goes (guarded by {@code lsn}) and the source row is read again.
     */
    public static RowChange reread(long lsn, Map<String, String> key, String sourceKey, String rereadKey) {
        return new RowChange(REREAD, lsn, key, null, null, null, sourceKey, rereadKey);
    }

    public static RowChange delete(long lsn, Map<String, String> key) {
        return delete(lsn, key, null);
    }

    public static RowChange delete(long lsn, Map<String, String> key, String sourceKey) {
        return new RowChange(DELETE, lsn, key, null, null, null, sourceKey, null);
    }

    public static RowChange watermark(long lsn, boolean snapshotDone) {
        return new RowChange(WATERMARK, lsn, null, null, null, snapshotDone, null, null);
    }

    public static RowChange truncate(long lsn) {
        return new RowChange(TRUNCATE, lsn, null, null, null, null, null, null);
    }

    public boolean isUpsert() {
        return UPSERT.equals(op);
    }

    public boolean isDelete() {
        return DELETE.equals(op);
    }

    public boolean isReread() {
        return REREAD.equals(op);
    }

    public boolean isWatermark() {
        return WATERMARK.equals(op);
    }

    public boolean isTruncate() {
        return TRUNCATE.equals(op);
    }

    public Set<String> unchangedOrEmpty() {
        return unchanged == null ? Set.of() : unchanged;
    }
}
