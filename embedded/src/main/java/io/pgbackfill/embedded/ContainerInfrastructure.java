package io.pgbackfill.embedded;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/** The Docker path: Testcontainers' Kafka (apache/kafka, KRaft) and PostgreSQL with wal_level=logical. */
public final class ContainerInfrastructure implements Infrastructure {
    static final String KAFKA_IMAGE = "apache/kafka:4.3.0"; // same as docker-compose.yml and the client version
    static final String POSTGRES_IMAGE = "postgres:17.6";
    private final KafkaContainer kafka;
    private final PostgreSQLContainer<?> postgres;

    private ContainerInfrastructure(KafkaContainer kafka, PostgreSQLContainer<?> postgres) {
        this.kafka = kafka;
        this.postgres = postgres;
    }

    /**
     * Asks Testcontainers only where a Docker engine could be: DOCKER_HOST, a Testcontainers config file, or one of the
     * usual sockets. Asked on a machine without Docker, Testcontainers logs an ERROR ("Could not find a valid Docker
     * environment") on every run, which reads as a failure although the embedded servers serve fine.
     */
    static boolean dockerAvailable() {
        if (!dockerEndpointConfigured()) {
            return false;
        }
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable t) {
            return false;
        }
    }

    static boolean dockerEndpointConfigured() {
        if (!System.getenv().getOrDefault("DOCKER_HOST", "").isBlank()) {
            return true;
        }
        String home = System.getProperty("user.home", "");
        List<Path> candidates = new ArrayList<>(List.of(Path.of("/var/run/docker.sock"), Path.of("/run/docker.sock"),
                Path.of(home, ".testcontainers.properties"), Path.of(home, ".docker/run/docker.sock"),
                Path.of(home, ".docker/desktop/docker.sock"), Path.of(home, ".colima/default/docker.sock"),
                Path.of(home, ".rd/docker.sock")));
        String runtime = System.getenv("XDG_RUNTIME_DIR");
        if (runtime != null && !runtime.isBlank()) {
            candidates.add(Path.of(runtime, "docker.sock"));
        }
        return candidates.stream().anyMatch(Files::exists);
    }

    public static ContainerInfrastructure start() {
        KafkaContainer k = new KafkaContainer(DockerImageName.parse(KAFKA_IMAGE));
        PostgreSQLContainer<?> pg = new PostgreSQLContainer<>(DockerImageName.parse(POSTGRES_IMAGE))
                .withCommand("postgres", "-c", "wal_level=logical", "-c", "max_wal_senders=20", "-c", "max_replication_slots=20",
                        "-c", "max_slot_wal_keep_size=4GB", "-c", "fsync=off");
        k.start();
        pg.start();
        return new ContainerInfrastructure(k, pg);
    }

    @Override
    public String kafkaBootstrapServers() {
        return kafka.getBootstrapServers();
    }

    @Override
    public String jdbcUrl(String database) throws SQLException {
        String base = postgres.getJdbcUrl();
        try (Connection c = DriverManager.getConnection(base, user(), password()); Statement st = c.createStatement()) {
            var rs = st.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + database.replace("'", "''") + "'");
            if (!rs.next()) {
                st.execute("CREATE DATABASE \"" + database.replace("\"", "") + "\"");
            }
        }
        return "jdbc:postgresql://" + postgres.getHost() + ":" + postgres.getMappedPort(5432) + "/" + database;
    }

    @Override
    public String user() {
        return postgres.getUsername();
    }

    @Override
    public String password() {
        return postgres.getPassword();
    }

    @Override
    public void restartPostgres() {
        var docker = DockerClientFactory.instance().client();
        docker.restartContainerCmd(postgres.getContainerId()).exec();
    }

    @Override
    public String kind() {
        return "testcontainers";
    }

    @Override
    public void close() {
        kafka.stop();
        postgres.stop();
    }
}
