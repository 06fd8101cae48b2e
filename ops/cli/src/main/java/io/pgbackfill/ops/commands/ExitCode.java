package io.pgbackfill.ops.commands;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The exit codes of every {@code backfill} command: the same meaning everywhere, listed in {@code --help}.
 * Defined here, beside the commands, so that they and {@code BackfillCli} do not import each other.
 */
public final class ExitCode {
    /** Done, and the result is correct. */
    public static final int OK = 0;
    /** Ran, but found a problem: a mismatch, a FAIL check, a refused cutover. */
    public static final int PROBLEM = 1;
    /** Cannot start: bad arguments, a bad spec, an unreachable database or refused credentials. */
    public static final int CANNOT_START = 2;
    /** Failed while running (also what a fatal error halts the JVM with: FatalErrors.EXIT_CODE). */
    public static final int FAILED = 3;

    private ExitCode() {
    }

    /** The list {@code --help} shows, code to meaning. */
    public static Map<String, String> helpList() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(" " + OK, "Done, and the result is correct.");
        m.put(" " + PROBLEM, "Ran but found a problem (mismatch, FAIL check, refused cutover).");
        m.put(" " + CANNOT_START, "Cannot start (bad arguments or spec, unreachable database, refused credentials).");
        m.put(" " + FAILED, "Failed while running.");
        return m;
    }
}
