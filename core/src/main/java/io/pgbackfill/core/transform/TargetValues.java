package io.pgbackfill.core.transform;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.catalog.ColumnType;
import io.pgbackfill.core.event.CanonicalValues;
import io.pgbackfill.core.event.EventCodec;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Turns a computed value into the SQL text the sink writes (always cast to the target column's type
 * in SQL), and checks it against that type first, so a value the database would reject is caught in
 * the transformer, named, and sent to the DLQ with its reason instead of failing a whole batch.
 */
public final class TargetValues {
    /** What a date or timestamp must look like before PostgreSQL parses it; {@link #dateLike} decides it, tests compare. */
    static final Pattern DATE_LIKE = Pattern.compile("-?\\d{1,7}-\\d{1,2}-\\d{1,2}.*");

    private TargetValues() {
    }

    /** The text form of a computed value (null for SQL NULL). */
    public static String text(Object v) {
        if (CelNulls.isNull(v)) {
            return null;
        }
        if (v instanceof String s) {
            return s;
        }
        if (v instanceof Double d) {
            Object c = CanonicalValues.dbl(d);
            if (c instanceof String s) {
                return s;
            }
            return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString(d.longValue()) : Double.toString(d);
        }
        if (v instanceof Number || v instanceof Boolean) {
            return v.toString();
        }
        if (v instanceof com.google.protobuf.ByteString b) {
            return CanonicalValues.bytea(b.toByteArray());
        }
        if (v instanceof byte[] b) {
            return CanonicalValues.bytea(b);
        }
        if (v instanceof com.google.protobuf.Timestamp t) {
            return CanonicalValues.timestamptz(java.time.Instant.ofEpochSecond(t.getSeconds(), t.getNanos()));
        }
        if (v instanceof java.time.Instant i) {
            return CanonicalValues.timestamptz(i);
        }
        if (v instanceof Map<?, ?> || v instanceof List<?>) {
            try {
                return EventCodec.MAPPER.writeValueAsString(v);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("value cannot be written as JSON", e);
            }
        }
        return v.toString();
    }

    /** Converts and checks one value for {@code column}; throws with a reason the DLQ shows. */
    public static String convert(Object value, Column column) throws RowRejected {
        String name = column.name();
        ColumnType type = column.type();
        if (CelNulls.isNull(value)) {
            if (column.notNull()) {
                throw new RowRejected(RowRejected.Reason.NOT_NULL, name, "NULL into NOT NULL column " + name);
            }
            return null;
        }
        if (type.kind() == ColumnType.Kind.ARRAY && value instanceof List<?> l) {
            return arrayLiteral(l);
        }
        String s;
        try {
            s = text(value);
        } catch (IllegalArgumentException e) {
            throw new RowRejected(RowRejected.Reason.CAST_FAILURE, name, name + ": " + e.getMessage());
        }
        switch (type.kind()) {
            case INT2, INT4, INT8 -> {
                long v;
                try {
                    v = Long.parseLong(s.strip());
                } catch (NumberFormatException e) {
                    if (s.strip().matches("-?\\d+")) {
                        throw new RowRejected(RowRejected.Reason.NUMERIC_OVERFLOW, name, "value " + CelFunctions.clip(s) + " out of range for " + type.sql() + " column " + name);
                    }
                    throw new RowRejected(RowRejected.Reason.CAST_FAILURE, name, "cannot cast '" + CelFunctions.clip(s) + "' to " + type.sql() + " for column " + name);
                }
                long max = type.kind() == ColumnType.Kind.INT2 ? Short.MAX_VALUE : type.kind() == ColumnType.Kind.INT4 ? Integer.MAX_VALUE : Long.MAX_VALUE;
                long min = type.kind() == ColumnType.Kind.INT2 ? Short.MIN_VALUE : type.kind() == ColumnType.Kind.INT4 ? Integer.MIN_VALUE : Long.MIN_VALUE;
                if (v > max || v < min) {
                    throw new RowRejected(RowRejected.Reason.NUMERIC_OVERFLOW, name, "value " + v + " out of range for " + type.sql() + " column " + name);
                }
                return Long.toString(v);
            }
            case NUMERIC -> {
                if (s.equals("NaN")) {
                    return s;
                }
                BigDecimal d;
                try {
                    d = new BigDecimal(s.strip());
                } catch (NumberFormatException e) {
                    throw new RowRejected(RowRejected.Reason.CAST_FAILURE, name, "cannot cast '" + CelFunctions.clip(s) + "' to " + type.sql() + " for column " + name);
                }
                if (type.precision() > 0) {
                    d = d.setScale(type.scale(), RoundingMode.HALF_UP);
                    if (d.precision() - d.scale() > type.precision() - type.scale()) {
                        throw new RowRejected(RowRejected.Reason.NUMERIC_OVERFLOW, name, "value " + CelFunctions.clip(s) + " overflows " + type.sql() + " column " + name);
                    }
                }
                return d.toPlainString();
            }
            case FLOAT4, FLOAT8 -> {
                try {
                    Double.parseDouble(s.strip());
                } catch (NumberFormatException e) {
                    if (!s.matches("(?i)-?(nan|infinity|inf)")) {
                        throw new RowRejected(RowRejected.Reason.CAST_FAILURE, name, "cannot cast '" + CelFunctions.clip(s) + "' to " + type.sql() + " for column " + name);
                    }
                }
                return s;
            }
            case BOOL -> {
                switch (s.strip().toLowerCase(Locale.ROOT)) {
                    case "t", "true", "y", "yes", "on", "1", "f", "false", "n", "no", "off", "0" -> {
                        return s;
                    }
                    default -> throw new RowRejected(RowRejected.Reason.CAST_FAILURE, name, "cannot cast '" + CelFunctions.clip(s) + "' to boolean for column " + name);
                }
            }
            case VARCHAR, CHAR -> {
                checkText(s, name);
                if (type.length() > 0 && s.codePointCount(0, s.length()) > type.length()) {
                    throw new RowRejected(RowRejected.Reason.VALUE_TOO_LONG, name, "value of " + s.codePointCount(0, s.length()) + " characters too long for " + type.sql() + " column " + name);
                }
                return s;
            }
            case TEXT -> {
                checkText(s, name);
                return s;
            }
            case UUID -> {
                try {
                    UUID.fromString(s.strip());
                } catch (IllegalArgumentException e) {
                    throw new RowRejected(RowRejected.Reason.CAST_FAILURE, name, "cannot cast '" + CelFunctions.clip(s) + "' to uuid for column " + name);
                }
                return s;
            }
            case DATE, TIMESTAMP, TIMESTAMPTZ -> {
                try {
                    return type.kind() == ColumnType.Kind.DATE ? checkDate(s) : checkTimestamp(s);
                } catch (IllegalArgumentException e) {
                    throw new RowRejected(RowRejected.Reason.CAST_FAILURE, name, e.getMessage() + " for column " + name);
                }
            }
            case JSON, JSONB -> {
                try {
                    EventCodec.MAPPER.readTree(s);
                } catch (JsonProcessingException e) {
                    throw new RowRejected(RowRejected.Reason.CAST_FAILURE, name, "not valid JSON for column " + name);
                }
                checkText(s, name);
                return s;
            }
            default -> {
                return s;
            }
        }
    }

    private static void checkText(String s, String column) throws RowRejected {
        if (s.indexOf('\u0000') >= 0) {
            throw new RowRejected(RowRejected.Reason.INVALID_TEXT, column, "text with a NUL character cannot be stored in column " + column);
        }
    }

    static String checkDate(String s) {
        if (dateLike(s) || s.equalsIgnoreCase("infinity") || s.equalsIgnoreCase("-infinity") || s.equalsIgnoreCase("epoch")) {
            return s;
        }
        throw new IllegalArgumentException("cannot cast '" + CelFunctions.clip(s) + "' to a date");
    }

    static String checkTimestamp(String s) {
        if (dateLike(s) || s.equalsIgnoreCase("infinity") || s.equalsIgnoreCase("-infinity") || s.equalsIgnoreCase("epoch")) {
            return s;
        }
        throw new IllegalArgumentException("cannot cast '" + CelFunctions.clip(s) + "' to a timestamp");
    }

    /**
     * {@link #DATE_LIKE} without a regex engine: this runs for every date and timestamp of every row, and the
     * matcher showed in profiles. Same language: optional '-', 1-7 digits, '-', 1-2 digits, '-', 1-2 digits,
     * then anything but a line terminator (what '.' excludes).
     */
    static boolean dateLike(String s) {
        int i = s.startsWith("-") ? 1 : 0;
        i = digits(s, i, 7);
        if (i < 0 || i >= s.length() || s.charAt(i) != '-') {
            return false;
        }
        i = digits(s, i + 1, 2);
        if (i < 0 || i >= s.length() || s.charAt(i) != '-') {
            return false;
        }
        i = digits(s, i + 1, 2);
        if (i < 0) {
            return false;
        }
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
                return false;
            }
        }
        return true;
    }

    /** The index after 1..max ASCII digits from {@code from}, or -1 when there is none. */
    private static int digits(String s, int from, int max) {
        int i = from;
        while (i < s.length() && i - from < max && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
            i++;
        }
        return i == from ? -1 : i;
    }

    /** A PostgreSQL array literal: {"a","b",NULL}. */
    static String arrayLiteral(List<?> l) {
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < l.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            Object o = l.get(i);
            if (CelNulls.isNull(o)) {
                sb.append("NULL");
            } else if (o instanceof List<?> inner) {
                sb.append(arrayLiteral(inner));
            } else {
                sb.append('"').append(text(o).replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            }
        }
        return sb.append('}').toString();
    }
}
