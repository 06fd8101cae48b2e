package io.pgbackfill.ops.dlq;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.core.event.DeadLetter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Reads a pipeline's dead-letter topics (show) and sends their records back where they failed (replay):
 * transformer rejects to the raw topic, sink rejects to the rows topic. Replayed records keep their
 * source LSN, so a replay never overwrites a newer version of a row. The replay group's committed
 * offsets remember what was already replayed.
 */
public final class DeadLetterTopic {
    public record Letter(String topic, int partition, long offset, String stage, String reason, String message, String sourceTopic, byte[] key, byte[] value) {
    }

    private final PipelineSpec spec;

    public DeadLetterTopic(PipelineSpec spec) {
        this.spec = spec;
    }

    public String replayGroup() {
        return "pgbackfill-" + spec.pipelineName() + "-dlq-replay";
    }

    /** Every dead letter from the beginning (no consumer group), oldest first per partition. */
    public void forEach(Consumer<Letter> visitor) {
        try (KafkaConsumer<byte[], byte[]> c = consumer(null)) {
            List<TopicPartition> parts = partitions(c);
            c.assign(parts);
            c.seekToBeginning(parts);
            drain(c, parts, visitor);
        }
    }

    /**
     * Dead letters not replayed yet (past the replay group's committed offsets): rows the target does not have, by
     * table and reason, and the end offsets they were counted up to.
     */
    public record Outstanding(long total, Map<String, Long> byReason, Map<TopicPartition, Long> endOffsets) {
        /** {@code 3,500 "NULL into NOT NULL column email" (users_v2), 20 "numeric overflow" (users_v2)}. */
        public String describe() {
            List<String> parts = new ArrayList<>();
            byReason.forEach((r, n) -> parts.add(String.format(java.util.Locale.ROOT, "%,d %s", n, r)));
            return String.join(", ", parts);
        }
    }

    public Outstanding outstanding() {
        Map<String, Long> byReason = new java.util.TreeMap<>();
        long[] total = {0};
        Map<TopicPartition, Long> end;
        try (KafkaConsumer<byte[], byte[]> c = consumer(replayGroup())) {
            List<TopicPartition> parts = partitions(c);
            c.assign(parts);
            seekToUnreplayed(c, parts);
            end = c.endOffsets(parts);
            Map<String, String> tableOf = new java.util.HashMap<>();
            spec.tables().forEach(t -> tableOf.put(spec.dlqTopic(t), t.targetName().id()));
            drain(c, parts, l -> {
                total[0]++;
                byReason.merge("\"" + l.reason() + "\" (" + tableOf.get(l.topic()) + ")", 1L, Long::sum);
            });
        }
        return new Outstanding(total[0], byReason, end);
    }

    /** End offsets of the dead-letter topics now: compared with {@link Outstanding#endOffsets()} to see letters that arrived since. */
    public Map<TopicPartition, Long> endOffsets() {
        try (KafkaConsumer<byte[], byte[]> c = consumer(null)) {
            return c.endOffsets(partitions(c));
        }
    }

    private static void seekToUnreplayed(KafkaConsumer<byte[], byte[]> c, List<TopicPartition> parts) {
        Map<TopicPartition, OffsetAndMetadata> committed = c.committed(new java.util.HashSet<>(parts));
        for (TopicPartition tp : parts) {
            OffsetAndMetadata om = committed.get(tp);
            if (om == null) {
                c.seekToBeginning(List.of(tp));
            } else {
                c.seek(tp, om.offset());
            }
        }
    }

    /** Sends not-yet-replayed dead letters back; returns how many. */
    public long replay() {
        long n = 0;
        try (KafkaConsumer<byte[], byte[]> c = consumer(replayGroup());
             KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(producerProps(), new ByteArraySerializer(), new ByteArraySerializer())) {
            List<TopicPartition> parts = partitions(c);
            c.assign(parts);
            seekToUnreplayed(c, parts);
            List<Letter> letters = new ArrayList<>();
            drain(c, parts, letters::add);
            for (Letter l : letters) {
                p.send(new ProducerRecord<>(l.sourceTopic(), l.key(), l.value()));
                n++;
            }
            p.flush();
            c.commitSync(); // positions after everything read: replayed once
        }
        return n;
    }

    private void drain(KafkaConsumer<byte[], byte[]> c, List<TopicPartition> parts, Consumer<Letter> visitor) {
        Map<TopicPartition, Long> end = c.endOffsets(parts);
        while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
            for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                visitor.accept(new Letter(r.topic(), r.partition(), r.offset(), DeadLetter.header(r.headers(), DeadLetter.STAGE),
                        DeadLetter.header(r.headers(), DeadLetter.REASON), DeadLetter.header(r.headers(), DeadLetter.MESSAGE),
                        DeadLetter.header(r.headers(), DeadLetter.SOURCE_TOPIC), r.key(), r.value()));
            }
        }
    }

    private List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> c) {
        List<TopicPartition> parts = new ArrayList<>();
        for (TableSpec t : spec.tables()) {
            var infos = c.partitionsFor(spec.dlqTopic(t));
            if (infos != null) {
                infos.forEach(i -> parts.add(new TopicPartition(i.topic(), i.partition())));
            }
        }
        return parts;
    }

    private KafkaConsumer<byte[], byte[]> consumer(String group) {
        Properties p = io.pgbackfill.core.kafka.KafkaClientConfig.of(spec.kafka(), null);
        if (group != null) {
            p.put("group.id", group);
            p.put("enable.auto.commit", "false");
        }
        p.put("isolation.level", "read_committed");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private Properties producerProps() {
        Properties p = io.pgbackfill.core.kafka.KafkaClientConfig.of(spec.kafka(), null);
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        p.put("max.request.size", Integer.toString(io.pgbackfill.core.kafka.KafkaTopics.MAX_RECORD_BYTES));
        return p;
    }
}
