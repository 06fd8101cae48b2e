package io.pgbackfill.sink;

import io.pgbackfill.core.Stage;
import io.pgbackfill.core.sql.DataErrors;
import io.pgbackfill.core.event.DeadLetter;
import io.pgbackfill.core.DeadLetterCounts;
import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.event.RereadRequest;
import io.pgbackfill.core.event.RowChange;
import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.kafka.OffsetGap;
import io.pgbackfill.core.memory.HeapExhausted;
import io.pgbackfill.core.memory.MemoryBudget;
import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sink stage: a consumer group (the pipeline's sink group) reading the rows topics, batching, and
 * writing each batch with {@link BatchWriter}. Order of a batch's effects: database commit, then
 * dead letters sent and flushed, then Kafka offsets committed; a crash anywhere in between replays the
 * batch, which the LSN guard makes harmless. A lost database connection is retried with backoff,
 * forever, without committing offsets.
 */
public final class RowSink implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(RowSink.class);
    private static final String STAGE = "sink";
    /** How long a poll with rows in hand waits for more: a fetch round trip (a broker that has rows answers at once). */
    private static final Duration CAUGHT_UP_POLL = Duration.ofMillis(5);

    private final PipelineSpec spec;
    private final ConnectionSpec target;
    private final SinkConfig config;
    private final BatchWriter writer;
    private final Map<String, TargetTable> tablesByTopic = new HashMap<>();
    private final Map<String, String> dlqByTopic = new HashMap<>();
    private final Map<String, String> sourceTableByTopic = new HashMap<>();
    private final AtomicLong rereads = new AtomicLong();
    private final AtomicLong rowsWritten = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong deadLetters = new AtomicLong();
    private final DeadLetterCounts deadLetterCounts = new DeadLetterCounts();
    private volatile BatchObserver batchObserver = BatchObserver.NONE;
    private final AtomicLong fenced = new AtomicLong();
    private final SinkFence fence;
    private final AtomicLong lastBatchMillis = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean running;
    private Thread thread;
    private KafkaConsumer<byte[], byte[]> consumer;
    private KafkaProducer<byte[], byte[]> dlq;
    private Connection connection;
    private SinkBatch batch = new SinkBatch();
    private final Map<TopicPartition, Long> committed = new HashMap<>();

    private final MemoryBudget memory;
    /** Pause and (same-database target) throttling, from the control topic. */
    private io.pgbackfill.sink.control.WriteHold writeHold;

    public RowSink(PipelineSpec spec, SinkConfig config) {
        this.spec = spec;
        this.target = spec.targetOrSource();
        this.memory = MemoryBudget.forThisJvm(spec.memory(), config.stagesInJvm());
        // Half the budget for the batch, half for the records fetched but not yet added to it.
        this.config = config.batchBytes() > 0 ? config : config.withBatchBytes(memory.stageBytes() / 2);
        this.writer = new BatchWriter(spec.pipelineName(), this.config);
        this.fence = new SinkFence(spec.pipelineName(), spec.sinkGroupId() + "-" + ProcessHandle.current().pid() + "-" + System.identityHashCode(this));
    }

    /** The target tables of a spec, from the target catalog (the sink needs nothing from the source). */
    public static List<TargetTable> targetTables(PipelineSpec spec, Connection target) throws SQLException {
        List<TargetTable> out = new ArrayList<>();
        for (TableSpec t : spec.tables()) {
            TableSchema schema = TableSchema.read(target, t.targetName())
                    .orElseThrow(() -> new IllegalStateException("target table " + t.targetName() + " does not exist"));
            List<Column> cols = new ArrayList<>();
            for (String c : t.columns().keySet()) {
                cols.add(schema.column(c).orElseThrow(() -> new IllegalStateException("target table " + t.targetName() + " has no column " + c)));
            }
            List<String> key = t.key().isEmpty() ? schema.primaryKey() : t.key().stream().map(k -> k.text()).toList();
            out.add(new TargetTable(t.targetName(), cols, key, TargetTable.keyIsUnique(target, t.targetName(), key)));
        }
        return out;
    }

    public void start() throws SQLException {
        LOG.info("memory: {}; batches of at most {} rows or {} MiB", memory.describe(), config.batchSize(), config.batchBytes() / MemoryBudget.MIB);
        connection = openTarget();
        List<TargetTable> tables = targetTables(spec, connection);
        BatchWriter.prepare(connection, tables);
        SinkFence.prepare(connection);
        connection.setAutoCommit(false);
        List<String> topics = new ArrayList<>();
        for (int i = 0; i < spec.tables().size(); i++) {
            TableSpec t = spec.tables().get(i);
            tablesByTopic.put(spec.rowsTopic(t), tables.get(i));
            dlqByTopic.put(spec.rowsTopic(t), spec.dlqTopic(t));
            sourceTableByTopic.put(spec.rowsTopic(t), t.sourceName().id());
            topics.add(spec.rowsTopic(t));
        }
        List<String> all = new ArrayList<>(topics);
        all.addAll(dlqByTopic.values());
        KafkaTopics.ensure(spec.kafka(), all, spec.kafka().partitions());
        KafkaTopics.ensure(spec.kafka(), List.of(spec.rereadTopic()), 1);
        writeHold = new io.pgbackfill.sink.control.WriteHold(spec).start();
        consumer = new KafkaConsumer<>(consumerProperties(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        dlq = new KafkaProducer<>(producerProperties(), new ByteArraySerializer(), new ByteArraySerializer());
        consumer.subscribe(topics, new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                flush(); // hand over nothing half-written: write what we hold and commit it before giving partitions away
                fence.release(partitions);
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                startPositions(partitions);
                withRetry(() -> fence.claim(connection, partitions));
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> partitions) {
                // We were thrown out of the group: another instance owns these partitions now and replays from the
                // last commit. Writing what we hold could put an older version after its newer writes: drop it.
                batch = new SinkBatch();
                fence.release(partitions);
            }
        });
        running = true;
        thread = new Thread(this::run, "pgbackfill-sink");
        thread.start();
    }

    private Properties consumerProperties() {
        Properties p = io.pgbackfill.core.kafka.KafkaClientConfig.of(spec.kafka(), spec.sinkGroupId() + "-" + ProcessHandle.current().pid());
        p.put("group.id", spec.sinkGroupId());
        p.put("enable.auto.commit", "false");
        // Never jump over deleted events: a partition's start position is set on assignment (startPositions), and
        // an offset that falls out of range later stops the sink (run) instead of moving to the earliest one left.
        p.put("auto.offset.reset", "none");
        p.put("isolation.level", "read_committed");
        p.put("max.poll.records", Integer.toString(Math.max(500, config.batchSize())));
        // Fetches bounded in bytes: a record larger than the limit still comes, alone.
        p.put("fetch.max.bytes", Integer.toString(memory.fetchMaxBytes()));
        p.put("max.partition.fetch.bytes", Integer.toString(memory.partitionFetchBytes(spec.kafka().partitions())));
        p.put("max.poll.interval.ms", "600000");
        // A killed sink's partitions move after 10 s, not 45 s; losing them while alive is safe (SinkFence).
        p.put("session.timeout.ms", Integer.toString(io.pgbackfill.core.kafka.KafkaClientConfig.GROUP_SESSION_TIMEOUT_MS));
        p.put("heartbeat.interval.ms", Integer.toString(io.pgbackfill.core.kafka.KafkaClientConfig.GROUP_SESSION_TIMEOUT_MS / 3));
        // A fetch returns as soon as there is a row: a batch is written once the sink has read what there is
        // (run), so holding fetches back for bytes would only delay it. Under a backlog fetches are full anyway.
        p.put("fetch.min.bytes", "1");
        p.put("fetch.max.wait.ms", Integer.toString(Math.max(10, config.lingerMs())));
        return p;
    }

    private Properties producerProperties() {
        Properties p = io.pgbackfill.core.kafka.KafkaClientConfig.of(spec.kafka(), spec.sinkGroupId() + "-dlq");
        p.put("max.request.size", Integer.toString(KafkaTopics.MAX_RECORD_BYTES));
        p.put("buffer.memory", Long.toString(memory.producerBufferBytes()));
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        return p;
    }

    private void run() {
        try {
            while (running) {
                boolean hold = writeHold.holding();
                if (hold) {
                    consumer.pause(consumer.assignment()); // keeps polling (and its group membership), fetches nothing
                } else if (!consumer.paused().isEmpty()) {
                    consumer.resume(consumer.paused());
                }
                // With rows in hand, only look for rows already on their way: rows become readable a transformer
                // transaction at a time (read_committed), so a poll that brings nothing means nothing more is coming
                // soon, and waiting out the linger would only add to the lag.
                var records = consumer.poll(batch.isEmpty() ? Duration.ofMillis(Math.max(5, config.lingerMs() / 2)) : CAUGHT_UP_POLL);
                long now = System.currentTimeMillis();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    TargetTable table = tablesByTopic.get(r.topic());
                    RowChange rc;
                    try {
                        rc = EventCodec.decodeRow(r.value());
                    } catch (IllegalArgumentException e) {
                        sendDeadLetter(new SinkBatch.Entry(null, r.key(), r.value(), r.topic(), r.partition(), r.offset()), "malformed row change", "MALFORMED", e.getMessage());
                        deadLetterCounts.add(table.name().id(), "malformed row change");
                        continue;
                    }
                    if (rc.isTruncate()) {
                        flush();
                        truncate(table, rc, r);
                        continue;
                    }
                    batch.add(table, new SinkBatch.Entry(rc, r.key(), r.value(), r.topic(), r.partition(), r.offset()), now);
                    if (batch.size() >= config.batchSize() || batch.bytes() >= config.batchBytes()) {
                        flush();
                    }
                }
                if (!hold && !batch.isEmpty() && (records.isEmpty() || batch.ageMs(System.currentTimeMillis()) >= config.lingerMs())) {
                    flush();
                }
                if (batch.isEmpty()) {
                    commitPositionsPastMarkers();
                }
            }
            flush();
        } catch (org.apache.kafka.common.errors.WakeupException | InterruptedSinkException e) {
            // closing
        } catch (org.apache.kafka.clients.consumer.InvalidOffsetException e) {
            List<OffsetGap> gaps = gaps(e.partitions());
            failure.compareAndSet(null, gaps.isEmpty() ? e : new OffsetGap.EventsLost(STAGE, gaps));
            LOG.error("sink stopped: {}", failure.get().getMessage());
        } catch (Throwable t) {
            Throwable why = HeapExhausted.isCause(t) ? new HeapExhausted("sink", memory, t) : t;
            failure.compareAndSet(null, why);
            why = failure.get(); // a rebalance listener's own failure comes wrapped: report it, not the wrapper
            LOG.error("sink stopped: {}", Redaction.redact(why instanceof OffsetGap.EventsLost ? why.getMessage() : why.toString(), target.secret()));
        }
    }

    /**
     * Where each newly assigned partition starts: its committed offset, or, on a first start (no commit), the log
     * start. A committed offset before the log start (or no commit on a log that no longer starts at 0) means events
     * were deleted before the sink read them: it stops rather than skip them.
     */
    private void startPositions(Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return;
        }
        Map<TopicPartition, Long> committedNow = committedOffsets(partitions);
        List<OffsetGap> gaps = OffsetGap.find(partitions, committedNow, consumer.beginningOffsets(partitions));
        if (!gaps.isEmpty()) {
            OffsetGap.EventsLost lost = new OffsetGap.EventsLost(STAGE, gaps);
            failure.compareAndSet(null, lost);
            throw lost;
        }
        for (TopicPartition tp : partitions) {
            if (!committedNow.containsKey(tp)) {
                consumer.seek(tp, 0); // a first start; no gap means the log still starts at 0
            }
        }
    }

    private List<OffsetGap> gaps(Collection<TopicPartition> partitions) {
        return OffsetGap.find(partitions, committedOffsets(partitions), consumer.beginningOffsets(partitions));
    }

    private Map<TopicPartition, Long> committedOffsets(Collection<TopicPartition> partitions) {
        Map<TopicPartition, Long> out = new HashMap<>();
        consumer.committed(new java.util.HashSet<>(partitions)).forEach((tp, om) -> {
            if (om != null) {
                out.put(tp, om.offset());
            }
        });
        return out;
    }

    private void truncate(TargetTable table, RowChange rc, ConsumerRecord<byte[], byte[]> r) {
        if (!config.applyTruncate()) {
            throw new IllegalStateException("the source table was TRUNCATEd (LSN " + rc.lsn() + ") and sink.truncate is 'refuse': "
                    + "nothing was deleted from " + table.name() + ". Set sink.truncate: apply to mirror it, or re-run the backfill.");
        }
        withRetry(() -> writer.truncate(connection, table, rc.lsn()));
        commitOffsets(Map.of(new TopicPartition(r.topic(), r.partition()), new org.apache.kafka.clients.consumer.OffsetAndMetadata(r.offset() + 1)));
    }

    /** Writes the current batch (retrying connection failures), sends its dead letters, commits its offsets. */
    private void flush() {
        if (batch.isEmpty()) {
            return;
        }
        SinkBatch current = batch;
        batch = new SinkBatch();
        long t0 = System.nanoTime();
        BatchWriter.Outcome outcome;
        try {
            outcome = withRetry(() -> writer.write(connection, current, fence, o -> requestRereads(o.rereads())));
        } catch (SinkFence.Fenced f) {
            // Another instance owns some of these partitions now and writes them. Read the whole batch again from
            // its start, so no offset past it is ever committed here; the group takes the fenced ones away soon.
            LOG.warn("{}", f.getMessage());
            current.firstOffsets().forEach((tp, first) -> {
                if (consumer.assignment().contains(tp)) {
                    consumer.seek(tp, first);
                }
            });
            fenced.incrementAndGet();
            sleep(config.retryBackoffMs());
            return;
        }
        List<BatchWriter.Rejected> rejected = outcome.rejected();
        for (BatchWriter.Rejected r : rejected) {
            String reason = r.sqlState() == null ? r.reason().label() : r.reason().label() + " (SQLSTATE " + r.sqlState() + ")";
            sendDeadLetter(r.entry(), reason, r.reason().name(), r.message());
            deadLetterCounts.add(tablesByTopic.get(r.entry().topic()).name().id(), r.reason().label());
        }
        dlq.flush(); // dead letters (and, before the commit, re-read requests) are in Kafka before the offsets move on
        commitOffsets(current.offsets());
        long nanos = System.nanoTime() - t0;
        lastBatchMillis.set(TimeUnit.NANOSECONDS.toMillis(nanos));
        rowsWritten.addAndGet(current.size() - rejected.size() - outcome.rereads().size());
        batches.incrementAndGet();
        batchObserver.batchCommitted(current.size() - rejected.size(), nanos);
    }

    /**
     * Asks the producer to read these source rows again: one request per source table and {@link RereadRequest#MAX_KEYS}
     * keys, sent and flushed before the batch commits (so a crash sends them again, never loses them, and a watermark
     * in the target is never ahead of the requests its batch caused).
     */
    private void requestRereads(List<SinkBatch.Entry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        Map<String, List<String>> keysByTable = new java.util.LinkedHashMap<>();
        for (SinkBatch.Entry e : entries) {
            keysByTable.computeIfAbsent(sourceTableByTopic.get(e.topic()), t -> new ArrayList<>()).add(e.change().rereadKey());
        }
        List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>> sent = new ArrayList<>();
        keysByTable.forEach((table, keys) -> {
            for (RereadRequest r : RereadRequest.of(table, keys)) {
                sent.add(dlq.send(new ProducerRecord<>(spec.rereadTopic(), 0, b(table), r.encode())));
            }
        });
        dlq.flush();
        for (var f : sent) {
            try {
                f.get(); // a request Kafka did not take must not be committed past: the batch rolls back, the sink stops
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedSinkException();
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("cannot send re-read requests to " + spec.rereadTopic() + ": " + e.getCause().getMessage(), e.getCause());
            }
        }
        rereads.addAndGet(entries.size());
        LOG.debug("asked the source to read {} rows again", entries.size());
    }

    /**
     * With nothing held, everything fetched is written, so the consumer's position is safe to commit. It
     * differs from the last data offset + 1 by the transaction markers the transformer's exactly-once
     * commits leave in the rows topics; without this the group would show a lag of one per partition forever.
     */
    private void commitPositionsPastMarkers() {
        Map<TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> advance = new HashMap<>();
        for (TopicPartition tp : consumer.assignment()) {
            long pos = consumer.position(tp);
            Long done = committed.get(tp);
            if (done != null && pos > done) {
                advance.put(tp, new org.apache.kafka.clients.consumer.OffsetAndMetadata(pos));
            }
        }
        if (!advance.isEmpty()) {
            commitOffsets(advance);
        }
    }

    private void commitOffsets(Map<TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> offsets) {
        offsets.forEach((tp, om) -> committed.merge(tp, om.offset(), Math::max));
        try {
            consumer.commitSync(offsets);
        } catch (CommitFailedException e) {
            // The partitions moved to another instance while we wrote; it replays from the last commit: harmless.
            LOG.warn("offset commit refused after a rebalance; the new owner replays the batch (idempotent)");
        }
    }

    interface SqlWork<T> {
        T run() throws SQLException;
    }

    interface SqlAction {
        void run() throws SQLException;
    }

    private void withRetry(SqlAction a) {
        withRetry(() -> {
            a.run();
            return null;
        });
    }

    private <T> T withRetry(SqlWork<T> work) {
        long backoff = config.retryBackoffMs();
        while (true) {
            try {
                if (connection == null || connection.isClosed()) {
                    connection = openTarget();
                    connection.setAutoCommit(false);
                }
                return work.run();
            } catch (SQLException e) {
                if (DataErrors.isDataError(e)) {
                    throw new IllegalStateException("target rejected a statement: " + Redaction.redact(e.getMessage(), target.secret()), e);
                }
                retries.incrementAndGet();
                LOG.warn("target database unavailable ({}), retrying in {} ms; offsets are not committed",
                        Redaction.redact(e.getMessage(), target.secret()), backoff);
                closeQuietly();
                sleep(backoff);
                backoff = Math.min(30_000, backoff * 2);
            }
        }
    }

    /**
     * A connection to the target whose commits are durable when they return. Offsets are committed to Kafka right
     * after the database commit, so an asynchronous commit ({@code synchronous_commit = off} on the server, database
     * or role, e.g. to speed up a bulk load) could be lost in a crash of the target after Kafka already moved past
     * its rows: those changes would never be written again. Any other setting flushes the WAL locally first.
     */
    private Connection openTarget() throws SQLException {
        Connection c = target.open();
        try (java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT current_setting('synchronous_commit')")) {
            rs.next();
            if ("off".equals(rs.getString(1))) {
                st.execute("SET synchronous_commit TO on");
            }
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void closeQuietly() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException ignored) {
            // already broken
        }
        connection = null;
    }

    private void sleep(long ms) {
        long until = System.currentTimeMillis() + ms;
        while (System.currentTimeMillis() < until) {
            if (!running) {
                throw new InterruptedSinkException();
            }
            try {
                Thread.sleep(Math.min(100, ms));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedSinkException();
            }
        }
    }

    private void sendDeadLetter(SinkBatch.Entry e, String reason, String errorClass, String message) {
        String dlqTopic = dlqByTopic.get(e.topic());
        Headers h = DeadLetter.headers("sink", reason, errorClass, Redaction.redact(message == null ? "" : message, target.secret()), null,
                e.topic(), e.partition(), e.offset());
        dlq.send(new ProducerRecord<>(dlqTopic, null, null, e.key(), e.value(), h));
        deadLetters.incrementAndGet();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public long rowsWritten() {
        return rowsWritten.get();
    }

    public long batches() {
        return batches.get();
    }

    public long deadLetters() {
        return deadLetters.get();
    }

    /** Dead letters by target table and reason label (for metrics). */
    public DeadLetterCounts deadLetterCounts() {
        return deadLetterCounts;
    }

    /** Told of every committed batch, on the sink's thread (metrics: size and latency histograms). */
    public void observeBatches(BatchObserver observer) {
        this.batchObserver = observer;
    }

    /** Source rows this instance asked the producer to read again (see {@link RereadRequest}). */
    public long rereadsRequested() {
        return rereads.get();
    }

    /** Batches dropped because another instance had claimed their partitions (see {@link SinkFence}). */
    public long fencedBatches() {
        return fenced.get();
    }

    public long lastBatchMillis() {
        return lastBatchMillis.get();
    }

    public Throwable failure() {
        return failure.get();
    }

    /** How many times a write met an unavailable target and backed off. */
    public long retries() {
        return retries.get();
    }

    /** Milliseconds the sink held its writes (paused, or throttled into a same-database target). */
    public long heldMillis() {
        return writeHold == null ? 0 : writeHold.heldMillis();
    }

    @Override
    public void close() throws Exception {
        running = false;
        if (thread != null) {
            thread.join(60_000);
        }
        if (consumer != null) {
            consumer.close(Duration.ofSeconds(10));
        }
        if (dlq != null) {
            dlq.close(Duration.ofSeconds(10));
        }
        closeQuietly();
        if (writeHold != null) {
            writeHold.close();
        }
    }

    /** Thrown out of a backoff sleep when the sink is closing. */
    static final class InterruptedSinkException extends RuntimeException {
        InterruptedSinkException() {
            super(null, null, false, false);
        }
    }
}
