package io.pgbackfill.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

/**
 * A password or other secret. It is resolved from an environment variable or a file, never from the
 * spec text, and {@link #toString()} never shows it, so it cannot leak through logs or exceptions.
 */
public final class Secret {
    private static final Secret NONE = new Secret(null, "none");
    private final String value;
    private final String origin;

    private Secret(String value, String origin) {
        this.value = value;
        this.origin = origin;
    }

    public static Secret none() {
        return NONE;
    }

    public static Secret of(String value, String origin) {
        return new Secret(value, origin);
    }

    /** Resolves from {@code env} (variable name) or {@code file} (path); both null means no password. */
    public static Secret resolve(String env, String file, Function<String, String> getenv) {
        if (env != null) {
            String v = getenv.apply(env);
            if (v == null) {
                throw new IllegalArgumentException("environment variable " + env + " (password) is not set");
            }
            return new Secret(v, "env " + env);
        }
        if (file != null) {
            try {
                return new Secret(Files.readString(Path.of(file), StandardCharsets.UTF_8).strip(), "file " + file);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read password file " + file + ": " + e.getClass().getSimpleName());
            }
        }
        return NONE;
    }

    public static Secret resolve(String env, String file) {
        return resolve(env, file, System::getenv);
    }

    public static Function<String, String> env(Map<String, String> overrides) {
        return k -> overrides.containsKey(k) ? overrides.get(k) : System.getenv(k);
    }

    /** The secret itself: pass it straight to a driver, never into a message. */
    public String reveal() {
        return value;
    }

    public boolean isPresent() {
        return value != null;
    }

    @Override
    public String toString() {
        return value == null ? "<no secret>" : "<secret from " + origin + ">";
    }
}
