package io.pgbackfill.producer;

import io.pgbackfill.core.event.CanonicalValues;
import io.pgbackfill.core.event.ChangeEvent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Debezium's Connect record to our {@link ChangeEvent}, with values in canonical form. The per-column
 * conversion is worked out once per Connect schema (cached by identity), not per event: on 2 cores the
 * snapshot path is CPU-bound and every per-event lookup shows.
 */
final class StructConverter {
    /** Debezium's value for an unchanged TOASTed column on UPDATE without REPLICA IDENTITY FULL. */
    static final String UNAVAILABLE = "__debezium_unavailable_value";
    private static final byte[] UNAVAILABLE_BYTES = UNAVAILABLE.getBytes(StandardCharsets.UTF_8);

    /**
     * Debezium's encodings of PostgreSQL's infinite timestamps and dates, from the snapshot and from streaming alike
     * (its PostgresValueConverter): pgjdbc's {@code PGStatement.DATE_POSITIVE_INFINITY} / {@code DATE_NEGATIVE_INFINITY}
     * taken as microseconds for timestamp (years 294247 and -290308: read as timestamps they are wrong values, the
     * first even one PostgreSQL accepts), Long.MAX/MIN for nanosecond timestamps. date differs by path: streaming
     * gives two days of year -5877611; the snapshot gives {@code (int)} of the epoch day of that pgjdbc constant as a
     * {@code java.sql.Date} in the JVM's time zone, which is one of two days (UTC-12 to UTC+14) in years -1701532
     * and -1711471. None of these dates exists in PostgreSQL (its dates start in 4713 BC). timestamptz comes as text.
     */
    static final long INFINITY_MICROS = 9223372036825200000L;
    static final long NEGATIVE_INFINITY_MICROS = -9223372036832400000L;
    private static final Set<Integer> INFINITY_DAYS = Set.of(
            -2147472692,                // streaming: -5877611-06-21
            -622191234, -622191233);    // snapshot: -1701532-04-05 or -04-06, by the JVM's time zone
    private static final Set<Integer> NEGATIVE_INFINITY_DAYS = Set.of(
            -2147472691,                // streaming: -5877611-06-22
            -625821272, -625821271);    // snapshot: -1711471-07-22, -07-23

    private interface ValueReader {
        Object read(Object v);
    }

    private record RowReader(Field[] fields, ValueReader[] readers) {
    }

    private final Map<Schema, RowReader> cache = new IdentityHashMap<>();

    /** True for a row of Debezium's initial (blocking, ordered) scan, false for incremental-snapshot reads and changes. */
    static boolean isInitialScan(SourceRecord r) {
        if (!(r.value() instanceof Struct value)) {
            return false;
        }
        Object snap = value.getStruct("source").get("snapshot");
        return snap != null && !"false".equals(snap.toString()) && !"incremental".equals(snap.toString());
    }

    /** Converts a data change record; null for records that are not row changes (heartbeats, schema, etc.). */
    ChangeEvent convert(SourceRecord r) {
        if (!(r.value() instanceof Struct value) || value.schema().field("op") == null) {
            return null;
        }
        String op = value.getString("op");
        Struct source = value.getStruct("source");
        String table = source.getString("schema") + "." + source.getString("table");
        Long lsnObj = source.getInt64("lsn");
        long lsn = lsnObj == null ? 0 : lsnObj;
        Long ts = source.getInt64("ts_ms");
        Object snap = source.get("snapshot");
        boolean snapshot = ChangeEvent.READ.equals(op) || (snap != null && !"false".equals(snap.toString()));
        if (ChangeEvent.TRUNCATE.equals(op)) {
            return new ChangeEvent(op, table, lsn, ts == null ? 0 : ts, false, null, null, null, null);
        }
        Map<String, Object> key = r.key() instanceof Struct k ? row(k, null) : null;
        Map<String, Object> after = null;
        Set<String> unchanged = null;
        if (!ChangeEvent.DELETE.equals(op)) {
            Struct a = value.getStruct("after");
            if (a != null) {
                Set<String> missing = new HashSet<>(2);
                after = row(a, missing);
                unchanged = missing.isEmpty() ? null : missing;
            }
        }
        return new ChangeEvent(op, table, lsn, ts == null ? 0 : ts, snapshot, key, after, unchanged, null);
    }

    private Map<String, Object> row(Struct s, Set<String> unavailable) {
        RowReader rr = cache.computeIfAbsent(s.schema(), StructConverter::rowReaderFor);
        Map<String, Object> out = new LinkedHashMap<>(rr.fields.length * 2);
        for (int i = 0; i < rr.fields.length; i++) {
            Field f = rr.fields[i];
            Object v = s.get(f);
            if (v != null && unavailable != null && isUnavailable(v)) {
                unavailable.add(f.name());
                continue;
            }
            out.put(f.name(), v == null ? null : rr.readers[i].read(v));
        }
        return out;
    }

    private static boolean isUnavailable(Object v) {
        if (v instanceof String s) {
            return s.length() == UNAVAILABLE.length() && s.equals(UNAVAILABLE);
        }
        if (v instanceof ByteBuffer b) {
            return b.remaining() == UNAVAILABLE_BYTES.length && b.duplicate().equals(ByteBuffer.wrap(UNAVAILABLE_BYTES));
        }
        if (v instanceof byte[] b) {
            return Arrays.equals(b, UNAVAILABLE_BYTES);
        }
        if (v instanceof List<?> l) {
            return l.size() == 1 && UNAVAILABLE.equals(String.valueOf(l.get(0)));
        }
        return false;
    }

    private static RowReader rowReaderFor(Schema schema) {
        List<Field> fields = schema.fields();
        ValueReader[] readers = new ValueReader[fields.size()];
        for (int i = 0; i < readers.length; i++) {
            readers[i] = valueReaderFor(fields.get(i).schema());
        }
        return new RowReader(fields.toArray(new Field[0]), readers);
    }

    static String timestamp(long micros) {
        if (micros == INFINITY_MICROS) {
            return CanonicalValues.INFINITY;
        }
        if (micros == NEGATIVE_INFINITY_MICROS) {
            return CanonicalValues.NEGATIVE_INFINITY;
        }
        return CanonicalValues.timestampFromMicros(micros);
    }

    static String date(int epochDay) {
        if (INFINITY_DAYS.contains(epochDay)) {
            return CanonicalValues.INFINITY;
        }
        if (NEGATIVE_INFINITY_DAYS.contains(epochDay)) {
            return CanonicalValues.NEGATIVE_INFINITY;
        }
        return CanonicalValues.date(LocalDate.ofEpochDay(epochDay));
    }

    private static ValueReader valueReaderFor(Schema s) {
        String name = s.name() == null ? "" : s.name();
        switch (name) {
            case "io.debezium.time.ZonedTimestamp":
                return v -> CanonicalValues.timestamptz((String) v);
            case "io.debezium.time.MicroTimestamp":
                return v -> timestamp((Long) v);
            case "io.debezium.time.Timestamp":
                return v -> timestamp((Long) v * 1000L);
            case "io.debezium.time.NanoTimestamp":
                return v -> (Long) v == Long.MAX_VALUE ? CanonicalValues.INFINITY
                        : (Long) v == Long.MIN_VALUE ? CanonicalValues.NEGATIVE_INFINITY : timestamp((Long) v / 1000L);
            case "io.debezium.time.Date":
                return v -> date((Integer) v);
            case "io.debezium.time.MicroTime":
                return v -> CanonicalValues.time(LocalTime.ofNanoOfDay((Long) v * 1000L));
            case "io.debezium.time.Time":
                return v -> CanonicalValues.time(LocalTime.ofNanoOfDay((Integer) v * 1_000_000L));
            default:
                break;
        }
        return switch (s.type()) {
            case STRING, BOOLEAN, INT64 -> v -> v;
            case INT8, INT16, INT32 -> v -> ((Number) v).longValue();
            case FLOAT32 -> v -> CanonicalValues.dbl(((Float) v).doubleValue());
            case FLOAT64 -> v -> CanonicalValues.dbl((Double) v);
            case BYTES -> CanonicalValues::normalize;
            case ARRAY -> {
                ValueReader elem = valueReaderFor(s.valueSchema());
                yield v -> {
                    List<?> l = (List<?>) v;
                    List<Object> out = new ArrayList<>(l.size());
                    for (Object o : l) {
                        out.add(o == null ? null : elem.read(o));
                    }
                    return out;
                };
            }
            default -> Object::toString;
        };
    }
}
