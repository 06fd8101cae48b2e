package io.pgbackfill.sink;

import io.pgbackfill.core.event.RowChange;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Changes read from Kafka, not yet written: per target table, the latest change per key (Debezium's
 * "reduction buffer": many updates of one row cost one write), the highest watermark per partition,
 * and the offsets to commit once the batch is in the database.
 */
public final class SinkBatch {
    /** A change and where it came from (for the dead-letter topic). */
    public record Entry(RowChange change, byte[] key, byte[] value, String topic, int partition, long offset) {
    }

    /** A partition's watermark: the source is fully applied up to {@code lsn}. */
    public record Watermark(long lsn, boolean snapshotDone) {
    }

    private final Map<TargetTable, Map<String, Entry>> rows = new LinkedHashMap<>();
    private final Map<TargetTable, Map<Integer, Watermark>> watermarks = new LinkedHashMap<>();
    private final Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    private final Map<TopicPartition, Long> firstOffsets = new HashMap<>();
    private int size;
    private long bytes;
    private long firstAddedAtMs;

    /** Adds a change; a later change of the same key replaces the earlier unless its LSN is older. */
    public void add(TargetTable table, Entry e, long nowMs) {
        if (size == 0 && offsets.isEmpty()) {
            firstAddedAtMs = nowMs;
        }
        // Counted as read, replaced entries included: what the consumer handed over is what the heap holds until the
        // batch is written (the record's bytes for the dead-letter topic, its decoded values about as much again).
        bytes += e.value() == null ? 0 : e.value().length;
        TopicPartition tp = new TopicPartition(e.topic(), e.partition());
        offsets.put(tp, new OffsetAndMetadata(e.offset() + 1));
        firstOffsets.putIfAbsent(tp, e.offset());
        RowChange rc = e.change();
        if (rc.isWatermark()) {
            watermarks.computeIfAbsent(table, t -> new HashMap<>())
                    .merge(e.partition(), new Watermark(rc.lsn(), Boolean.TRUE.equals(rc.snapshotDone())),
                            (a, b) -> b.lsn() >= a.lsn() ? b : a);
            return;
        }
        Map<String, Entry> byKey = rows.computeIfAbsent(table, t -> new LinkedHashMap<>());
        String k = keyOf(rc);
        Entry old = byKey.get(k);
        if (old == null) {
            byKey.put(k, e);
            size++;
        } else if (rc.lsn() >= old.change().lsn()) {
            byKey.put(k, new Entry(merge(old.change(), rc), e.key(), e.value(), e.topic(), e.partition(), e.offset()));
        }
    }

    /**
     * An update that could not see some TOASTed columns keeps them from the earlier change in this batch,
     * which the target has not seen yet. After a re-read (the target's row is going, the source row is read
     * again) such an update has nothing to keep them from: it stays a re-read, at its own LSN.
     */
    static RowChange merge(RowChange older, RowChange newer) {
        if (!newer.isUpsert() || newer.unchanged() == null) {
            return newer;
        }
        if (older.isReread()) {
            return RowChange.reread(newer.lsn(), newer.key(), newer.sourceKey(), newer.rereadKey());
        }
        if (!older.isUpsert()) {
            return newer;
        }
        Map<String, String> values = new LinkedHashMap<>(newer.values());
        Set<String> stillUnchanged = new LinkedHashSet<>();
        for (String c : newer.unchanged()) {
            if (older.unchangedOrEmpty().contains(c)) {
                stillUnchanged.add(c);
            } else {
                values.put(c, older.values().get(c));
            }
        }
        return RowChange.upsert(newer.lsn(), newer.key(), values, stillUnchanged, newer.sourceKey(), newer.rereadKey());
    }

    /**
     * The reduction key: each key column's name and value, length-prefixed. {@code Map.toString()} is not
     * enough: with two text key columns, {a="x, b=y", b="z"} and {a="x", b="y, b=z"} both print
     * {a=x, b=y, b=z}, and one of the two rows would be dropped as an "older version" of the other.
     * A tracked change (see {@link TargetTable}) is also told apart by its source key: two source rows that
     * meet in one target key are never merged, {@link BatchWriter} reports the second as a duplicate.
     */
    static String keyOf(RowChange rc) {
        String target = targetKeyOf(rc);
        return rc.sourceKey() == null ? target : rc.sourceKey().length() + ":" + rc.sourceKey() + target;
    }

    /** The target key alone, length-prefixed as in {@link #keyOf}. */
    static String targetKeyOf(RowChange rc) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> c : rc.key().entrySet()) {
            sb.append(c.getKey().length()).append(':').append(c.getKey());
            String v = c.getValue();
            if (v == null) {
                sb.append("-1:");
            } else {
                sb.append(v.length()).append(':').append(v);
            }
        }
        return sb.toString();
    }

    public Map<TargetTable, Map<String, Entry>> rows() {
        return rows;
    }

    public Map<TargetTable, Map<Integer, Watermark>> watermarks() {
        return watermarks;
    }

    public Map<TopicPartition, OffsetAndMetadata> offsets() {
        return offsets;
    }

    /** Where this batch starts in each partition: to read it again if it is dropped. */
    public Map<TopicPartition, Long> firstOffsets() {
        return firstOffsets;
    }

    /** Distinct rows (after reduction). */
    public int size() {
        return size;
    }

    /** Bytes of the row changes added (as read from Kafka): a batch closes on rows or bytes. */
    public long bytes() {
        return bytes;
    }

    public boolean isEmpty() {
        return offsets.isEmpty();
    }

    public long ageMs(long nowMs) {
        return isEmpty() ? 0 : nowMs - firstAddedAtMs;
    }
}
