package io.pgbackfill.core.spec;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.pgbackfill.core.Secret;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * A PostgreSQL connection. The password is never written in the spec: it comes from
 * {@code passwordEnv} (an environment variable name) or {@code passwordFile}.
 */
public record ConnectionSpec(
        @JsonProperty(required = true) String jdbcUrl,
        String user,
        String passwordEnv,
        String passwordFile,
        @com.fasterxml.jackson.annotation.JsonIgnore Secret password) {

    public ConnectionSpec(String jdbcUrl, String user, String passwordEnv, String passwordFile) {
        this(jdbcUrl, user, passwordEnv, passwordFile, null);
    }

    public static ConnectionSpec of(String jdbcUrl, String user, Secret password) {
        return new ConnectionSpec(jdbcUrl, user, null, null, password);
    }

    public Secret secret() {
        return password != null ? password : Secret.resolve(passwordEnv, passwordFile);
    }

    /** Opens a JDBC connection; the error message never carries the password. */
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
            throw new SQLException("cannot connect to " + io.pgbackfill.core.Redaction.redact(jdbcUrl, s) + ": "
                    + io.pgbackfill.core.Redaction.redact(e.getMessage(), s), e.getSQLState());
        }
    }

    /** host, port and database parsed from a jdbc:postgresql://host:port/db URL (for Debezium). */
    public JdbcUrl parsedUrl() {
        return JdbcUrl.parse(jdbcUrl);
    }

    @Override
    public String toString() {
        return "ConnectionSpec[" + io.pgbackfill.core.Redaction.redact(jdbcUrl) + ", user=" + user + "]";
    }

    public record JdbcUrl(String host, int port, String database) {
        static JdbcUrl parse(String url) {
            String prefix = "jdbc:postgresql://";
            if (url == null || !url.startsWith(prefix)) {
                throw new IllegalArgumentException("jdbcUrl must start with " + prefix);
            }
            String rest = url.substring(prefix.length());
            int q = rest.indexOf('?');
            if (q >= 0) {
                rest = rest.substring(0, q);
            }
            int slash = rest.indexOf('/');
            String hostPort = slash < 0 ? rest : rest.substring(0, slash);
            String db = slash < 0 ? "postgres" : rest.substring(slash + 1);
            int colon = hostPort.lastIndexOf(':');
            String host = colon < 0 ? hostPort : hostPort.substring(0, colon);
            int port = colon < 0 ? 5432 : Integer.parseInt(hostPort.substring(colon + 1));
            return new JdbcUrl(host, port, db);
        }
    }
}
