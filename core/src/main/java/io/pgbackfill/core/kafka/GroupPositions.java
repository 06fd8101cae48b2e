package io.pgbackfill.core.kafka;

import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * A consumer group's positions on its input topics, read and set with the admin client: for a stage that cannot hook
 * into its own partition assignment (Kafka Streams), checked before it starts.
 */
public final class GroupPositions {
    private GroupPositions() {
    }

    /** Every partition of {@code topics} (which must exist). */
    public static List<TopicPartition> partitions(Admin admin, Collection<String> topics) throws ExecutionException, InterruptedException {
        return admin.describeTopics(topics).allTopicNames().get().values().stream()
                .flatMap(d -> d.partitions().stream().map(p -> new TopicPartition(d.name(), p.partition()))).toList();
    }

    public static Map<TopicPartition, Long> logStarts(Admin admin, Collection<TopicPartition> partitions) throws ExecutionException, InterruptedException {
        return offsets(admin, partitions, OffsetSpec.earliest());
    }

    public static Map<TopicPartition, Long> ends(Admin admin, Collection<TopicPartition> partitions) throws ExecutionException, InterruptedException {
        return offsets(admin, partitions, OffsetSpec.latest());
    }

    private static Map<TopicPartition, Long> offsets(Admin admin, Collection<TopicPartition> partitions, OffsetSpec spec) throws ExecutionException, InterruptedException {
        Map<TopicPartition, OffsetSpec> want = new LinkedHashMap<>();
        partitions.forEach(tp -> want.put(tp, spec));
        Map<TopicPartition, Long> out = new HashMap<>();
        admin.listOffsets(want).all().get().forEach((tp, info) -> out.put(tp, info.offset()));
        return out;
    }

    public static Map<TopicPartition, Long> committed(Admin admin, String group) throws ExecutionException, InterruptedException {
        Map<TopicPartition, Long> out = new HashMap<>();
        Map<TopicPartition, OffsetAndMetadata> c = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
        c.forEach((tp, om) -> {
            if (om != null) {
                out.put(tp, om.offset());
            }
        });
        return out;
    }

    /**
     * Refuses to start a stage whose group would have to skip deleted events, and gives every partition without a
     * committed offset (a first start) the offset it would read from, its log start: then the stage can consume with
     * {@code auto.offset.reset=none}, and an offset that falls out of range while it runs stops it too. Another
     * instance of the group already running has done the same, so its refusal to take offsets is ignored.
     */
    public static void guard(Admin admin, String group, Collection<String> topics, String stage) throws ExecutionException, InterruptedException {
        List<TopicPartition> partitions = partitions(admin, topics);
        Map<TopicPartition, Long> committed = committed(admin, group);
        Map<TopicPartition, Long> starts = logStarts(admin, partitions);
        List<OffsetGap> gaps = OffsetGap.find(partitions, committed, starts);
        if (!gaps.isEmpty()) {
            throw new OffsetGap.EventsLost(stage, gaps);
        }
        Map<TopicPartition, OffsetAndMetadata> first = new HashMap<>();
        for (TopicPartition tp : partitions) {
            if (!committed.containsKey(tp)) {
                first.put(tp, new OffsetAndMetadata(starts.get(tp)));
            }
        }
        if (!first.isEmpty()) {
            try {
                admin.alterConsumerGroupOffsets(group, first).all().get();
            } catch (ExecutionException e) {
                // The group has members: an instance that started first set these offsets before it joined.
            }
        }
    }

    /** Sets the group's offsets (the group must have no members). */
    public static void set(Admin admin, String group, Map<TopicPartition, Long> offsets) throws ExecutionException, InterruptedException {
        Map<TopicPartition, OffsetAndMetadata> om = new HashMap<>();
        offsets.forEach((tp, o) -> om.put(tp, new OffsetAndMetadata(o)));
        admin.alterConsumerGroupOffsets(group, om).all().get();
    }
}
