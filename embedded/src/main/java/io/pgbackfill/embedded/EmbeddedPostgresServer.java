package io.pgbackfill.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * A real PostgreSQL 17 server from Maven Central binaries (zonky), started with
 * {@code wal_level=logical} so Debezium can stream from it. No Docker, no install.
 * It can be stopped and started again on the same port and data (target-restart tests).
 * <p>
 * With {@code PGBACKFILL_PG_BIN} (or {@code -Dpgbackfill.pgBin}) naming a system installation's {@code bin}
 * directory (Debian: {@code /usr/lib/postgresql/15/bin}), the same server is made with that version's
 * {@code initdb} and {@code pg_ctl} instead ({@link SystemPostgres}), so every test and the demo can run
 * against another major version.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
    private final Path dataDir;
    private final int port;
    private final String walLevel;
    private final java.util.Map<String, String> extraConfig;
    private EmbeddedPostgres pg;
    private SystemPostgres system;

    private EmbeddedPostgresServer(Path dataDir, int port, String walLevel, java.util.Map<String, String> extraConfig) {
        this.dataDir = dataDir;
        this.port = port;
        this.walLevel = walLevel;
        this.extraConfig = java.util.Map.copyOf(extraConfig);
    }

    public static EmbeddedPostgresServer start() throws IOException {
        return start("logical");
    }

    /** Starts a server; {@code walLevel} other than logical exists for preflight's negative test. */
    public static EmbeddedPostgresServer start(String walLevel) throws IOException {
        EmbeddedPostgresServer s = new EmbeddedPostgresServer(Files.createTempDirectory("pgbackfill-pg"), FreePort.find(), walLevel, java.util.Map.of());
        s.startServer();
        return s;
    }

    /** A server with TLS ({@code ssl=on}) using a certificate and key signed by {@code ca}, on 127.0.0.1 and ::1. */
    public static EmbeddedPostgresServer startWithTls(CertificateAuthority ca) throws IOException {
        if (!pgBin().isBlank() && "root".equals(System.getProperty("user.name"))) {
            // A system server runs as the postgres account, which must own the key it reads.
            for (Path f : java.util.List.of(ca.serverKey().getParent(), ca.serverKey(), ca.serverCertificate())) {
                SystemPostgres.run(java.util.List.of("chown", "postgres", f.toString()), null);
            }
        }
        EmbeddedPostgresServer s = new EmbeddedPostgresServer(Files.createTempDirectory("pgbackfill-pg"), FreePort.find(), "logical",
                // IPv6 loopback too, for URLs with a bracketed host (the certificate names ::1).
                java.util.Map.of("ssl", "on", "ssl_cert_file", ca.serverCertificate().toString(), "ssl_key_file", ca.serverKey().toString(),
                        "listen_addresses", "127.0.0.1,::1"));
        s.startServer();
        return s;
    }

    private static String pgBin() {
        return System.getProperty("pgbackfill.pgBin", System.getenv().getOrDefault("PGBACKFILL_PG_BIN", ""));
    }

    private void startServer() throws IOException {
        String pgBin = pgBin();
        if (!pgBin.isBlank()) {
            system = SystemPostgres.start(Path.of(pgBin), dataDir, port, serverConfig());
            return;
        }
        EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
                .setDataDirectory(dataDir)
                .setCleanDataDirectory(false)
                .setPort(port)
                .setPGStartupWait(Duration.ofSeconds(60));
        // Settings given here become command-line options, which ALTER SYSTEM cannot override: the ones a test changes
        // at run time (a small max_slot_wal_keep_size to lose a slot) go to postgresql.auto.conf instead.
        serverConfig().forEach((k, v) -> {
            if (!RUNTIME_SETTINGS.contains(k)) {
                b.setServerConfig(k, v);
            }
        });
        pg = b.start();
        try (Connection c = connect("postgres"); Statement st = c.createStatement()) {
            for (var e : serverConfig().entrySet()) {
                if (RUNTIME_SETTINGS.contains(e.getKey()) && !st.executeQuery("SELECT 1 FROM pg_settings WHERE name = '" + e.getKey()
                        + "' AND source = 'configuration file'").next()) {
                    st.execute("ALTER SYSTEM SET " + e.getKey() + " = '" + e.getValue() + "'");
                }
            }
            st.execute("SELECT pg_reload_conf()");
        } catch (SQLException e) {
            throw new IOException("cannot configure the embedded server: " + e.getMessage(), e);
        }
    }

    /** Settings tests may change with ALTER SYSTEM and a reload. */
    private static final java.util.Set<String> RUNTIME_SETTINGS = java.util.Set.of("max_slot_wal_keep_size");

    private java.util.Map<String, String> serverConfig() {
        java.util.Map<String, String> c = new java.util.LinkedHashMap<>();
        c.put("wal_level", walLevel);
        c.put("max_wal_senders", "20");
        c.put("max_replication_slots", "20");
        c.put("max_connections", "200");
        c.put("max_slot_wal_keep_size", "4GB");
        // Throwaway data: trade durability for speed, as a test database should.
        c.put("fsync", "off");
        c.put("synchronous_commit", "off");
        c.put("full_page_writes", "off");
        c.put("shared_buffers", "256MB");
        c.put("max_wal_size", "4GB");
        c.put("timezone", "UTC");
        c.putAll(extraConfig);
        return c;
    }

    public int port() {
        return port;
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://localhost:" + port + "/" + database;
    }

    public String user() {
        return "postgres";
    }

    public Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), user(), "");
    }

    /** Creates a database if it does not exist. */
    public void createDatabase(String name) throws SQLException {
        try (Connection c = connect("postgres"); Statement st = c.createStatement()) {
            var rs = st.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name.replace("'", "''") + "'");
            if (!rs.next()) {
                st.execute("CREATE DATABASE \"" + name.replace("\"", "") + "\"");
            }
        }
    }

    /** Stops the server, keeping its data and port (a crash or restart of the database). */
    public void stop() throws IOException {
        if (pg != null) {
            pg.close();
            pg = null;
        }
        if (system != null) {
            system.stop();
            system = null;
        }
    }

    public void restart() throws IOException {
        stop();
        startServer();
    }

    public boolean isRunning() {
        return pg != null || system != null;
    }

    @Override
    public void close() throws IOException {
        stop();
        try (var walk = Files.walk(dataDir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
