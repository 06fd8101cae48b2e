package io.pgbackfill.ops.bench;

import io.pgbackfill.core.spec.ConnectionSpec;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Kafka Connect baseline's settings: the tuned setup the Debezium documentation recommends
 * (upsert, batches of 5000 with the reduction buffer, consumer polls as large as a batch), producer
 * settings matching pgbackfill's producer, and JSON with schemas (the JDBC sink needs schemas, and
 * there is no schema registry here).
 */
final class KafkaConnectConfigs {
    static final String TOPIC_PREFIX = "benchconnect";
    static final String TOPIC = TOPIC_PREFIX + ".public.users";
    static final String SLOT = "bench_connect";
    static final String TARGET_TABLE = "users_connect";
    static final int BATCH = 5000;

    private KafkaConnectConfigs() {
    }

    static Map<String, String> worker(String bootstrapServers, Path stateDir) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("bootstrap.servers", bootstrapServers);
        p.put("key.converter", "org.apache.kafka.connect.json.JsonConverter");
        p.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
        p.put("key.converter.schemas.enable", "true");
        p.put("value.converter.schemas.enable", "true");
        p.put("offset.storage.file.filename", stateDir.resolve("connect.offsets").toString());
        p.put("offset.flush.interval.ms", "1000");
        p.put("listeners", "http://127.0.0.1:0"); // any free port: another worker may hold 8083
        // No plugin.path key at all: standalone refuses an empty one; plugins come from our classpath via their
        // service manifests (faster than scanning every class of it).
        p.put("plugin.discovery", "service_load");
        p.put("consumer.max.poll.records", Integer.toString(BATCH));
        p.put("producer.linger.ms", "20");
        p.put("producer.batch.size", "262144");
        p.put("producer.compression.type", "lz4");
        return p;
    }

    static Map<String, String> postgresSource(ConnectionSpec db) {
        ConnectionSpec.JdbcUrl url = db.parsedUrl();
        Map<String, String> p = new LinkedHashMap<>();
        p.put("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.put("tasks.max", "1");
        p.put("database.hostname", url.host());
        p.put("database.port", Integer.toString(url.port()));
        p.put("database.dbname", url.database());
        p.put("database.user", db.user());
        if (db.secret().isPresent()) {
            p.put("database.password", db.secret().reveal());
        }
        p.put("topic.prefix", TOPIC_PREFIX);
        p.put("plugin.name", "pgoutput");
        p.put("slot.name", SLOT);
        p.put("publication.name", SLOT);
        p.put("publication.autocreate.mode", "filtered");
        p.put("table.include.list", "public.users");
        p.put("snapshot.mode", "initial");
        p.put("tombstones.on.delete", "false");
        return p;
    }

    static Map<String, String> jdbcSink(ConnectionSpec db) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("connector.class", "io.debezium.connector.jdbc.JdbcSinkConnector");
        p.put("tasks.max", "1");
        p.put("topics", TOPIC);
        p.put("connection.url", db.jdbcUrl());
        p.put("connection.username", db.user());
        if (db.secret().isPresent()) {
            p.put("connection.password", db.secret().reveal());
        }
        p.put("insert.mode", "upsert");
        p.put("primary.key.mode", "record_key");
        p.put("delete.enabled", "false");
        p.put("schema.evolution", "none");
        p.put("collection.name.format", TARGET_TABLE);
        p.put("batch.size", Integer.toString(BATCH));
        p.put("use.reduction.buffer", "true");
        return p;
    }
}
