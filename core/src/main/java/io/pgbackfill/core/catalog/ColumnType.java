package io.pgbackfill.core.catalog;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A column's PostgreSQL type as {@code format_type()} prints it, reduced to what the pipeline needs:
 * a kind (for value conversion and checks), the length of varchar/char, precision/scale of numeric.
 * {@link #sql()} is the exact type text, used in casts ({@code ?::numeric(10,2)}).
 */
public record ColumnType(String sql, Kind kind, int length, int precision, int scale) {

    public enum Kind { INT2, INT4, INT8, FLOAT4, FLOAT8, NUMERIC, BOOL, TEXT, VARCHAR, CHAR, DATE, TIMESTAMP, TIMESTAMPTZ, TIME, UUID, JSON, JSONB, BYTEA, ARRAY, OTHER }

    private static final Pattern WITH_ARGS = Pattern.compile("([a-z ]+?)\\s*\\((\\d+)(?:\\s*,\\s*(\\d+))?\\)(.*)");

    public static ColumnType parse(String formatType) {
        String s = formatType.trim().toLowerCase(Locale.ROOT);
        if (s.endsWith("[]")) {
            return new ColumnType(formatType, Kind.ARRAY, -1, -1, -1);
        }
        int length = -1;
        int precision = -1;
        int scale = -1;
        String base = s;
        Matcher m = WITH_ARGS.matcher(s);
        if (m.matches()) {
            base = (m.group(1) + m.group(4)).trim();
            int a = Integer.parseInt(m.group(2));
            if (base.startsWith("numeric") || base.startsWith("decimal")) {
                precision = a;
                scale = m.group(3) == null ? 0 : Integer.parseInt(m.group(3));
            } else {
                length = a;
            }
        }
        Kind kind = switch (base) {
            case "smallint", "int2" -> Kind.INT2;
            case "integer", "int", "int4", "serial" -> Kind.INT4;
            case "bigint", "int8", "bigserial" -> Kind.INT8;
            case "real", "float4" -> Kind.FLOAT4;
            case "double precision", "float8" -> Kind.FLOAT8;
            case "numeric", "decimal" -> Kind.NUMERIC;
            case "boolean", "bool" -> Kind.BOOL;
            case "text", "name", "citext" -> Kind.TEXT;
            case "character varying", "varchar" -> Kind.VARCHAR;
            case "character", "char", "bpchar" -> Kind.CHAR;
            case "date" -> Kind.DATE;
            case "timestamp without time zone", "timestamp" -> Kind.TIMESTAMP;
            case "timestamp with time zone", "timestamptz" -> Kind.TIMESTAMPTZ;
            case "time without time zone", "time" -> Kind.TIME;
            case "uuid" -> Kind.UUID;
            case "json" -> Kind.JSON;
            case "jsonb" -> Kind.JSONB;
            case "bytea" -> Kind.BYTEA;
            default -> Kind.OTHER;
        };
        if (kind == Kind.CHAR && length < 0) {
            length = 1;
        }
        return new ColumnType(formatType, kind, length, precision, scale);
    }

    /**
     * The type without its modifier ({@code character varying(5)} → {@code character varying}). Values are
     * cast to this and assigned to the column, so PostgreSQL's assignment rules check length and precision:
     * an explicit cast to {@code varchar(5)} would silently truncate instead.
     */
    public String baseSql() {
        return sql.replaceAll("\\(\\d+(\\s*,\\s*\\d+)?\\)", "").replaceAll("\\s+", " ").replace(" [", "[").trim();
    }

    public boolean isInteger() {
        return kind == Kind.INT2 || kind == Kind.INT4 || kind == Kind.INT8;
    }

    public boolean isTextual() {
        return kind == Kind.TEXT || kind == Kind.VARCHAR || kind == Kind.CHAR;
    }
}
