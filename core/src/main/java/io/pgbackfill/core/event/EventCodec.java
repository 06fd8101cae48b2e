package io.pgbackfill.core.event;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * JSON (Jackson) encoding of the event contract. Readers and writers are built once; they are
 * thread-safe. Integers decode as Long (never Integer), so values compare equal whichever way
 * they came in (Debezium or JDBC).
 */
public final class EventCodec {
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.USE_LONG_FOR_INTS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS)
            .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    private static final ObjectReader CHANGE_READER = MAPPER.readerFor(ChangeEvent.class);
    private static final ObjectWriter CHANGE_WRITER = MAPPER.writerFor(ChangeEvent.class);
    private static final ObjectReader ROW_READER = MAPPER.readerFor(RowChange.class);
    private static final ObjectWriter ROW_WRITER = MAPPER.writerFor(RowChange.class);
    private static final ObjectReader MAP_READER = MAPPER.readerFor(Map.class);
    private static final ObjectWriter MAP_WRITER = MAPPER.writerFor(Map.class);

    private EventCodec() {
    }

    private static final ThreadLocal<com.fasterxml.jackson.core.util.ByteArrayBuilder> BUFFER =
            ThreadLocal.withInitial(() -> new com.fasterxml.jackson.core.util.ByteArrayBuilder(4096));

    /**
     * Writes a change event with the streaming generator: this runs once per source event on the
     * producer's single thread, where data binding's per-call setup showed in profiles. Same JSON as
     * {@link #CHANGE_WRITER} would write (nulls left out).
     */
    public static byte[] encode(ChangeEvent e) {
        com.fasterxml.jackson.core.util.ByteArrayBuilder buf = BUFFER.get();
        buf.reset();
        try (JsonGenerator g = MAPPER.getFactory().createGenerator(buf)) {
            g.writeStartObject();
            g.writeStringField("op", e.op());
            if (e.table() != null) {
                g.writeStringField("table", e.table());
            }
            g.writeNumberField("lsn", e.lsn());
            g.writeNumberField("tsMs", e.tsMs());
            g.writeBooleanField("snapshot", e.snapshot());
            if (e.key() != null) {
                g.writeFieldName("key");
                writeMap(g, e.key());
            }
            if (e.after() != null) {
                g.writeFieldName("after");
                writeMap(g, e.after());
            }
            if (e.unchanged() != null) {
                g.writeArrayFieldStart("unchanged");
                for (String u : e.unchanged()) {
                    g.writeString(u);
                }
                g.writeEndArray();
            }
            if (e.snapshotDone() != null) {
                g.writeBooleanField("snapshotDone", e.snapshotDone());
            }
            g.writeEndObject();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return buf.toByteArray();
    }

    private static void writeMap(JsonGenerator g, Map<String, Object> m) throws IOException {
        g.writeStartObject();
        for (Map.Entry<String, Object> en : m.entrySet()) {
            g.writeFieldName(en.getKey());
            Object v = en.getValue();
            if (v == null) {
                g.writeNull();
            } else if (v instanceof String s) {
                g.writeString(s);
            } else if (v instanceof Long l) {
                g.writeNumber(l);
            } else if (v instanceof Boolean b) {
                g.writeBoolean(b);
            } else if (v instanceof Double d) {
                g.writeNumber(d);
            } else {
                g.writeObject(v);
            }
        }
        g.writeEndObject();
    }

    public static ChangeEvent decodeChange(byte[] bytes) {
        try {
            return CHANGE_READER.readValue(bytes);
        } catch (IOException ex) {
            throw new IllegalArgumentException("not a pgbackfill change event: " + ex.getMessage(), ex);
        }
    }

    public static byte[] encode(RowChange r) {
        try {
            return ROW_WRITER.writeValueAsBytes(r);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    public static RowChange decodeRow(byte[] bytes) {
        try {
            return ROW_READER.readValue(bytes);
        } catch (IOException ex) {
            throw new IllegalArgumentException("not a pgbackfill row change: " + ex.getMessage(), ex);
        }
    }

    /** Keys are JSON objects of the key columns, in key order: equal keys give equal bytes, so Kafka partitions agree. */
    public static byte[] encodeKey(Map<String, ?> key) {
        try {
            return MAP_WRITER.writeValueAsBytes(key);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> decodeKey(byte[] bytes) {
        try {
            return MAP_READER.readValue(bytes);
        } catch (IOException ex) {
            throw new IllegalArgumentException("not a key: " + ex.getMessage(), ex);
        }
    }
}
