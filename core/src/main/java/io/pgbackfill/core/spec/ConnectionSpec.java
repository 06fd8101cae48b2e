package io.pgbackfill.core.spec;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.Secret;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * A PostgreSQL connection. The password is never written in the spec: it comes from
 * {@code passwordEnv} (an environment variable name) or {@code passwordFile}. TLS and every other
 * driver setting are the URL's parameters ({@code ?sslmode=verify-full&sslrootcert=/etc/ssl/rds-ca.pem}):
 * they reach every connection, Debezium's included ({@link JdbcUrl#parameters()}).
 * {@code role} ("source" or "target") names the connection in errors.
 */
public record ConnectionSpec(
        @JsonProperty(required = true) String jdbcUrl,
        String user,
        String passwordEnv,
        String passwordFile,
        @JsonIgnore Secret password,
        @JsonIgnore String role) {

    public ConnectionSpec(String jdbcUrl, String user, String passwordEnv, String passwordFile) {
        this(jdbcUrl, user, passwordEnv, passwordFile, null, null);
    }

    public ConnectionSpec(String jdbcUrl, String user, String passwordEnv, String passwordFile, Secret password) {
        this(jdbcUrl, user, passwordEnv, passwordFile, password, null);
    }

    public static ConnectionSpec of(String jdbcUrl, String user, Secret password) {
        return new ConnectionSpec(jdbcUrl, user, null, null, password, null);
    }

    /** The same connection, named for error messages. */
    public ConnectionSpec as(String role) {
        return new ConnectionSpec(jdbcUrl, user, passwordEnv, passwordFile, password, role);
    }

    public Secret secret() {
        return password != null ? password : Secret.resolve(passwordEnv, passwordFile);
    }

    /** Opens a JDBC connection; the error message names the connection and never carries the password. */
    public Connection open() throws SQLException {
        Properties p = new Properties();
        if (user != null) {
            p.setProperty("user", user);
        }
        Secret s = secret();
        if (s.isPresent()) {
            p.setProperty("password", s.reveal());
        }
        p.setProperty("ApplicationName", "pgbackfill");
        p.setProperty("reWriteBatchedInserts", "true");
        try {
            return DriverManager.getConnection(jdbcUrl, p);
        } catch (SQLException e) {
            String m = Redaction.redact(String.valueOf(e.getMessage()), s);
            int nl = m.indexOf('\n');
            throw new SQLException("cannot connect to the " + (role == null ? "" : role + " ") + "database at " + Redaction.redact(jdbcUrl, s) + ": "
                    + (nl < 0 ? m : m.substring(0, nl)), e.getSQLState());
        }
    }

    /** The URL as pgjdbc reads it: hosts, ports, database and parameters. */
    public JdbcUrl parsedUrl() {
        return JdbcUrl.parse(jdbcUrl);
    }

    @Override
    public String toString() {
        return "ConnectionSpec[" + Redaction.redact(jdbcUrl) + ", user=" + user + "]";
    }

    /**
     * A {@code jdbc:postgresql:} URL parsed by pgjdbc itself ({@code org.postgresql.Driver.parseURL}), so that what
     * pgbackfill understands is exactly what the driver does: IPv6 hosts in brackets, several hosts, parameters.
     */
    public record JdbcUrl(java.util.List<String> hosts, java.util.List<Integer> ports, String database, java.util.Map<String, String> parameters) {
        /** Parameters that would put a secret in the spec. */
        static final java.util.Set<String> SECRET_PARAMETERS = java.util.Set.of("password", "sslpassword");

        public static JdbcUrl parse(String url) {
            if (url == null || !url.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException("jdbcUrl must start with jdbc:postgresql:// (" + Redaction.redact(url) + ")");
            }
            Properties p = org.postgresql.Driver.parseURL(url, null);
            if (p == null) {
                throw new IllegalArgumentException("jdbcUrl " + Redaction.redact(url) + " is not a valid PostgreSQL JDBC URL (check host, port and database)");
            }
            java.util.List<String> hosts = java.util.List.of(p.getProperty("PGHOST").split(","));
            java.util.List<Integer> ports = java.util.Arrays.stream(p.getProperty("PGPORT").split(",")).map(Integer::valueOf).toList();
            java.util.Map<String, String> params = new java.util.TreeMap<>();
            for (String k : p.stringPropertyNames()) {
                if (!k.startsWith("PG")) {
                    params.put(k, p.getProperty(k));
                }
            }
            return new JdbcUrl(hosts, ports, p.getProperty("PGDBNAME"), java.util.Collections.unmodifiableMap(params));
        }

        /** The host (IPv6 in brackets, as in the URL); the first of several. */
        public String host() {
            return hosts.get(0);
        }

        public int port() {
            return ports.get(0);
        }

        public boolean multiHost() {
            return hosts.size() > 1;
        }
    }
}
