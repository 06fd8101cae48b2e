package io.pgbackfill.ops.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This JVM's resident memory as Linux counts it (/proc/self/status): VmRSS now, VmHWM its peak. The
 * peak can be reset (/proc/self/clear_refs, value 5) so each phase reports its own. -1 where /proc is missing.
 */
final class ProcessMemory {
    private static final Path STATUS = Path.of("/proc/self/status");

    private ProcessMemory() {
    }

    static long rssBytes() {
        return field("VmRSS:");
    }

    static long peakRssBytes() {
        return field("VmHWM:");
    }

    /** Makes VmHWM start again from the current RSS; false when the kernel does not allow it. */
    static boolean resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static long field(String name) {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith(name)) {
                    String kb = line.substring(name.length()).trim().split("\\s+")[0];
                    return Long.parseLong(kb) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
