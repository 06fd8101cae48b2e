package io.pgbackfill.embedded;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A PostgreSQL server from a system installation (for example Debian's {@code postgresql-15}), made with its own
 * {@code initdb} and {@code pg_ctl}. PostgreSQL refuses to run as root: as root, the data directory is handed to
 * the {@code postgres} account and the commands run as that account ({@code runuser}).
 */
final class SystemPostgres {
    private final Path bin;
    private final Path dataDir;
    private final boolean asPostgres;

    private SystemPostgres(Path bin, Path dataDir, boolean asPostgres) {
        this.bin = bin;
        this.dataDir = dataDir;
        this.asPostgres = asPostgres;
    }

    static SystemPostgres start(Path bin, Path dataDir, int port, Map<String, String> config) throws IOException {
        boolean root = "root".equals(System.getProperty("user.name"));
        SystemPostgres s = new SystemPostgres(bin, dataDir, root);
        if (!Files.exists(dataDir.resolve("PG_VERSION"))) {
            if (root) {
                run(List.of("chown", "-R", "postgres", dataDir.toString()), null);
            }
            s.pg(List.of(bin.resolve("initdb").toString(), "-D", dataDir.toString(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                    "--locale=C.UTF-8"));
            StringBuilder conf = new StringBuilder("\nport = " + port + "\nlisten_addresses = 'localhost'\nunix_socket_directories = '" + dataDir + "'\n");
            config.forEach((k, v) -> conf.append(k).append(" = '").append(v).append("'\n"));
            Files.writeString(dataDir.resolve("postgresql.conf"), conf, java.nio.file.StandardOpenOption.APPEND);
            Files.writeString(dataDir.resolve("pg_hba.conf"), "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n"
                    + "local replication all trust\nhost replication all 127.0.0.1/32 trust\nhost replication all ::1/128 trust\n");
        }
        s.pg(List.of(bin.resolve("pg_ctl").toString(), "-D", dataDir.toString(), "-w", "-t", "60", "-l", dataDir.resolve("server.log").toString(), "start"));
        return s;
    }

    void stop() throws IOException {
        pg(List.of(bin.resolve("pg_ctl").toString(), "-D", dataDir.toString(), "-w", "-t", "60", "-m", "fast", "stop"));
    }

    private void pg(List<String> command) throws IOException {
        List<String> c = new ArrayList<>();
        if (asPostgres) {
            c.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        c.addAll(command);
        run(c, dataDir.getParent());
    }

    static void run(List<String> command, Path dir) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        try {
            if (p.waitFor() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
    }
}
