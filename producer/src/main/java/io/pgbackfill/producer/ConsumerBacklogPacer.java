package io.pgbackfill.producer;

import io.pgbackfill.core.kafka.KafkaClientConfig;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.HashSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the snapshot at most three chunks ahead of the pipeline: before a chunk, the records in the raw topics the
 * transformer has not committed plus those in the rows topics the sink has not committed. A change made during the
 * snapshot is streamed at once, but it queues in Kafka behind every snapshot row produced before it; without this bound
 * the queue (and so the change's delay) would grow with the table whenever the snapshot reads faster than the
 * transformer and the sink write.
 *
 * <p>Chunk size by the pipeline's pace: a chunk ({@link #chunkRows}) is what the sink commits in
 * {@link #CHUNK_SECONDS}, measured over the last second or more, between {@link #FIRST_CHUNK_ROWS} and the configured
 * size. While the transformer and the sink are still starting (classes loading, code not yet compiled) they move a few
 * thousand rows a second at most: three full chunks ahead of them would hold a change back for many seconds, three
 * small ones about a second and a half. Once they are warm, chunks are full size (per-chunk costs stay small).
 *
 * <p>A group with members that has not committed a partition yet (a stage just started) counts that partition's records
 * as behind; a group with no members and no commits (a stage not started, e.g. the producer run alone) counts nothing,
 * so the producer alone is never held up. When the transformer and the sink run in this JVM ({@code backfill up}) they
 * are running from the start, before they have joined their groups (a few seconds of the snapshot otherwise unpaced).
 */
final class ConsumerBacklogPacer implements ChunkGate, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerBacklogPacer.class);
    private static final long POLL_MILLIS = 25;
    private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);

    /** The first chunk's rows, and the least: three of them cost a starting pipeline a second or two. */
    static final int FIRST_CHUNK_ROWS = 1000;
    /** A chunk is what the sink writes in this long: three chunks ahead, a change made now waits about three times it. */
    static final double CHUNK_SECONDS = 0.5;
    private static final long RATE_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Admin admin;
    private final int fullChunkRows;
    private final boolean stagesInThisJvm;
    private volatile int chunkRows;
    private final String transformerGroup;
    private final String sinkGroup;
    private final List<TopicPartition> raw = new ArrayList<>();
    private final List<TopicPartition> rows = new ArrayList<>();
    private volatile boolean closed;
    private long rateSinceNanos = -1;
    private long rateSinceCommitted;

    /**
     * @param fullChunkRows   the configured chunk (after the byte budget): the most rows a chunk grows to
     * @param stagesInThisJvm the transformer and the sink run in this JVM: they count as running from the start
     */
    ConsumerBacklogPacer(PipelineSpec spec, int fullChunkRows, boolean stagesInThisJvm) {
        this.stagesInThisJvm = stagesInThisJvm;
        this.admin = Admin.create(KafkaClientConfig.of(spec.kafka(), "pgbackfill-" + spec.pipelineName() + "-snapshot-pacer"));
        this.fullChunkRows = Math.max(1, fullChunkRows);
        this.chunkRows = Math.min(this.fullChunkRows, FIRST_CHUNK_ROWS);
        this.transformerGroup = spec.transformerApplicationId();
        this.sinkGroup = spec.sinkGroupId();
        for (TableSpec t : spec.tables()) {
            for (int p = 0; p < spec.kafka().partitions(); p++) {
                raw.add(new TopicPartition(spec.rawTopic(t), p));
                rows.add(new TopicPartition(spec.rowsTopic(t), p));
            }
        }
    }

    /** Rows of the next chunk, by the pipeline's pace: read after {@link #beforeChunk} let it go. */
    int chunkRows() {
        return chunkRows;
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
            long maxBacklog = 3L * chunkRows;
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
        var committed = admin.listConsumerGroupOffsets(Map.of(
                transformerGroup, new ListConsumerGroupOffsetsSpec().topicPartitions(raw),
                sinkGroup, new ListConsumerGroupOffsetsSpec().topicPartitions(rows)));
        Map<TopicPartition, OffsetAndMetadata> t = committed.partitionsToOffsetAndMetadata(transformerGroup).get(10, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetAndMetadata> s = committed.partitionsToOffsetAndMetadata(sinkGroup).get(10, TimeUnit.SECONDS);
        Set<String> running = running(t, s);
        pace(s, running.contains(sinkGroup));
        // Only the topics a running stage reads: a stage not started counts nothing (and may not have created its topics yet).
        List<TopicPartition> read = new ArrayList<>(running.contains(transformerGroup) ? raw : List.of());
        read.addAll(running.contains(sinkGroup) ? rows : List.of());
        if (read.isEmpty()) {
            return 0;
        }
        Map<TopicPartition, OffsetAndMetadata> positions = new HashMap<>(t);
        positions.putAll(s); // raw and rows partitions are disjoint
        var ends = offsets(read, OffsetSpec.latest());
        // A partition a running stage has not committed yet: everything in it so far is behind.
        var starts = offsets(read.stream().filter(tp -> positions.get(tp) == null).toList(), OffsetSpec.earliest());
        long behind = 0;
        for (TopicPartition tp : read) {
            OffsetAndMetadata c = positions.get(tp);
            Long from = c != null ? Long.valueOf(c.offset()) : starts.get(tp);
            if (ends.containsKey(tp) && from != null) {
                behind += Math.max(0, ends.get(tp) - from);
            }
        }
        return behind;
    }

    private Map<TopicPartition, Long> offsets(List<TopicPartition> parts, OffsetSpec spec)
            throws java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException, InterruptedException {
        Map<TopicPartition, Long> offsets = new HashMap<>();
        if (!parts.isEmpty()) {
            Map<TopicPartition, OffsetSpec> request = new HashMap<>();
            parts.forEach(tp -> request.put(tp, spec));
            admin.listOffsets(request).all().get(10, TimeUnit.SECONDS).forEach((tp, info) -> offsets.put(tp, info.offset()));
        }
        return offsets;
    }

    /** Sizes the next chunk by the rows the sink committed per second over the last second or more (the first: the least). */
    private void pace(Map<TopicPartition, OffsetAndMetadata> sinkCommitted, boolean sinkRunning) {
        if (!sinkRunning) { // nothing downstream to wait for yet (the producer run alone): full chunks
            chunkRows = fullChunkRows;
            rateSinceNanos = -1;
            return;
        }
        long committed = sinkCommitted.values().stream().filter(java.util.Objects::nonNull).mapToLong(OffsetAndMetadata::offset).sum();
        long now = System.nanoTime();
        if (rateSinceNanos < 0) {
            rateSinceNanos = now;
            rateSinceCommitted = committed;
            chunkRows = Math.min(FIRST_CHUNK_ROWS, fullChunkRows);
        } else if (now - rateSinceNanos >= RATE_WINDOW_NANOS) {
            double perSecond = (committed - rateSinceCommitted) * 1e9 / (now - rateSinceNanos);
            chunkRows = (int) Math.max(Math.min(FIRST_CHUNK_ROWS, fullChunkRows), Math.min(fullChunkRows, perSecond * CHUNK_SECONDS));
            rateSinceNanos = now;
            rateSinceCommitted = committed;
        }
    }

    /** The groups that read already: committed somewhere, or have members (started, not yet committed). */
    private Set<String> running(Map<TopicPartition, OffsetAndMetadata> t, Map<TopicPartition, OffsetAndMetadata> s)
            throws java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException, InterruptedException {
        if (stagesInThisJvm) {
            return Set.of(transformerGroup, sinkGroup);
        }
        Set<String> running = new HashSet<>();
        if (t.values().stream().anyMatch(java.util.Objects::nonNull)) {
            running.add(transformerGroup);
        }
        if (s.values().stream().anyMatch(java.util.Objects::nonNull)) {
            running.add(sinkGroup);
        }
        List<String> unknown = java.util.stream.Stream.of(transformerGroup, sinkGroup).filter(g -> !running.contains(g)).toList();
        if (!unknown.isEmpty()) {
            for (var d : admin.describeConsumerGroups(unknown).all().get(10, TimeUnit.SECONDS).values()) {
                if (!d.members().isEmpty()) {
                    running.add(d.groupId());
                }
            }
        }
        return running;
    }

    @Override
    public void close() {
        closed = true;
        admin.close(java.time.Duration.ofSeconds(5));
    }
}
