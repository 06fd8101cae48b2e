package io.pgbackfill.ops.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * CPU seconds (user + system) this JVM's threads spent between two readings, grouped by what the threads
 * are: JIT compilers, GC, Debezium, the Streams app, the sink, Kafka clients, the in-process broker. Read
 * from /proc/self/task, so the JVM's own threads (compilers, GC), which Java's thread API does not list,
 * are counted. A thread that ends before the last reading (the snapshot reader, a Debezium task) counts with its
 * last reading: /proc is read every {@value #POLL_MILLIS} ms until {@link #since()}, so at most that much of such a
 * thread's CPU is lost. Wall time on a shared machine is noise; CPU per row is what before/after comparisons rest on.
 */
final class ThreadCpu implements AutoCloseable {
    /** Clock ticks per second of /proc's counters (USER_HZ, 100 on Linux). */
    private static final double TICKS = 100.0;
    static final long POLL_MILLIS = 200;

    private record Reading(String name, long ticks) {
    }

    private final Map<Long, Long> startTicks;
    /** The latest reading of every thread seen since the start, ended threads included. */
    private final Map<Long, Reading> latest = new HashMap<>();
    private final java.util.concurrent.ScheduledExecutorService poller;

    private ThreadCpu(Map<Long, Long> startTicks) {
        this.startTicks = startTicks;
        this.poller = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-thread-cpu");
            t.setDaemon(true);
            return t;
        });
        poller.scheduleWithFixedDelay(this::poll, POLL_MILLIS, POLL_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** Empty on systems without /proc: the bench then reports no breakdown. */
    static ThreadCpu start() {
        Map<Long, Long> ticks = new HashMap<>();
        read((tid, name, t) -> ticks.put(tid, t));
        return new ThreadCpu(ticks);
    }

    private synchronized void poll() {
        read((tid, name, t) -> latest.put(tid, new Reading(name, t)));
    }

    /** Stops the polling (also when {@link #since()} was never reached: an approach that failed). */
    @Override
    public void close() {
        poller.shutdownNow();
    }

    /** CPU seconds per group since {@link #start()}, largest first, and "total". Stops the polling. */
    Map<String, Double> since() {
        poller.shutdownNow();
        poll();
        Map<String, Double> groups = new TreeMap<>();
        synchronized (this) {
            latest.forEach((tid, r) -> {
                double seconds = (r.ticks() - startTicks.getOrDefault(tid, 0L)) / TICKS;
                if (seconds > 0) {
                    groups.merge(group(r.name()), seconds, Double::sum);
                }
            });
        }
        Map<String, Double> out = new LinkedHashMap<>();
        groups.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> out.put(e.getKey(), Math.round(e.getValue() * 10) / 10.0));
        out.put("total", Math.round(groups.values().stream().mapToDouble(Double::doubleValue).sum() * 10) / 10.0);
        return out;
    }

    /** Thread names as the kernel keeps them (15 characters), sorted into the pipeline's parts. */
    static String group(String name) {
        if (name.startsWith("C2 Compiler") || name.startsWith("C1 Compiler")) {
            return "JIT compilers";
        }
        if (name.startsWith("GC Thread") || name.startsWith("ParGC") || name.startsWith("VM Thread") || name.startsWith("G1 ")) {
            return "GC and VM";
        }
        if (name.startsWith("pgbackfill-snap") || name.startsWith("pgbackfill-deb") || name.startsWith("pgbackfill-pro")
                || name.startsWith("debezium") || name.startsWith("blocking-")) {
            return "producer (Debezium, snapshot reader)";
        }
        if (name.contains("StreamThread") || name.contains("-StreamThr") || name.startsWith("pgbackfill-tr")) {
            return "transformer (Streams)";
        }
        if (name.startsWith("pgbackfill-sin")) {
            return "sink";
        }
        if (name.startsWith("pgbackfill-") && !name.startsWith("pgbackfill-con") && !name.startsWith("pgbackfill-rer")
                && !name.startsWith("pgbackfill-thr")) {
            // Streams names its threads <application.id>-<uuid>-StreamThread-n, and the application id is "pgbackfill-<pipeline>":
            // cut to 15 characters, only the prefix is left.
            return "transformer (Streams)";
        }
        if (name.startsWith("kafka-producer") || name.startsWith("kafka-coordina") || name.startsWith("kafka-admin")) {
            return "Kafka clients' I/O threads";
        }
        if (name.startsWith("data-plane") || name.startsWith("kafka-request") || name.startsWith("broker-") || name.startsWith("Processor")
                || name.startsWith("kafka-") || name.startsWith("controller") || name.startsWith("raft") || name.startsWith("group-coord")
                || name.startsWith("transaction") || name.startsWith("ReplicaFetch") || name.startsWith("LogDirFail") || name.startsWith("ExpirationR")) {
            return "Kafka broker (in-process)";
        }
        return "other: " + name.replaceAll("[0-9]+", "#");
    }

    private interface TaskVisitor {
        void visit(long tid, String name, long ticks);
    }

    private static void read(TaskVisitor v) {
        Path tasks = Path.of("/proc/self/task");
        if (!Files.isDirectory(tasks)) {
            return;
        }
        try (Stream<Path> s = Files.list(tasks)) {
            s.forEach(task -> {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    // "tid (name) state ...": the name may hold spaces and parentheses, so cut at the last ')'.
                    int open = stat.indexOf('(');
                    int close = stat.lastIndexOf(')');
                    String[] f = stat.substring(close + 2).split(" ");
                    // After the name: state is field 3, utime field 14, stime field 15 (1-based, see proc(5)).
                    long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                    v.visit(Long.parseLong(stat.substring(0, open).trim()), stat.substring(open + 1, close), ticks);
                } catch (IOException | RuntimeException e) {
                    // The thread ended while being read: it is not counted either way.
                }
            });
        } catch (IOException e) {
            // No breakdown on this system.
        }
    }
}
