package io.pgbackfill.ops.rehearse;

import io.pgbackfill.core.event.ChangeEvent;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.event.RowChange;
import java.util.Map;
import java.util.Set;

/**
 * The JSON the pipeline spends on each row between its stages, done for real with the pipeline's own
 * codec: the producer encodes a snapshot read, the transformer decodes it and encodes the mapped row,
 * the sink decodes that. Kafka's own I/O is not in it (the rehearsal creates no topic).
 */
final class EventRoundTrip {
    private final String table;
    private final EventSizes sizes = new EventSizes();

    EventRoundTrip(String table) {
        this.table = table;
    }

    /** Nanoseconds spent on one row's events. */
    long nanos(Map<String, Object> sourceKey, Map<String, Object> row, Map<String, String> targetKey, Map<String, String> values) {
        long t0 = System.nanoTime();
        ChangeEvent read = new ChangeEvent(ChangeEvent.READ, table, 1, 0, true, sourceKey, row, null, null);
        byte[] raw = EventCodec.encode(read);
        EventCodec.decodeChange(raw);
        byte[] mapped = EventCodec.encode(RowChange.upsert(1, targetKey, values, Set.of()));
        EventCodec.decodeRow(mapped);
        long nanos = System.nanoTime() - t0;
        sizes.observe(raw.length, mapped.length);
        return nanos;
    }

    /** Sizes of the events encoded so far: the memory estimate's input. */
    EventSizes sizes() {
        return sizes;
    }
}
