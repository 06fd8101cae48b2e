package io.pgbackfill.embedded;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * Kafka and a PostgreSQL server (wal_level=logical) for tests and the demo: Testcontainers when a
 * Docker engine is reachable, the embedded broker and embedded PostgreSQL otherwise. Both are real
 * servers. Force one with {@code -Dpgbackfill.infra=embedded|containers} (or env PGBACKFILL_INFRA).
 */
public interface Infrastructure extends AutoCloseable {

    String kafkaBootstrapServers();

    /** JDBC URL of a database on the PostgreSQL server (created on first use). */
    String jdbcUrl(String database) throws SQLException;

    String user();

    String password();

    /** Stops and starts PostgreSQL on the same address and data. */
    void restartPostgres() throws Exception;

    /** What is running, for logs: "embedded" or "testcontainers". */
    String kind();

    default Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), user(), password());
    }

    static Infrastructure start() throws Exception {
        String forced = System.getProperty("pgbackfill.infra", System.getenv().getOrDefault("PGBACKFILL_INFRA", ""));
        if (forced.equals("containers") || (!forced.equals("embedded") && ContainerInfrastructure.dockerAvailable())) {
            InfrastructureLog.chosen("Docker containers (Testcontainers)" + (forced.isEmpty() ? ": a Docker engine answered" : ": forced by pgbackfill.infra"));
            return ContainerInfrastructure.start();
        }
        InfrastructureLog.chosen("embedded PostgreSQL and an in-process Kafka broker" + (forced.isEmpty() ? ": no Docker engine found" : ": forced by pgbackfill.infra"));
        return EmbeddedInfrastructure.start();
    }
}
