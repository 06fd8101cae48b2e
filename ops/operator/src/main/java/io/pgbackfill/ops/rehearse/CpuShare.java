package io.pgbackfill.ops.rehearse;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The share of one core a thread gets right now: a short busy loop's thread CPU time over its wall time.
 * On a quiet machine about 1; below that, other work is taking the cores, and the rehearsal's per-row
 * timings (wall clock) include that wait. Unlike the load average, it measures what a thread actually gets.
 */
final class CpuShare {
    private CpuShare() {
    }

    /** Between 0 and 1; 1 when the JVM cannot measure thread CPU time. */
    static double measure(long millis) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        if (!threads.isCurrentThreadCpuTimeSupported() || millis <= 0) {
            return 1;
        }
        long cpu0 = threads.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        long end = t0 + millis * 1_000_000;
        long sink = 0;
        while (System.nanoTime() < end) {
            for (int i = 0; i < 10_000; i++) {
                sink += i ^ (sink >>> 3);
            }
        }
        double share = (double) (threads.getCurrentThreadCpuTime() - cpu0) / (System.nanoTime() - t0);
        return sink == 42 ? 1 : Math.max(0.01, Math.min(1, share)); // sink read so the loop is not optimised away
    }
}
