package io.pgbackfill.core.kafka;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import io.pgbackfill.core.spec.KafkaSpec;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates the pipeline's topics when missing; a topic that exists is left as it is ({@code preflight} and {@code status}
 * check its settings, see {@link TopicSettings}).
 */
public final class KafkaTopics {
    /**
     * Largest record the pipeline writes (topic max.message.bytes, producers' max.request.size): rows with
     * multi-megabyte values (a 2 MB text column is not rare) must flow, not stop the producer.
     */
    public static final int MAX_RECORD_BYTES = 64 * 1024 * 1024;

    /**
     * Settings of every topic the pipeline creates (raw, rows, DLQ). Retention is unlimited while the pipeline exists
     * (teardown --kafka deletes the topics): a stage stopped over a long weekend must find its unread events still there,
     * and dead letters must stay replayable. Deletion by time or size would make a stage skip changes (it now stops
     * instead, see {@link OffsetGap}, but then only a resync repairs the target).
     */
    public static final Map<String, String> TOPIC_CONFIGS = Map.of(
            "compression.type", "producer",
            "max.message.bytes", Integer.toString(MAX_RECORD_BYTES),
            "cleanup.policy", "delete",
            "retention.ms", "-1",
            "retention.bytes", "-1");

    private KafkaTopics() {
    }

    public static Admin admin(KafkaSpec kafka) {
        return Admin.create(KafkaClientConfig.of(kafka, "pgbackfill-admin"));
    }

    /** An admin client whose calls give up after {@code timeoutMs} (checks that must answer, not wait for a broker). */
    public static Admin admin(KafkaSpec kafka, int timeoutMs) {
        java.util.Properties p = KafkaClientConfig.of(kafka, "pgbackfill-admin");
        p.put(org.apache.kafka.clients.admin.AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs);
        p.put(org.apache.kafka.clients.admin.AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(timeoutMs, 5000));
        return Admin.create(p);
    }

    /** Creates the missing topics; refused credentials or certificates fail as {@link io.pgbackfill.core.CannotStart}. */
    public static void ensure(KafkaSpec kafka, Collection<String> topics, int partitions) {
        try (Admin admin = admin(kafka)) {
            ensure(admin, topics, partitions);
        } catch (RuntimeException e) {
            throw KafkaClientConfig.cannotStart(kafka, e).map(RuntimeException.class::cast).orElse(e);
        }
    }

    /** Partition count of each topic (topics that do not exist are left out). */
    public static Map<String, Integer> partitionCounts(KafkaSpec kafka, Collection<String> topics) {
        try (Admin admin = admin(kafka)) {
            Map<String, Integer> out = new java.util.HashMap<>();
            long deadline = System.currentTimeMillis() + 15_000;
            do {
                // Topics created a moment ago may not be in the metadata yet: ask again briefly.
                for (var e : admin.describeTopics(topics).topicNameValues().entrySet()) {
                    try {
                        out.put(e.getKey(), e.getValue().get().partitions().size());
                    } catch (ExecutionException ex) {
                        // not visible yet, or missing
                    }
                }
                if (out.size() < topics.size()) {
                    Thread.sleep(100);
                }
            } while (out.size() < topics.size() && System.currentTimeMillis() < deadline);
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static void ensure(Admin admin, Collection<String> topics, int partitions) {
        List<NewTopic> wanted = new ArrayList<>();
        for (String t : topics) {
            // Replication factor: the broker's default (1 on a single node, 3 on a production cluster).
            wanted.add(new NewTopic(t, java.util.Optional.of(partitions), java.util.Optional.empty())
                    .configs(TOPIC_CONFIGS));
        }
        var result = admin.createTopics(wanted);
        for (var e : result.values().entrySet()) {
            try {
                e.getValue().get();
            } catch (ExecutionException ex) {
                if (!(ex.getCause() instanceof TopicExistsException)) {
                    throw new IllegalStateException("cannot create topic " + e.getKey() + ": " + ex.getCause().getMessage(), ex.getCause());
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(ex);
            }
        }
    }
}
