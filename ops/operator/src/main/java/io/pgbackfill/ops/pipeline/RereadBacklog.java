package io.pgbackfill.ops.pipeline;

import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.spec.PipelineSpec;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Re-read requests the producer has not finished yet: the re-read topic's end offset minus what the producer's relay
 * committed. The relay commits a request only once its rows are in the raw topics ahead of a watermark, so a backlog
 * of zero, followed by a fence the target passes, means every requested row is in the target (or the DLQ).
 */
final class RereadBacklog implements AutoCloseable {
    private final PipelineSpec spec;
    private final Admin admin;
    private final TopicPartition tp;

    RereadBacklog(PipelineSpec spec) {
        this.spec = spec;
        this.admin = KafkaTopics.admin(spec.kafka());
        this.tp = new TopicPartition(spec.rereadTopic(), 0);
    }

    /** Requests not finished yet. */
    long size() throws InterruptedException {
        long end;
        try {
            end = admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp).get().offset();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return 0; // no sink of this version has run: nothing was ever asked
            }
            throw new IllegalStateException("cannot read the end of " + spec.rereadTopic() + ": " + e.getCause().getMessage(), e.getCause());
        }
        if (end == 0) {
            return 0;
        }
        Map<TopicPartition, OffsetAndMetadata> committed;
        try {
            committed = admin.listConsumerGroupOffsets(spec.rereadGroupId()).partitionsToOffsetAndMetadata().get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot read the offsets of group " + spec.rereadGroupId() + ": " + e.getCause().getMessage(), e.getCause());
        }
        OffsetAndMetadata done = committed == null ? null : committed.get(tp);
        return Math.max(0, end - (done == null ? 0 : done.offset()));
    }

    @Override
    public void close() {
        admin.close();
    }
}
