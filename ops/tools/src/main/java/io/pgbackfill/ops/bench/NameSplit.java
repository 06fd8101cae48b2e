package io.pgbackfill.ops.bench;

import java.util.Locale;

/** The demo transform in plain Java, as an application's own migration loop would write it. */
final class NameSplit {
    private NameSplit() {
    }

    /** Text before the first space; all of it when there is none. */
    static String firstName(String name) {
        if (name == null) {
            return null;
        }
        int space = name.indexOf(' ');
        return space < 0 ? name : name.substring(0, space);
    }

    /** Text after the first space; null for a one-word name. */
    static String lastName(String name) {
        if (name == null) {
            return null;
        }
        int space = name.indexOf(' ');
        return space < 0 ? null : name.substring(space + 1);
    }

    static String email(String email) {
        return email == null ? null : email.toLowerCase(Locale.ROOT);
    }
}
