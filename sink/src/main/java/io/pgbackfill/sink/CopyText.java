package io.pgbackfill.sink;

/** PostgreSQL COPY text format: \N for NULL, backslash escapes for \, tab, newline and carriage return. */
public final class CopyText {
    /**
     * Runs {@code COPY … FROM STDIN} with the rows in {@code text}. Encodes to UTF-8 here, whole: pgjdbc's
     * Reader variant encodes in fixed-size char chunks and turns a surrogate pair split across two chunks
     * (an emoji) into "??", silently.
     */
    public static long copyIn(java.sql.Connection c, String sql, CharSequence text) throws java.sql.SQLException {
        byte[] bytes = text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try {
            return c.unwrap(org.postgresql.PGConnection.class).getCopyAPI().copyIn(sql, new java.io.ByteArrayInputStream(bytes), 1 << 16);
        } catch (java.io.IOException e) {
            throw new java.sql.SQLException("COPY failed: " + e.getMessage(), "08006", e);
        }
    }

    private CopyText() {
    }

    public static void append(StringBuilder sb, String v) {
        if (v == null) {
            sb.append("\\N");
            return;
        }
        for (int i = 0; i < v.length(); i++) {
            char ch = v.charAt(i);
            switch (ch) {
                case '\\' -> sb.append("\\\\");
                case '\t' -> sb.append("\\t");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                default -> sb.append(ch);
            }
        }
    }
}
