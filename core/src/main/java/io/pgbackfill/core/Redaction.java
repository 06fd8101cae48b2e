package io.pgbackfill.core;

import java.util.regex.Pattern;

/** Removes secrets from text that may reach a log, an error message, status output or a DLQ header. */
public final class Redaction {
    private static final Pattern URL_PASSWORD = Pattern.compile("(?i)(password=)[^&;\\s]*");
    private static final Pattern USERINFO = Pattern.compile("(://[^:/@\\s]+:)[^@/\\s]+@");

    private Redaction() {
    }

    public static String redact(String text, Secret... secrets) {
        if (text == null) {
            return null;
        }
        String out = text;
        for (Secret s : secrets) {
            if (s != null && s.isPresent() && !s.reveal().isEmpty()) {
                out = out.replace(s.reveal(), "****");
            }
        }
        out = URL_PASSWORD.matcher(out).replaceAll("$1****");
        return USERINFO.matcher(out).replaceAll("$1****@");
    }
}
