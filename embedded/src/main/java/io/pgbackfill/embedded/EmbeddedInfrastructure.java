package io.pgbackfill.embedded;

import java.sql.SQLException;

/** The no-Docker path: in-process KRaft broker + embedded PostgreSQL. */
public final class EmbeddedInfrastructure implements Infrastructure {
    private final EmbeddedKafkaBroker kafka;
    private final EmbeddedPostgresServer postgres;

    private EmbeddedInfrastructure(EmbeddedKafkaBroker kafka, EmbeddedPostgresServer postgres) {
        this.kafka = kafka;
        this.postgres = postgres;
    }

    public static EmbeddedInfrastructure start() throws Exception {
        EmbeddedPostgresServer pg = EmbeddedPostgresServer.start();
        try {
            return new EmbeddedInfrastructure(EmbeddedKafkaBroker.start(), pg);
        } catch (Exception e) {
            pg.close();
            throw e;
        }
    }

    public EmbeddedPostgresServer postgres() {
        return postgres;
    }

    @Override
    public String kafkaBootstrapServers() {
        return kafka.bootstrapServers();
    }

    @Override
    public String jdbcUrl(String database) throws SQLException {
        postgres.createDatabase(database);
        return postgres.jdbcUrl(database);
    }

    @Override
    public String user() {
        return postgres.user();
    }

    @Override
    public String password() {
        return "";
    }

    @Override
    public void restartPostgres() throws Exception {
        postgres.restart();
    }

    @Override
    public String kind() {
        return "embedded";
    }

    @Override
    public void close() throws Exception {
        try {
            kafka.close();
        } finally {
            postgres.close();
        }
    }
}
