package io.pgbackfill.ops.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;

/** Heap in use and RSS every few hundred milliseconds, for the "memory over time" chart. */
final class MemorySampler implements AutoCloseable {
    /** One point: seconds since the sampler started, bytes. */
    record Sample(double seconds, long heapUsedBytes, long rssBytes) {
    }

    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    private final List<Sample> samples = new ArrayList<>();
    private final long startedNanos = System.nanoTime();
    private final Thread thread;
    private volatile boolean running = true;

    MemorySampler(long intervalMillis) {
        thread = new Thread(() -> {
            while (running) {
                Sample s = new Sample((System.nanoTime() - startedNanos) / 1e9, memory.getHeapMemoryUsage().getUsed(), ProcessMemory.rssBytes());
                synchronized (samples) {
                    samples.add(s);
                }
                try {
                    Thread.sleep(intervalMillis);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "bench-memory-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    List<Sample> samples() {
        synchronized (samples) {
            return List.copyOf(samples);
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(1000);
    }
}
