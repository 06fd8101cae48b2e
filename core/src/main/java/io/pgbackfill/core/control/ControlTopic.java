package io.pgbackfill.core.control;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackfill.core.kafka.KafkaClientConfig;
import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.spec.PipelineSpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The control channel: {@code <prefix>.control}, one partition, compacted, keyed by setting ({@link ControlState}).
 * Every stage reaches Kafka, wherever it runs (one JVM, or separate containers), so {@code backfill ctl} writes here
 * and each stage follows it ({@link ControlListener}); {@code status} and {@code cutover} read it to its end.
 */
public final class ControlTopic {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ControlTopic() {
    }

    public static void ensure(PipelineSpec spec) {
        try (Admin admin = KafkaTopics.admin(spec.kafka())) {
            Map<String, String> configs = new HashMap<>(KafkaTopics.TOPIC_CONFIGS);
            configs.put("cleanup.policy", "compact"); // the latest entry per key is the state
            configs.put("max.message.bytes", "1048576");
            admin.createTopics(List.of(new NewTopic(spec.controlTopic(), java.util.Optional.of(1), java.util.Optional.empty()).configs(configs)))
                    .all().get();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create topic " + spec.controlTopic() + ": " + e.getCause().getMessage(), e.getCause());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Sets {@code key} (or clears it, {@code entry} null), acknowledged by all in-sync replicas before it returns. */
    public static void publish(PipelineSpec spec, String key, ControlEntry entry) {
        try (Writer w = new Writer(spec)) {
            w.publish(key, entry);
        }
    }

    /** A writer kept open by a stage that reports often (the producer's throttle report). */
    public static final class Writer implements AutoCloseable {
        private final PipelineSpec spec;
        private KafkaProducer<byte[], byte[]> producer;

        public Writer(PipelineSpec spec) {
            this.spec = spec;
        }

        public void publish(String key, ControlEntry entry) {
            if (producer == null) {
                ensure(spec);
                Properties p = KafkaClientConfig.of(spec.kafka(), "pgbackfill-" + spec.pipelineName() + "-control");
                p.put("acks", "all");
                producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
            }
            try {
                producer.send(new ProducerRecord<>(spec.controlTopic(), 0, key.getBytes(StandardCharsets.UTF_8), entry == null ? null : encode(entry)))
                        .get(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                throw new IllegalStateException("cannot write to " + spec.controlTopic() + ": " + e.getCause().getMessage(), e.getCause());
            } catch (java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("cannot write to " + spec.controlTopic() + ": no answer from Kafka in 30 s", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close() {
            if (producer != null) {
                producer.close(Duration.ofSeconds(5));
            }
        }
    }

    /** The state now: the topic read from its start to its end (a compacted topic of a few keys). */
    public static ControlState read(PipelineSpec spec) {
        try (KafkaConsumer<byte[], byte[]> c = consumer(spec)) {
            TopicPartition tp = new TopicPartition(spec.controlTopic(), 0);
            if (c.partitionsFor(spec.controlTopic(), Duration.ofSeconds(10)).isEmpty()) {
                return ControlState.EMPTY;
            }
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            Map<String, ControlEntry> state = new HashMap<>();
            while (c.position(tp) < end) {
                c.poll(Duration.ofMillis(200)).forEach(r -> apply(state, r));
            }
            return new ControlState(state);
        } catch (org.apache.kafka.common.errors.UnknownTopicOrPartitionException e) {
            return ControlState.EMPTY;
        }
    }

    static KafkaConsumer<byte[], byte[]> consumer(PipelineSpec spec) {
        Properties p = KafkaClientConfig.of(spec.kafka(), "pgbackfill-" + spec.pipelineName() + "-control-reader");
        p.put("enable.auto.commit", "false");
        p.put("allow.auto.create.topics", "false");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    static void apply(Map<String, ControlEntry> state, ConsumerRecord<byte[], byte[]> r) {
        if (r.key() == null) {
            return;
        }
        String key = new String(r.key(), StandardCharsets.UTF_8);
        if (r.value() == null) {
            state.remove(key);
            return;
        }
        try {
            state.put(key, JSON.readValue(r.value(), ControlEntry.class));
        } catch (java.io.IOException e) {
            // Not ours (written by hand?): ignored rather than stopping every stage.
        }
    }

    static byte[] encode(ControlEntry e) {
        try {
            return JSON.writeValueAsBytes(e);
        } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
    }
}
