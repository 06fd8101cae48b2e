package io.pgbackfill.sink;

/** PostgreSQL COPY text format: \N for NULL, backslash escapes for \, tab, newline and carriage return. */
public final class CopyText {
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
