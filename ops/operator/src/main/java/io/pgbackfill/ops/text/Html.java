package io.pgbackfill.ops.text;

/** Text into HTML and SVG (element content and quoted attributes), for the rehearse and bench reports. */
public final class Html {
    private Html() {
    }

    /** Escapes the five characters HTML gives a meaning to; null becomes the empty string. */
    public static String escape(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(ch);
            }
        }
        return out.toString();
    }
}
