package io.pgbackfill.core.event;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.util.Map;

/**
 * JSON (Jackson) encoding of the event contract. Readers and writers are built once; they are
 * thread-safe. Integers decode as Long (never Integer), so values compare equal whichever way
 * they came in (Debezium or JDBC).
 */
public final class EventCodec {
    /**
     * Jackson refuses strings over 20 million characters by default; a row may carry values up to the record limit
     * ({@link io.pgbackfill.core.kafka.KafkaTopics#MAX_RECORD_BYTES}), so the limit is lifted to that.
     */
    public static final ObjectMapper MAPPER = new ObjectMapper(com.fasterxml.jackson.core.JsonFactory.builder()
            .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder()
                    .maxStringLength(io.pgbackfill.core.kafka.KafkaTopics.MAX_RECORD_BYTES).build())
            .build())
            .enable(DeserializationFeature.USE_LONG_FOR_INTS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS)
            .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    private static final ObjectReader CHANGE_READER = MAPPER.readerFor(ChangeEvent.class);
    private static final ObjectReader ROW_READER = MAPPER.readerFor(RowChange.class);
    private static final ObjectReader MAP_READER = MAPPER.readerFor(Map.class);

    private static final StreamingJson STREAMING = new StreamingJson(MAPPER.getFactory(), MAPPER.readerFor(Object.class));

    private EventCodec() {
    }

    /**
     * Writes a change event with the streaming generator: this runs once per source event on the
     * producer's single thread, where data binding's per-call setup showed in profiles. Same JSON as
     * data binding ({@code MAPPER.writerFor(ChangeEvent.class)}) would write (nulls left out).
     */
    public static byte[] encode(ChangeEvent e) {
        return STREAMING.write(g -> {
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
                g.writeFieldName("unchanged");
                StreamingJson.writeStringSet(g, e.unchanged());
            }
            if (e.snapshotDone() != null) {
                g.writeBooleanField("snapshotDone", e.snapshotDone());
            }
            g.writeEndObject();
        });
    }

    /**
     * The same bytes as {@code MAPPER.writerFor(Map.class)} (keys decide the Kafka partition, so they must not change):
     * common value types directly, anything else through data binding.
     */
    private static void writeMap(JsonGenerator g, Map<String, ?> m) throws IOException {
        g.writeStartObject();
        for (Map.Entry<String, ?> en : m.entrySet()) {
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

    /** Decodes a change event: the streaming fast path, or data binding for anything not in the producer's form. */
    public static ChangeEvent decodeChange(byte[] bytes) {
        try {
            ChangeEvent e = STREAMING.readChange(bytes);
            if (e != null) {
                return e;
            }
        } catch (IOException | RuntimeException ex) {
            // not well-formed: data binding below gives the verdict and its message
        }
        try {
            return CHANGE_READER.readValue(bytes);
        } catch (IOException ex) {
            throw new IllegalArgumentException("not a pgbackfill change event: " + ex.getMessage(), ex);
        }
    }

    /** Writes a row change with the streaming generator; the same JSON as data binding
     * ({@code MAPPER.writerFor(RowChange.class)}) would write (nulls left out). */
    public static byte[] encode(RowChange r) {
        return STREAMING.write(g -> {
            g.writeStartObject();
            if (r.op() != null) {
                g.writeStringField("op", r.op());
            }
            g.writeNumberField("lsn", r.lsn());
            if (r.key() != null) {
                g.writeFieldName("key");
                StreamingJson.writeStringMap(g, r.key());
            }
            if (r.values() != null) {
                g.writeFieldName("values");
                StreamingJson.writeStringMap(g, r.values());
            }
            if (r.unchanged() != null) {
                g.writeFieldName("unchanged");
                StreamingJson.writeStringSet(g, r.unchanged());
            }
            if (r.snapshotDone() != null) {
                g.writeBooleanField("snapshotDone", r.snapshotDone());
            }
            if (r.sourceKey() != null) {
                g.writeStringField("sourceKey", r.sourceKey());
            }
            if (r.rereadKey() != null) {
                g.writeStringField("rereadKey", r.rereadKey());
            }
            g.writeEndObject();
        });
    }

    /** Decodes a row change: the streaming fast path, or data binding for anything not in the transformer's form. */
    public static RowChange decodeRow(byte[] bytes) {
        try {
            RowChange r = STREAMING.readRow(bytes);
            if (r != null) {
                return r;
            }
        } catch (IOException | RuntimeException ex) {
            // not well-formed: data binding below gives the verdict and its message
        }
        try {
            return ROW_READER.readValue(bytes);
        } catch (IOException ex) {
            throw new IllegalArgumentException("not a pgbackfill row change: " + ex.getMessage(), ex);
        }
    }

    /** Keys are JSON objects of the key columns, in key order: equal keys give equal bytes, so Kafka partitions agree. */
    public static byte[] encodeKey(Map<String, ?> key) {
        return STREAMING.write(g -> writeMap(g, key));
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
