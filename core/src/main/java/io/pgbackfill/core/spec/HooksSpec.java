package io.pgbackfill.core.spec;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Commands run at named moments of the pipeline, through {@code sh -c}, with its state in environment variables
 * ({@code PGBACKFILL_PIPELINE}, {@code PGBACKFILL_HOOK}, {@code PGBACKFILL_STAGE}, …; see docs/control.md). A failing
 * {@code beforeCutover} refuses the cutover; the others are reported and ignored.
 *
 * <pre>
 * hooks: {startup: "...", snapshotDone: "...", beforeCutover: "...", afterCutover: "...", failure: "...", timeoutSeconds: 60}
 * </pre>
 */
public record HooksSpec(String startup, String snapshotDone, String beforeCutover, String afterCutover, String failure, Integer timeoutSeconds) {
    public static final HooksSpec DEFAULT = new HooksSpec(null, null, null, null, null, null);

    public HooksSpec {
        timeoutSeconds = SpecOptions.HOOKS_TIMEOUT_SECONDS.resolve(timeoutSeconds); // defaults and checks: SpecOptions
    }

    /** Hook names as written in the spec, with their commands (absent ones left out). */
    public Map<String, String> byName() {
        Map<String, String> m = new LinkedHashMap<>();
        put(m, "startup", startup);
        put(m, "snapshotDone", snapshotDone);
        put(m, "beforeCutover", beforeCutover);
        put(m, "afterCutover", afterCutover);
        put(m, "failure", failure);
        return m;
    }

    private static void put(Map<String, String> m, String name, String command) {
        if (command != null && !command.isBlank()) {
            m.put(name, command);
        }
    }
}
