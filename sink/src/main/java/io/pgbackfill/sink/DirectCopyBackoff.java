package io.pgbackfill.sink;

import io.pgbackfill.core.sql.TableName;
import java.util.HashMap;
import java.util.Map;

/**
 * Per target table, whether the next large part of upserts is tried as a COPY straight into the target
 * ({@link BatchWriter#copyIntoTarget}). A failed attempt costs the rows it inserted before the conflict (work, and dead
 * tuples in the target), so after one the next 1, 2, 4, ... up to {@value #MOST_SKIPPED} parts of that table go straight
 * to the upsert; each success halves the wait again. A table in steady streaming (most changes update rows the target
 * holds) thus tries about once in {@value #MOST_SKIPPED} parts, and a table being filled tries every part.
 */
final class DirectCopyBackoff {
    static final int MOST_SKIPPED = 256;

    private static final class State {
        int wait;
        int skipLeft;
    }

    private final Map<TableName, State> tables = new HashMap<>();
    private long copies;
    private long fallbacks;

    /** Whether to try now; counts a skipped part when not. */
    synchronized boolean tryNow(TableName table) {
        State s = tables.computeIfAbsent(table, t -> new State());
        if (s.skipLeft > 0) {
            s.skipLeft--;
            return false;
        }
        return true;
    }

    synchronized void succeeded(TableName table) {
        copies++;
        State s = tables.get(table);
        s.wait /= 2;
    }

    synchronized void failed(TableName table) {
        fallbacks++;
        State s = tables.get(table);
        s.wait = Math.min(MOST_SKIPPED, Math.max(1, s.wait * 2));
        s.skipLeft = s.wait;
    }

    synchronized long copies() {
        return copies;
    }

    synchronized long fallbacks() {
        return fallbacks;
    }
}
