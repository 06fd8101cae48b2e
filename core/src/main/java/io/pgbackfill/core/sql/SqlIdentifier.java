package io.pgbackfill.core.sql;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A validated SQL identifier. Identifiers from a spec are never spliced into SQL as typed:
 * they must match {@link #PATTERN} and are always emitted double-quoted, so reserved words and
 * mixed case work and nothing else (quotes, semicolons, spaces) can get through.
 */
public record SqlIdentifier(String name) {
    /** Letters, digits, underscore, dollar; starts with a letter or underscore; at most 63 bytes (NAMEDATALEN-1). */
    public static final Pattern PATTERN = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}");

    public SqlIdentifier {
        Objects.requireNonNull(name, "identifier");
        if (!PATTERN.matcher(name).matches()) {
            throw new IllegalArgumentException("'" + printable(name) + "' is not a valid SQL identifier"
                    + " (letters, digits, _ and $, starting with a letter or _, at most 63 characters)");
        }
    }

    public static SqlIdentifier of(String name) {
        return new SqlIdentifier(name);
    }

    /** The identifier as PostgreSQL expects it in SQL text: always double-quoted. */
    public String quoted() {
        return '"' + name + '"';
    }

    /** True when PostgreSQL would fold this name to itself unquoted (lower case). */
    public boolean isLowerCase() {
        return name.equals(name.toLowerCase(Locale.ROOT));
    }

    @Override
    public String toString() {
        return name;
    }

    static String printable(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }
}
