package io.pgbackfill.core.kafka;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;

/**
 * The settings of an existing pipeline topic that decide whether events can disappear before a stage reads them, and
 * what is wrong with them. {@code preflight} turns the findings into checks, {@code status} shows them.
 */
public record TopicSettings(String topic, int partitions, int replicationFactor, long retentionMs, long retentionBytes,
                            String cleanupPolicy, int minInsyncReplicas) {

    public enum Severity { WARN, FAIL }

    /** Something about a topic's settings, with the fix. */
    public record Finding(Severity severity, String problem, String fix) {
    }

    /** The settings of those {@code topics} that exist (missing ones are left out: they will be created right). */
    public static Map<String, TopicSettings> read(Admin admin, Collection<String> topics) throws ExecutionException, InterruptedException {
        var names = admin.listTopics().names().get();
        List<String> present = topics.stream().filter(names::contains).toList();
        Map<String, TopicSettings> out = new LinkedHashMap<>();
        if (present.isEmpty()) {
            return out;
        }
        Map<String, TopicDescription> described = admin.describeTopics(present).allTopicNames().get();
        List<ConfigResource> resources = present.stream().map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList();
        Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get();
        for (String t : present) {
            TopicDescription d = described.get(t);
            Config c = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, t));
            out.put(t, new TopicSettings(t, d.partitions().size(), d.partitions().isEmpty() ? 0 : d.partitions().get(0).replicas().size(),
                    number(c, "retention.ms"), number(c, "retention.bytes"), value(c, "cleanup.policy"), (int) number(c, "min.insync.replicas")));
        }
        return out;
    }

    private static String value(Config c, String name) {
        var e = c.get(name);
        return e == null || e.value() == null ? "" : e.value();
    }

    private static long number(Config c, String name) {
        String v = value(c, name);
        return v.isEmpty() ? -1 : Long.parseLong(v);
    }

    /** What can lose events or block writes; {@code brokers} is the cluster's size (replication it could give). */
    public List<Finding> findings(int brokers) {
        List<Finding> out = new ArrayList<>();
        String alter = "kafka-configs.sh --bootstrap-server ... --alter --entity-type topics --entity-name " + topic + " --add-config ";
        if (cleanupPolicy.contains("compact")) {
            out.add(new Finding(Severity.FAIL, "cleanup.policy=" + cleanupPolicy + ": compaction deletes older versions and rejects the keyless watermarks",
                    alter + "cleanup.policy=delete,retention.ms=-1,retention.bytes=-1"));
        }
        if (retentionMs >= 0 || retentionBytes >= 0) {
            out.add(new Finding(Severity.WARN, "retention.ms=" + retentionMs + ", retention.bytes=" + retentionBytes
                    + ": a stage stopped or behind for longer loses unread events (it then stops with exit 3 and needs a resync)",
                    alter + "retention.ms=-1,retention.bytes=-1 (teardown --kafka deletes the topics at the end)"));
        }
        if (replicationFactor < Math.min(3, brokers)) {
            out.add(new Finding(Severity.WARN, "replication factor " + replicationFactor + " on a cluster of " + brokers
                    + " brokers: losing one broker loses events", "recreate the topic with replication factor " + Math.min(3, brokers)
                    + " before the pipeline starts (kafka-reassign-partitions.sh for a running one)"));
        }
        if (minInsyncReplicas > replicationFactor) {
            out.add(new Finding(Severity.FAIL, "min.insync.replicas=" + minInsyncReplicas + " is above the replication factor " + replicationFactor
                    + ": writes with acks=all are refused", alter + "min.insync.replicas=" + replicationFactor));
        } else if (replicationFactor > 1 && minInsyncReplicas < 2) {
            out.add(new Finding(Severity.WARN, "min.insync.replicas=" + minInsyncReplicas + " with replication factor " + replicationFactor
                    + ": an acknowledged write may live on one broker only", alter + "min.insync.replicas=2"));
        }
        return out;
    }

    /** One line for status. */
    public String summary() {
        return String.format(java.util.Locale.ROOT, "retention.ms=%d retention.bytes=%d cleanup.policy=%s replicas=%d min.insync.replicas=%d",
                retentionMs, retentionBytes, cleanupPolicy, replicationFactor, minInsyncReplicas);
    }
}
