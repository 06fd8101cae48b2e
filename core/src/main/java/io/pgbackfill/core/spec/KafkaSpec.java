package io.pgbackfill.core.spec;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Kafka: where events go. {@code partitions} bounds the parallelism of the transformer and the sink.
 * {@code properties} are client properties (security, SASL, TLS, DNS) given to every Kafka client
 * pgbackfill creates; {@link io.pgbackfill.core.kafka.KafkaClientConfig} checks and applies them.
 */
public record KafkaSpec(String bootstrapServers, String topicPrefix, Integer partitions, Map<String, KafkaProperty> properties) {
    public static final KafkaSpec DEFAULT = new KafkaSpec("localhost:9092", null, 4);

    public KafkaSpec {
        bootstrapServers = bootstrapServers == null ? DEFAULT_BOOTSTRAP : bootstrapServers;
        partitions = partitions == null ? 4 : partitions;
        if (partitions < 1) {
            throw new IllegalArgumentException("kafka.partitions must be at least 1");
        }
        properties = properties == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(properties));
    }

    public KafkaSpec(String bootstrapServers, String topicPrefix, Integer partitions) {
        this(bootstrapServers, topicPrefix, partitions, null);
    }

    private static final String DEFAULT_BOOTSTRAP = "localhost:9092";

    public KafkaSpec withBootstrapServers(String servers) {
        return new KafkaSpec(servers, topicPrefix, partitions, properties);
    }

    public KafkaSpec withProperties(Map<String, KafkaProperty> p) {
        return new KafkaSpec(bootstrapServers, topicPrefix, partitions, p);
    }
}
