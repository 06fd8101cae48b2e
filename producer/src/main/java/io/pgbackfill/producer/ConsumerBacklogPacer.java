package io.pgbackfill.producer;

import io.pgbackfill.core.kafka.KafkaClientConfig;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the snapshot at most {@code maxBacklog} records ahead of the pipeline: before a chunk, the records in the raw
 * topics the transformer has not committed plus those in the rows topics the sink has not committed. A change made
 * during the snapshot is streamed at once, but it queues in Kafka behind every snapshot row produced before it; without
 * this bound the queue (and so the change's delay) would grow with the table whenever the snapshot reads faster than
 * the transformer and the sink write. A partition a group has not committed yet (a stage not started) counts as no
 * backlog, so the producer alone is never held up.
 */
final class ConsumerBacklogPacer implements ChunkGate, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerBacklogPacer.class);
    private static final long POLL_MILLIS = 25;
    private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final Admin admin;
    private final long maxBacklog;
    private final String transformerGroup;
    private final String sinkGroup;
    private final List<TopicPartition> raw = new ArrayList<>();
    private final List<TopicPartition> rows = new ArrayList<>();
    private volatile boolean closed;

    ConsumerBacklogPacer(PipelineSpec spec, long maxBacklog) {
        this.admin = Admin.create(KafkaClientConfig.of(spec.kafka(), "pgbackfill-" + spec.pipelineName() + "-snapshot-pacer"));
        this.maxBacklog = maxBacklog;
        this.transformerGroup = spec.transformerApplicationId();
        this.sinkGroup = spec.sinkGroupId();
        for (TableSpec t : spec.tables()) {
            for (int p = 0; p < spec.kafka().partitions(); p++) {
                raw.add(new TopicPartition(spec.rawTopic(t), p));
                rows.add(new TopicPartition(spec.rowsTopic(t), p));
            }
        }
    }

    @Override
    public void beforeChunk(String table) throws InterruptedException {
        long since = System.nanoTime();
        long lastLog = since;
        while (!closed) {
            long backlog;
            try {
                backlog = backlog();
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
                LOG.debug("cannot read the pipeline's backlog; reading the next chunk anyway: {}", e.getMessage());
                return; // pacing is about freshness, never about correctness: an unreadable backlog does not stop the snapshot
            }
            if (backlog <= maxBacklog) {
                return;
            }
            if (System.nanoTime() - lastLog > LOG_EVERY_NANOS) {
                LOG.info("snapshot of {} waits: {} records in Kafka not yet consumed by the transformer and the sink (limit {})", table, backlog, maxBacklog);
                lastLog = System.nanoTime();
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    /** Records produced but not yet committed by the stage reading them, over raw and rows topics. */
    long backlog() throws java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException, InterruptedException {
        List<TopicPartition> all = new ArrayList<>(raw);
        all.addAll(rows);
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        all.forEach(tp -> request.put(tp, OffsetSpec.latest()));
        var ends = admin.listOffsets(request).all().get(10, TimeUnit.SECONDS);
        var committed = admin.listConsumerGroupOffsets(Map.of(
                transformerGroup, new ListConsumerGroupOffsetsSpec().topicPartitions(raw),
                sinkGroup, new ListConsumerGroupOffsetsSpec().topicPartitions(rows)));
        Map<TopicPartition, OffsetAndMetadata> t = committed.partitionsToOffsetAndMetadata(transformerGroup).get(10, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetAndMetadata> s = committed.partitionsToOffsetAndMetadata(sinkGroup).get(10, TimeUnit.SECONDS);
        return behind(raw, ends, t) + behind(rows, ends, s);
    }

    private static long behind(List<TopicPartition> parts, Map<TopicPartition, org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo> ends,
                               Map<TopicPartition, OffsetAndMetadata> committed) {
        long n = 0;
        for (TopicPartition tp : parts) {
            OffsetAndMetadata c = committed.get(tp);
            var end = ends.get(tp);
            if (c != null && end != null) {
                n += Math.max(0, end.offset() - c.offset());
            }
        }
        return n;
    }

    @Override
    public void close() {
        closed = true;
        admin.close(java.time.Duration.ofSeconds(5));
    }
}
