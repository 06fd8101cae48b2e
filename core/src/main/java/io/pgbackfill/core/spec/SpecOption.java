package io.pgbackfill.core.spec;

import java.util.List;
import java.util.function.Predicate;

/**
 * One key of a spec section, defined once: its type, default, unit, what it does and what values it takes. The
 * section records take their defaults and checks from here, and docs/spec-reference.md is generated from it.
 *
 * @param section     the spec section ({@code sink}); the key is written {@code section.key} in messages
 * @param key         the YAML key
 * @param type        the YAML type as a reader sees it ({@code integer}, {@code string}, {@code map})
 * @param defaultText the default as documented (null: no default), e.g. {@code pgbackfill.NAME}
 * @param unit        the unit of a number ({@code rows}, {@code ms}, {@code MiB}), or empty
 * @param description what it does, in a sentence or two
 * @param rule        the valid values in words ({@code at least 1}), or empty for any value
 */
public record SpecOption<T>(String section, String key, Class<T> type, T defaultValue, String defaultText, String unit,
                            String description, String rule, Predicate<T> valid) {

    static SpecOption<Integer> integer(String section, String key, Integer defaultValue, String unit, int min, Integer max, String description) {
        String rule = max == null ? "at least " + min : "between " + min + " and " + max;
        return new SpecOption<>(section, key, Integer.class, defaultValue, defaultValue == null ? null : String.valueOf(defaultValue), unit,
                description, rule, v -> v >= min && (max == null || v <= max));
    }

    static SpecOption<Long> longInteger(String section, String key, String defaultText, String unit, long min, String description) {
        return new SpecOption<>(section, key, Long.class, null, defaultText, unit, description, "at least " + min, v -> v >= min);
    }

    static SpecOption<String> choice(String section, String key, String defaultValue, List<String> values, String description) {
        return new SpecOption<>(section, key, String.class, defaultValue, defaultValue, "", description,
                String.join(" | ", values), values::contains);
    }

    static SpecOption<String> text(String section, String key, String defaultText, String description) {
        return new SpecOption<>(section, key, String.class, null, defaultText, "", description, "", v -> true);
    }

    /** {@code section.key}, as messages and the reference name it. */
    public String path() {
        return section + "." + key;
    }

    /** The value as given, or the default; refuses a value out of range with a message that names the key. */
    public T resolve(T value) {
        T v = value == null ? defaultValue : value;
        if (v != null && !valid.test(v)) {
            throw new IllegalArgumentException(path() + " must be " + (rule.contains(" | ") ? alternatives(quoted(rule.split(" \\| "))) : rule));
        }
        return v;
    }

    private static List<String> quoted(String[] values) {
        return java.util.Arrays.stream(values).map(s -> "'" + s + "'").toList();
    }

    /** 'a' or 'b'; 'a', 'b' or 'c'. */
    private static String alternatives(List<String> quoted) {
        return quoted.size() < 2 ? String.join("", quoted)
                : String.join(", ", quoted.subList(0, quoted.size() - 1)) + " or " + quoted.get(quoted.size() - 1);
    }
}
