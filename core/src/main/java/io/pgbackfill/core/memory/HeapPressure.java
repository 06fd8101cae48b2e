package io.pgbackfill.core.memory;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;

/**
 * Whether this JVM's heap has been full after a collection: the sign that an error some library caught and reported
 * in its own words (Debezium's "snapshot aborted") was an {@link OutOfMemoryError}. Uses the heap pools' collection
 * usage thresholds, which the JVM checks after each collection at no cost to us.
 */
public final class HeapPressure {
    private static final double FULL = 0.95;
    private static volatile boolean installed;

    private HeapPressure() {
    }

    /** Arms the thresholds (idempotent). */
    public static synchronized void install() {
        if (installed) {
            return;
        }
        MemoryPoolMXBean old = oldGeneration();
        if (old != null) {
            old.setCollectionUsageThreshold((long) (old.getUsage().getMax() * FULL));
        }
        installed = true;
    }

    /** True once the old generation was still 95% full after a collection. */
    public static boolean exhausted() {
        MemoryPoolMXBean old = oldGeneration();
        return installed && old != null && old.getCollectionUsageThresholdCount() > 0;
    }

    /**
     * The largest heap pool with a maximum: the old generation of the generational collectors. A survivor space may be
     * full after every young collection, so the young pools would say nothing.
     */
    private static MemoryPoolMXBean oldGeneration() {
        MemoryPoolMXBean best = null;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            long max = pool.getUsage() == null ? -1 : pool.getUsage().getMax();
            if (pool.getType() == MemoryType.HEAP && pool.isCollectionUsageThresholdSupported() && max > 0
                    && (best == null || max > best.getUsage().getMax())) {
                best = pool;
            }
        }
        return best;
    }
}
