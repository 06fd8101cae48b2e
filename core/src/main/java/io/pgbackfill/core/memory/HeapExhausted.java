package io.pgbackfill.core.memory;

/**
 * A stage ran out of heap. Its message says so and names what to change: restarting with the same heap and budget
 * runs into the same wall, so the usual "restart to resume" advice would be wrong.
 */
public final class HeapExhausted extends RuntimeException {
    public HeapExhausted(String stage, MemoryBudget budget, Throwable cause) {
        super(message(stage, budget), cause);
    }

    public static String message(String stage, MemoryBudget budget) {
        return "out of memory in the " + stage + " (heap " + budget.heapBytes() / MemoryBudget.MIB + " MiB, byte budget "
                + budget.describe() + "): the rows do not fit this heap. Raise the heap (-Xmx in PGBACKFILL_JAVA_OPTS or "
                + "JAVA_TOOL_OPTIONS) or lower memory.stageBudgetMiB in the spec; `backfill rehearse` predicts the peak. "
                + "Restarted with the same settings it fails the same way; with new ones it resumes where it stopped";
    }

    /** For a JVM that does not know which spec or stage ran out (a thread of a library, a launch without a spec). */
    public static String message(long heapBytes) {
        return "out of memory (heap " + heapBytes / MemoryBudget.MIB + " MiB): raise the heap (-Xmx in PGBACKFILL_JAVA_OPTS or "
                + "JAVA_TOOL_OPTIONS) or lower memory.stageBudgetMiB in the spec; `backfill rehearse` predicts the peak";
    }

    /** True if {@code t} or one of its causes is an {@link OutOfMemoryError}. */
    public static boolean isCause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof OutOfMemoryError || c instanceof HeapExhausted) {
                return true;
            }
        }
        return false;
    }
}
