package io.pgbackfill.ops.bench;

import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Creates a pipeline's topics before it starts and waits until the broker describes all of them.
 * The transformer reads the partition counts of the topics right after creating them, and a topic
 * created a moment before may not be described yet (seen here on a fresh broker); doing it first,
 * and waiting, keeps a bench run from failing on that race.
 */
final class BenchTopics {
    private BenchTopics() {
    }

    static void prepare(PipelineSpec spec, Duration timeout) throws InterruptedException {
        List<String> topics = new ArrayList<>();
        for (TableSpec t : spec.tables()) {
            topics.add(spec.rawTopic(t));
            topics.add(spec.rowsTopic(t));
            topics.add(spec.dlqTopic(t));
        }
        awaitCreated(spec.kafka(), topics, spec.kafka().partitions(), timeout);
    }

    static void awaitCreated(io.pgbackfill.core.spec.KafkaSpec kafka, List<String> topics, int partitions, Duration timeout) throws InterruptedException {
        KafkaTopics.ensure(kafka, topics, partitions);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (KafkaTopics.partitionCounts(kafka, topics).size() < topics.size()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("topics " + topics + " not described by the broker within " + timeout.toSeconds() + " s");
            }
            Thread.sleep(50);
        }
    }
}
