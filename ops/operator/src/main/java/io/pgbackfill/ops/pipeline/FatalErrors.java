package io.pgbackfill.ops.pipeline;

import io.pgbackfill.core.memory.HeapExhausted;

/**
 * A fatal error ends the process with exit code 3, promptly, so that a supervisor (compose's restart policy,
 * Kubernetes) sees it and restarts the stage: a JVM that lost a thread to an {@link OutOfMemoryError} and goes on
 * holding its consumer group and slot while doing nothing is the worst outcome. The launch scripts also pass
 * {@code -XX:+ExitOnOutOfMemoryError}; this covers a JVM started without it.
 */
public final class FatalErrors {
    public static final int EXIT_CODE = 3;

    private FatalErrors() {
    }

    /** Any thread that dies of a {@link VirtualMachineError} halts the JVM with exit code 3, after saying why. */
    public static void install() {
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> {
            if (e instanceof VirtualMachineError) {
                halt("thread " + thread.getName(), e);
            } else if (previous != null) {
                previous.uncaughtException(thread, e);
            } else {
                System.err.print("Exception in thread \"" + thread.getName() + "\" ");
                e.printStackTrace();
            }
        });
    }

    /** Prints what happened (and, for out of memory, what to change) and halts at once: no hooks, no cleanup. */
    public static void halt(String where, Throwable e) {
        try {
            String what = e instanceof OutOfMemoryError || HeapExhausted.isCause(e)
                    ? HeapExhausted.message(Runtime.getRuntime().maxMemory()) : String.valueOf(e);
            System.err.println("pgbackfill: fatal error in " + where + ": " + e + "\n" + what + "\nexiting with " + EXIT_CODE);
            System.err.flush();
        } finally {
            Runtime.getRuntime().halt(EXIT_CODE);
        }
    }

    /**
     * After a stage failed, its clean stop gets {@code graceSeconds}; then the JVM halts with exit code 3 whatever is
     * still running (a thread stuck after an out-of-memory error would otherwise keep it alive).
     */
    public static void haltAfter(long graceSeconds) {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(graceSeconds * 1000);
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("pgbackfill: the failed stage did not stop within " + graceSeconds + " s; exiting with " + EXIT_CODE);
            Runtime.getRuntime().halt(EXIT_CODE);
        }, "halt-after-failure");
        t.setDaemon(true);
        t.start();
    }
}
