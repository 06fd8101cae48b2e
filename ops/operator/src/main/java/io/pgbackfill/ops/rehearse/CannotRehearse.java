package io.pgbackfill.ops.rehearse;

/**
 * The rehearsal cannot start: a missing privilege, an unreachable database, a table that is not there.
 * Its message is one line an operator can act on; it is raised before anything is read or written.
 */
public final class CannotRehearse extends RuntimeException {
    public CannotRehearse(String message) {
        super(message, null, false, false);
    }
}
