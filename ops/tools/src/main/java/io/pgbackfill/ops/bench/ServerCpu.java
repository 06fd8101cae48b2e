package io.pgbackfill.ops.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * CPU seconds (user + system) the local PostgreSQL server's processes spent between two readings, by kind of
 * process (walsender, backends, WAL writer, checkpointer, autovacuum). The copy is CPU-bound on two cores, so the
 * server's share is half of the picture {@link ThreadCpu} gives for the JVM. Backends that ended in between are
 * counted through the postmaster's reaped-children counters ("ended backends"); a server on another machine, or a
 * system without /proc, gives an empty reading.
 */
final class ServerCpu {
    private static final double TICKS = 100.0;
    private static final String ENDED = "ended backends";

    private final Map<String, Long> start;

    private ServerCpu(Map<String, Long> start) {
        this.start = start;
    }

    static ServerCpu start() {
        return new ServerCpu(read());
    }

    /** CPU seconds per kind since {@link #start()}, largest first, and "total"; empty when nothing was read. */
    Map<String, Double> since() {
        Map<String, Long> now = read();
        Map<String, Double> kinds = new TreeMap<>();
        now.forEach((pid, ticks) -> {
            double seconds = (ticks - start.getOrDefault(pid, 0L)) / TICKS;
            if (seconds > 0) {
                kinds.merge(pid.substring(pid.indexOf(' ') + 1), seconds, Double::sum);
            }
        });
        Map<String, Double> out = new LinkedHashMap<>();
        if (kinds.isEmpty()) {
            return out;
        }
        kinds.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> out.put(e.getKey(), Math.round(e.getValue() * 10) / 10.0));
        out.put("total", Math.round(kinds.values().stream().mapToDouble(Double::doubleValue).sum() * 10) / 10.0);
        return out;
    }

    /** One phrase for a report: the total and the breakdown, or why there is none. */
    static String describe(Map<String, Double> seconds) {
        return seconds.isEmpty() ? "PostgreSQL CPU not read (no local server processes in /proc)"
                : "PostgreSQL CPU " + seconds.get("total") + " s: " + seconds;
    }

    /** "pid kind" -> ticks of every postgres process; the postmaster adds its reaped children as {@value #ENDED}. */
    private static Map<String, Long> read() {
        Map<String, Long> out = new HashMap<>();
        Path proc = Path.of("/proc");
        if (!Files.isDirectory(proc)) {
            return out;
        }
        try (Stream<Path> s = Files.list(proc)) {
            s.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).forEach(p -> {
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ').trim();
                    String stat = Files.readString(p.resolve("stat"));
                    String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    long own = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                    String pid = p.getFileName().toString();
                    if (cmd.startsWith("postgres:")) {
                        out.put(pid + " " + kind(cmd.substring("postgres:".length()).trim()), own);
                    } else if (comm.equals("postgres")) {
                        out.put(pid + " postmaster", own);
                        out.put(pid + " " + ENDED, Long.parseLong(f[13]) + Long.parseLong(f[14]));
                    }
                } catch (IOException | RuntimeException e) {
                    // The process ended while being read: its CPU shows in the postmaster's reaped counters.
                }
            });
        } catch (IOException e) {
            // nothing to read on this system
        }
        return out;
    }

    /** "walsender user db ..." -> "walsender"; "user db 127.0.0.1(5432) idle" -> "backends"; the rest by their title. */
    static String kind(String title) {
        if (title.contains("walsender")) {
            return "walsender";
        }
        for (String aux : new String[] {"checkpointer", "background writer", "walwriter", "autovacuum", "logical replication", "io worker"}) {
            if (title.startsWith(aux)) {
                return aux;
            }
        }
        return "backends";
    }
}
