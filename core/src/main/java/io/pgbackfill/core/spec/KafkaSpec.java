package io.pgbackfill.core.spec;

/** Kafka: where events go. {@code partitions} bounds the parallelism of the transformer and the sink. */
public record KafkaSpec(String bootstrapServers, String topicPrefix, Integer partitions) {
    public static final KafkaSpec DEFAULT = new KafkaSpec("localhost:9092", null, 4);

    public KafkaSpec {
        bootstrapServers = bootstrapServers == null ? DEFAULT_BOOTSTRAP : bootstrapServers;
        partitions = partitions == null ? 4 : partitions;
        if (partitions < 1) {
            throw new IllegalArgumentException("kafka.partitions must be at least 1");
        }
    }

    private static final String DEFAULT_BOOTSTRAP = "localhost:9092";

    public KafkaSpec withBootstrapServers(String servers) {
        return new KafkaSpec(servers, topicPrefix, partitions);
    }
}
