package io.pgbackfill.ops.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/** The machine a bench ran on: figures mean little without it. */
record MachineInfo(int cores, long memoryBytes, String cpu, String os, String java, String postgres, String infrastructure, String loadAverage) {

    static MachineInfo of(Connection c, String infrastructure) throws SQLException {
        String pg;
        try (Statement st = c.createStatement(); var rs = st.executeQuery("SHOW server_version")) {
            rs.next();
            pg = "PostgreSQL " + rs.getString(1);
        }
        return new MachineInfo(Runtime.getRuntime().availableProcessors(), memTotal(), cpuModel(),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + "), max heap "
                        + (Runtime.getRuntime().maxMemory() >> 20) + " MiB",
                pg, infrastructure, readLoadAverage());
    }

    /** 1, 5 and 15 minute load averages: other work on a small machine moves every figure. */
    static String readLoadAverage() {
        List<String> lines = lines("/proc/loadavg");
        if (lines.isEmpty()) {
            return "unknown";
        }
        String[] f = lines.get(0).split("\\s+");
        return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : "unknown";
    }

    private static long memTotal() {
        for (String line : lines("/proc/meminfo")) {
            if (line.startsWith("MemTotal:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        return -1;
    }

    private static String cpuModel() {
        for (String line : lines("/proc/cpuinfo")) {
            if (line.startsWith("model name")) {
                return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        return System.getProperty("os.arch");
    }

    private static List<String> lines(String file) {
        try {
            return Files.readAllLines(Path.of(file));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }
}
