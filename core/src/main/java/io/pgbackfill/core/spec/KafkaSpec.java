package io.pgbackfill.core.spec;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Kafka: where events go. {@code partitions} bounds the parallelism of the transformer and the sink.
 * {@code properties} are client properties (security, SASL, TLS, DNS) given to every Kafka client
 * pgbackfill creates; {@link io.pgbackfill.core.kafka.KafkaClientConfig} checks and applies them.
 */
public record KafkaSpec(String bootstrapServers, String topicPrefix, Integer partitions, Map<String, KafkaProperty> properties) {
    public static final KafkaSpec DEFAULT = new KafkaSpec(null, null, null);

    public KafkaSpec {
        // Defaults and checks: SpecOptions (docs/spec-reference.md).
        bootstrapServers = SpecOptions.KAFKA_BOOTSTRAP_SERVERS.resolve(bootstrapServers);
        partitions = SpecOptions.KAFKA_PARTITIONS.resolve(partitions);
        properties = properties == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(properties));
    }

    public KafkaSpec(String bootstrapServers, String topicPrefix, Integer partitions) {
        this(bootstrapServers, topicPrefix, partitions, null);
    }

    public KafkaSpec withBootstrapServers(String servers) {
        return new KafkaSpec(servers, topicPrefix, partitions, properties);
    }

    public KafkaSpec withProperties(Map<String, KafkaProperty> p) {
        return new KafkaSpec(bootstrapServers, topicPrefix, partitions, p);
    }
}
