package io.pgbackfill.core.event;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The event contract read and written with Jackson's streaming parser and generator instead of data binding.
 * Every event passes through here once or twice per stage (transformer: read + write, sink: read), and binding a
 * record through its property-based creator showed as the largest single cost of those stages in profiles.
 *
 * <p>Reading is a fast path for the shape our own stages write: the fields of the contract, scalar values,
 * anything else skipped or handed to data binding. When the input is not that shape (a value of an unexpected
 * type, say, which binding would coerce), {@link #readChange}/{@link #readRow} return null and {@link EventCodec}
 * decodes the bytes with data binding, so odd input is judged exactly as before.
 */
final class StreamingJson {
    private static final ThreadLocal<ByteArrayBuilder> BUFFER = ThreadLocal.withInitial(() -> new ByteArrayBuilder(4096));

    private final JsonFactory factory;
    private final ObjectReader untyped;

    StreamingJson(JsonFactory factory, ObjectReader untyped) {
        this.factory = factory;
        this.untyped = untyped;
    }

    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    /** Writes one JSON value into a per-thread buffer and returns a copy of its bytes. */
    byte[] write(Body body) {
        ByteArrayBuilder buf = BUFFER.get();
        buf.reset();
        try (JsonGenerator g = factory.createGenerator(buf)) {
            body.write(g);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return buf.toByteArray();
    }

    /** The change event in {@code bytes}, or null when it is not in the form the producer writes. */
    ChangeEvent readChange(byte[] bytes) throws IOException {
        try (JsonParser p = factory.createParser(bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            String op = null;
            String table = null;
            long lsn = 0;
            long tsMs = 0;
            boolean snapshot = false;
            Map<String, Object> key = null;
            Map<String, Object> after = null;
            Set<String> unchanged = null;
            Boolean snapshotDone = null;
            int seen = 0;
            for (String field = p.nextFieldName(); field != null; field = p.nextFieldName()) {
                JsonToken t = p.nextToken();
                switch (field) {
                    case "op" -> {
                        seen = once(seen, 0);
                        op = textOrNull(p, t);
                    }
                    case "table" -> {
                        seen = once(seen, 1);
                        table = textOrNull(p, t);
                    }
                    case "lsn" -> {
                        seen = once(seen, 2);
                        lsn = longValue(p, t);
                    }
                    case "tsMs" -> {
                        seen = once(seen, 3);
                        tsMs = longValue(p, t);
                    }
                    case "snapshot" -> {
                        seen = once(seen, 4);
                        snapshot = booleanValue(t);
                    }
                    case "key" -> {
                        seen = once(seen, 5);
                        key = objectMap(p, t);
                    }
                    case "after" -> {
                        seen = once(seen, 6);
                        after = objectMap(p, t);
                    }
                    case "unchanged" -> {
                        seen = once(seen, 7);
                        unchanged = stringSet(p, t);
                    }
                    case "snapshotDone" -> {
                        seen = once(seen, 8);
                        snapshotDone = t == JsonToken.VALUE_NULL ? null : booleanValue(t);
                    }
                    default -> p.skipChildren();
                }
            }
            return new ChangeEvent(op, table, lsn, tsMs, snapshot, key, after, unchanged, snapshotDone);
        } catch (NotFastPath e) {
            return null;
        }
    }

    /** The row change in {@code bytes}, or null when it is not in the form the transformer writes. */
    RowChange readRow(byte[] bytes) throws IOException {
        try (JsonParser p = factory.createParser(bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            String op = null;
            long lsn = 0;
            Map<String, String> key = null;
            Map<String, String> values = null;
            Set<String> unchanged = null;
            Boolean snapshotDone = null;
            String sourceKey = null;
            String rereadKey = null;
            int seen = 0;
            for (String field = p.nextFieldName(); field != null; field = p.nextFieldName()) {
                JsonToken t = p.nextToken();
                switch (field) {
                    case "op" -> {
                        seen = once(seen, 0);
                        op = textOrNull(p, t);
                    }
                    case "lsn" -> {
                        seen = once(seen, 1);
                        lsn = longValue(p, t);
                    }
                    case "sourceKey" -> {
                        seen = once(seen, 6);
                        sourceKey = textOrNull(p, t);
                    }
                    case "rereadKey" -> {
                        seen = once(seen, 7);
                        rereadKey = textOrNull(p, t);
                    }
                    case "key" -> {
                        seen = once(seen, 2);
                        key = stringMap(p, t);
                    }
                    case "values" -> {
                        seen = once(seen, 3);
                        values = stringMap(p, t);
                    }
                    case "unchanged" -> {
                        seen = once(seen, 4);
                        unchanged = stringSet(p, t);
                    }
                    case "snapshotDone" -> {
                        seen = once(seen, 5);
                        snapshotDone = t == JsonToken.VALUE_NULL ? null : booleanValue(t);
                    }
                    default -> p.skipChildren();
                }
            }
            return new RowChange(op, lsn, key, values, unchanged, snapshotDone, sourceKey, rereadKey);
        } catch (NotFastPath e) {
            return null;
        }
    }

    /** A map of strings (null allowed); written in the map's order. */
    static void writeStringMap(JsonGenerator g, Map<String, String> m) throws IOException {
        g.writeStartObject();
        for (Map.Entry<String, String> en : m.entrySet()) {
            g.writeFieldName(en.getKey());
            if (en.getValue() == null) {
                g.writeNull();
            } else {
                g.writeString(en.getValue());
            }
        }
        g.writeEndObject();
    }

    static void writeStringSet(JsonGenerator g, Set<String> s) throws IOException {
        g.writeStartArray();
        for (String v : s) {
            g.writeString(v);
        }
        g.writeEndArray();
    }

    /** Marks field number {@code bit} as read; a field given twice goes to data binding (which one wins is its rule). */
    private static int once(int seen, int bit) {
        if ((seen & (1 << bit)) != 0) {
            throw NotFastPath.INSTANCE;
        }
        return seen | (1 << bit);
    }

    private static String textOrNull(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (t != JsonToken.VALUE_STRING) {
            throw NotFastPath.INSTANCE;
        }
        return p.getText();
    }

    private static long longValue(JsonParser p, JsonToken t) throws IOException {
        if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            throw NotFastPath.INSTANCE;
        }
        return p.getLongValue();
    }

    private static boolean booleanValue(JsonToken t) {
        if (t == JsonToken.VALUE_TRUE) {
            return true;
        }
        if (t == JsonToken.VALUE_FALSE) {
            return false;
        }
        throw NotFastPath.INSTANCE;
    }

    /** Canonical values: strings, longs, booleans and nulls read here, anything else (doubles, lists) as data binding reads it. */
    private Map<String, Object> objectMap(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (t != JsonToken.START_OBJECT) {
            throw NotFastPath.INSTANCE;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        for (String name = p.nextFieldName(); name != null; name = p.nextFieldName()) {
            JsonToken v = p.nextToken();
            m.put(name, switch (v) {
                case VALUE_STRING -> p.getText();
                case VALUE_NULL -> null;
                case VALUE_TRUE -> Boolean.TRUE;
                case VALUE_FALSE -> Boolean.FALSE;
                case VALUE_NUMBER_INT -> longValue(p, v); // beyond a long, data binding refuses the event (USE_LONG_FOR_INTS)
                default -> untyped.readValue(p);
            });
        }
        return m;
    }

    private static Map<String, String> stringMap(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (t != JsonToken.START_OBJECT) {
            throw NotFastPath.INSTANCE;
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (String name = p.nextFieldName(); name != null; name = p.nextFieldName()) {
            m.put(name, textOrNull(p, p.nextToken()));
        }
        return m;
    }

    private static Set<String> stringSet(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (t != JsonToken.START_ARRAY) {
            throw NotFastPath.INSTANCE;
        }
        Set<String> s = new HashSet<>();
        for (JsonToken v = p.nextToken(); v != JsonToken.END_ARRAY; v = p.nextToken()) {
            if (v != JsonToken.VALUE_STRING) {
                throw NotFastPath.INSTANCE;
            }
            s.add(p.getText());
        }
        return s;
    }

    /** The input is valid JSON but not in the exact shape of the fast path: decode it with data binding instead. */
    private static final class NotFastPath extends RuntimeException {
        static final NotFastPath INSTANCE = new NotFastPath();

        private NotFastPath() {
            super(null, null, false, false);
        }
    }
}
