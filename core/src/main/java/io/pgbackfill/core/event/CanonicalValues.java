package io.pgbackfill.core.event;

import io.pgbackfill.core.catalog.ColumnType;
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The one representation of source values that the transform sees, whether a row came from
 * Debezium (producer) or from a JDBC read (verify, rehearse): the same row must give the same
 * input, or verification would compare apples with oranges.
 *
 * <ul>
 *   <li>integers: Long; real/double: Double, or the strings NaN, Infinity, -Infinity</li>
 *   <li>numeric: String, plain notation; boolean: Boolean</li>
 *   <li>date: yyyy-MM-dd; timestamp: yyyy-MM-ddTHH:mm:ss.SSSSSS; timestamptz: the same in UTC with Z;
 *       PostgreSQL's infinite dates and timestamps: its own text, {@code infinity} and {@code -infinity}</li>
 *   <li>bytea: \x + hex (PostgreSQL's text form); arrays: List; everything else: its text</li>
 * </ul>
 */
public final class CanonicalValues {
    private static final DateTimeFormatter LOCAL_TS = new DateTimeFormatterBuilder()
            .appendPattern("uuuu-MM-dd'T'HH:mm:ss").appendFraction(ChronoField.MICRO_OF_SECOND, 6, 6, true).toFormatter();
    private static final DateTimeFormatter TIME = new DateTimeFormatterBuilder()
            .appendPattern("HH:mm:ss").appendFraction(ChronoField.MICRO_OF_SECOND, 6, 6, true).toFormatter();

    /** The canonical form of an infinite date, timestamp or timestamptz (PostgreSQL's text, which it reads back). */
    public static final String INFINITY = "infinity";
    public static final String NEGATIVE_INFINITY = "-infinity";

    private CanonicalValues() {
    }

    public static String timestamptz(Instant i) {
        return LOCAL_TS.format(LocalDateTime.ofInstant(i, ZoneOffset.UTC)) + "Z";
    }

    public static String timestamptzFromMicros(long micros) {
        return timestamptz(Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L));
    }

    /** Re-formats an ISO offset timestamp (Debezium's ZonedTimestamp) into the canonical UTC form. */
    public static String timestamptz(String iso) {
        String fast = utcFastPath(iso);
        if (fast != null) {
            return fast;
        }
        try {
            return timestamptz(OffsetDateTime.parse(iso).toInstant());
        } catch (RuntimeException e) {
            return iso; // infinity and friends pass through as text
        }
    }

    /**
     * PostgreSQL's own text of a timestamptz in a session with {@code TimeZone = 'UTC'} and {@code DateStyle = ISO}
     * ("yyyy-MM-dd HH:mm:ss[.ffffff]+00") in canonical form without a date parser, or null for anything else (BC
     * dates, years past 9999, infinity, another zone): the caller then reads the value the slow way.
     */
    public static String timestamptzFromUtcText(String s) {
        int n = s.length();
        if (n < 22 || n > 29 || s.charAt(4) != '-' || s.charAt(10) != ' ' || s.charAt(n - 3) != '+' || s.charAt(n - 2) != '0'
                || s.charAt(n - 1) != '0') {
            return null;
        }
        StringBuilder sb = new StringBuilder(27).append(s, 0, 10).append('T').append(s, 11, 19);
        if (n == 22) {
            return sb.append(".000000Z").toString();
        }
        if (s.charAt(19) != '.') {
            return null;
        }
        sb.append(s, 19, n - 3);
        for (int digits = n - 23; digits < 6; digits++) {
            sb.append('0');
        }
        return sb.append('Z').toString();
    }

    /**
     * The common case without a date parser (it showed in profiles): "yyyy-MM-ddTHH:mm:ss[.f…]Z" only needs
     * its fraction padded to six digits. Anything else (offsets, long years, infinity) takes the slow path.
     */
    private static String utcFastPath(String s) {
        int n = s.length();
        if (n < 20 || s.charAt(4) != '-' || s.charAt(10) != 'T' || s.charAt(n - 1) != 'Z') {
            return null;
        }
        if (n == 20) {
            return s.substring(0, 19) + ".000000Z";
        }
        if (s.charAt(19) != '.' || n > 30) {
            return null;
        }
        int digits = n - 21;
        if (digits == 6) {
            return s;
        }
        StringBuilder sb = new StringBuilder(27).append(s, 0, n - 1);
        for (int i = digits; i < 6; i++) {
            sb.append('0');
        }
        if (digits > 6) {
            sb.setLength(26); // nanoseconds cannot come from PostgreSQL; truncate like the slow path
        }
        return sb.append('Z').toString();
    }

    /** pgjdbc reads {@code infinity} and {@code -infinity} as {@link LocalDateTime#MAX} and {@link LocalDateTime#MIN}. */
    public static String timestamp(LocalDateTime t) {
        if (t.equals(LocalDateTime.MAX)) {
            return INFINITY;
        }
        if (t.equals(LocalDateTime.MIN)) {
            return NEGATIVE_INFINITY;
        }
        return LOCAL_TS.format(t);
    }

    public static String timestampFromMicros(long micros) {
        return timestamp(LocalDateTime.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), (int) (Math.floorMod(micros, 1_000_000L) * 1000L), ZoneOffset.UTC));
    }

    /** pgjdbc reads {@code infinity} and {@code -infinity} as {@link LocalDate#MAX} and {@link LocalDate#MIN}. */
    public static String date(LocalDate d) {
        if (d.equals(LocalDate.MAX)) {
            return INFINITY;
        }
        if (d.equals(LocalDate.MIN)) {
            return NEGATIVE_INFINITY;
        }
        return d.toString();
    }

    public static String time(LocalTime t) {
        return TIME.format(t);
    }

    public static String bytea(byte[] b) {
        return "\\x" + HexFormat.of().formatHex(b);
    }

    public static Object dbl(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        return d;
    }

    /** Reads column {@code i} of a JDBC row into the canonical form for its type. */
    public static Object fromJdbc(ResultSet rs, int i, ColumnType type) throws SQLException {
        return switch (type.kind()) {
            case INT2, INT4, INT8 -> {
                long v = rs.getLong(i);
                yield rs.wasNull() ? null : v;
            }
            case FLOAT4, FLOAT8 -> {
                double v = rs.getDouble(i);
                yield rs.wasNull() ? null : dbl(type.kind() == ColumnType.Kind.FLOAT4 ? (double) (float) v : v);
            }
            case NUMERIC -> {
                String s = rs.getString(i);
                yield s == null ? null : numeric(s);
            }
            case BOOL -> {
                boolean v = rs.getBoolean(i);
                yield rs.wasNull() ? null : v;
            }
            case DATE -> {
                String s = rs.getString(i);
                if (s == null) {
                    yield null;
                }
                try {
                    yield date(rs.getObject(i, LocalDate.class));
                } catch (SQLException | RuntimeException e) {
                    yield s;
                }
            }
            case TIMESTAMP -> {
                String s = rs.getString(i);
                if (s == null) {
                    yield null;
                }
                try {
                    yield timestamp(rs.getObject(i, LocalDateTime.class));
                } catch (SQLException | RuntimeException e) {
                    yield s;
                }
            }
            case TIMESTAMPTZ -> {
                String s = rs.getString(i);
                if (s == null) {
                    yield null;
                }
                try {
                    OffsetDateTime t = rs.getObject(i, OffsetDateTime.class);
                    yield t.equals(OffsetDateTime.MAX) ? INFINITY : t.equals(OffsetDateTime.MIN) ? NEGATIVE_INFINITY : timestamptz(t.toInstant());
                } catch (SQLException | RuntimeException e) {
                    yield s;
                }
            }
            case TIME -> {
                String s = rs.getString(i);
                yield s == null ? null : time(rs.getObject(i, LocalTime.class));
            }
            case BYTEA -> {
                byte[] b = rs.getBytes(i);
                yield b == null ? null : bytea(b);
            }
            case ARRAY -> {
                Array a = rs.getArray(i);
                yield a == null ? null : list((Object[]) a.getArray());
            }
            default -> rs.getString(i);
        };
    }

    /** numeric in plain notation, as Debezium's decimal.handling.mode=string gives it. */
    public static String numeric(String s) {
        try {
            return new BigDecimal(s).toPlainString();
        } catch (NumberFormatException e) {
            return s; // NaN, Infinity
        }
    }

    private static List<Object> list(Object[] items) {
        List<Object> out = new ArrayList<>(items.length);
        for (Object o : items) {
            out.add(normalize(o));
        }
        return out;
    }

    /** Normalizes a plain Java value (array element, Debezium primitive) to the canonical form. */
    public static Object normalize(Object o) {
        if (o == null || o instanceof String || o instanceof Long || o instanceof Boolean) {
            return o;
        }
        if (o instanceof Integer || o instanceof Short || o instanceof Byte) {
            return ((Number) o).longValue();
        }
        if (o instanceof Double d) {
            return dbl(d);
        }
        if (o instanceof Float f) {
            return dbl(f.doubleValue());
        }
        if (o instanceof BigDecimal b) {
            return b.toPlainString();
        }
        if (o instanceof byte[] b) {
            return bytea(b);
        }
        if (o instanceof java.nio.ByteBuffer bb) {
            byte[] b = new byte[bb.remaining()];
            bb.duplicate().get(b);
            return bytea(b);
        }
        if (o instanceof Object[] arr) {
            return list(arr);
        }
        if (o instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            for (Object e : l) {
                out.add(normalize(e));
            }
            return out;
        }
        return o.toString();
    }
}
