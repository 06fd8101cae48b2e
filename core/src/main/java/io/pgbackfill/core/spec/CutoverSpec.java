package io.pgbackfill.core.spec;

/**
 * Cutover settings. {@code oldSuffix}: the source table is renamed to NAME_SUFFIX.
 * {@code lockTimeoutMs}: how long one attempt may wait for the table lock. {@code switchCommand}:
 * for a new cluster, the command that switches the application (run with the LSN in $PGBACKFILL_LSN).
 */
public record CutoverSpec(String oldSuffix, Integer lockTimeoutMs, Integer attempts, String switchCommand) {
    public static final CutoverSpec DEFAULT = new CutoverSpec(null, null, null, null);

    public CutoverSpec {
        // Defaults and checks: SpecOptions (docs/spec-reference.md).
        oldSuffix = SpecOptions.CUTOVER_OLD_SUFFIX.resolve(oldSuffix);
        lockTimeoutMs = SpecOptions.CUTOVER_LOCK_TIMEOUT_MS.resolve(lockTimeoutMs);
        attempts = SpecOptions.CUTOVER_ATTEMPTS.resolve(attempts);
        switchCommand = SpecOptions.CUTOVER_SWITCH_COMMAND.resolve(switchCommand);
    }
}
