package io.pgbackfill.core.event;

import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * "Read these source rows again", from the sink to the producer on the pipeline's re-read topic
 * ({@link io.pgbackfill.core.spec.PipelineSpec#rereadTopic()}), keyed by the source table:
 * {@code {"table":"public.docs","keys":[{"id":7},{"id":9}]}}. A change without its unchanged TOAST
 * values that the target cannot complete becomes one; the producer turns it into a keyed incremental
 * snapshot, whose rows come back through the stream in order (see ARCHITECTURE.md, "Unchanged TOAST").
 * Asking twice is harmless: a re-read row is one more version of the row, guarded by its LSN.
 *
 * @param table the source table, schema.table
 * @param keys  source primary keys, canonical values as in {@link ChangeEvent#key()}; at most {@link #MAX_KEYS}
 */
public record RereadRequest(String table, List<Map<String, Object>> keys) {
    /** Keys per request: one SQL condition per request, so its length stays well inside what a signal row holds. */
    public static final int MAX_KEYS = 500;

    private static final ObjectWriter WRITER = EventCodec.MAPPER.writerFor(RereadRequest.class);
    private static final ObjectReader READER = EventCodec.MAPPER.readerFor(RereadRequest.class);

    public RereadRequest {
        if (table == null || keys == null || keys.isEmpty() || keys.size() > MAX_KEYS) {
            throw new IllegalArgumentException("a re-read request names a table and 1 to " + MAX_KEYS + " keys");
        }
        keys = List.copyOf(keys);
    }

    /** Requests for {@code keys} (raw topic keys, JSON), {@link #MAX_KEYS} at a time. */
    public static List<RereadRequest> of(String table, List<String> keys) {
        List<RereadRequest> out = new ArrayList<>();
        List<Map<String, Object>> part = new ArrayList<>();
        for (String k : keys) {
            part.add(EventCodec.decodeKey(k.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            if (part.size() == MAX_KEYS) {
                out.add(new RereadRequest(table, part));
                part = new ArrayList<>();
            }
        }
        if (!part.isEmpty()) {
            out.add(new RereadRequest(table, part));
        }
        return out;
    }

    public byte[] encode() {
        try {
            return WRITER.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static RereadRequest decode(byte[] bytes) {
        try {
            return READER.readValue(bytes);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("not a pgbackfill re-read request: " + e.getMessage(), e);
        }
    }
}
