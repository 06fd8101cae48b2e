package io.pgbackfill.core.spec;

/**
 * Cutover settings. {@code oldSuffix}: the source table is renamed to NAME_SUFFIX.
 * {@code lockTimeoutMs}: how long one attempt may wait for the table lock. {@code switchCommand}:
 * for a new cluster, the command that switches the application (run with the LSN in $PGBACKFILL_LSN).
 */
public record CutoverSpec(String oldSuffix, Integer lockTimeoutMs, Integer attempts, String switchCommand) {
    public static final CutoverSpec DEFAULT = new CutoverSpec(null, null, null, null);

    public CutoverSpec {
        oldSuffix = oldSuffix == null ? "old" : oldSuffix;
        lockTimeoutMs = lockTimeoutMs == null ? 2000 : lockTimeoutMs;
        attempts = attempts == null ? 5 : attempts;
    }
}
