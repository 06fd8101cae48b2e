package io.pgbackfill.ops.cutover;

import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.core.sql.SqlIdentifier;
import java.sql.Connection;
import java.util.List;

/**
 * What a cutover does besides the swap or the switch. The plain cutover does nothing more; the reverse stream
 * ({@code cutover --reverse-stream}) and the rollback (the cutover of the reverse pipeline) add their steps here, so
 * that the guarded part (lock, drain, re-check, switch, pause) is written once, in {@link Cutover}.
 */
public interface SwitchSteps {
    SwitchSteps NONE = new SwitchSteps() {
    };

    /** Before the first lock attempt, writes still open. */
    default void beforeLock(List<String> log) throws Exception {
    }

    /**
     * In the lock's transaction on the source, after the drain and the last re-check, before the tables are swapped
     * (same database) or the application is switched (new cluster). Rolled back with the lock if the cutover aborts.
     */
    default void whileBlocked(Connection lock, List<String> log) throws Exception {
    }

    /**
     * New cluster: just before the application is switched, while the source is still blocked. A transaction returned
     * here is committed once the switch is confirmed and rolled back otherwise (null: none).
     */
    default Connection beforeSwitch(List<String> log) throws Exception {
        return null;
    }

    /** After the commit of a cutover that was done; never throws (the switch is made: a failure here is reported, not undone). */
    default void afterCommit(List<String> log) {
    }

    /** Same database: the name the source table is renamed to (in its schema). */
    default SqlIdentifier setAsideName(TableSpec t, String suffix) {
        return SqlIdentifier.of(t.sourceName().table().name() + "_" + suffix);
    }
}
