package io.pgbackfill.transformer;

import io.pgbackfill.core.Stage;
import io.pgbackfill.core.kafka.GroupPositions;
import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.kafka.OffsetGap;
import io.pgbackfill.core.memory.HeapExhausted;
import io.pgbackfill.core.memory.MemoryBudget;
import io.pgbackfill.core.memory.RowBytes;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.core.transform.MigrationPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transform stage: a Kafka Streams application ({@code application.id} = the pipeline's transformer
 * group, see {@link PipelineSpec#transformerApplicationId()}) with {@code exactly_once_v2}: the rows and
 * dead letters of an event and the input offset commit in one Kafka transaction.
 */
public final class TransformerApp implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(TransformerApp.class);
    private static final String STAGE = "transformer";
    private final MigrationPlan plan;
    private final TransformerConfig config;
    private final TransformProcessor.TransformMetrics metrics = new TransformProcessor.TransformMetrics();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private KafkaStreams streams;
    private final MemoryBudget memory;
    /** Average bytes of a row of the widest source table (catalog estimate, read at start). */
    private long rowBytes = 64;

    public TransformerApp(MigrationPlan plan, TransformerConfig config) {
        this.plan = plan;
        this.config = config;
        this.memory = MemoryBudget.forThisJvm(plan.spec().memory(), config.stagesInJvm());
    }

    public void start() {
        PipelineSpec spec = plan.spec();
        List<String> topics = new ArrayList<>();
        for (TableSpec t : spec.tables()) {
            topics.add(spec.rawTopic(t));
            topics.add(spec.rowsTopic(t));
            topics.add(spec.dlqTopic(t));
        }
        KafkaTopics.ensure(spec.kafka(), topics, spec.kafka().partitions());
        var counts = KafkaTopics.partitionCounts(spec.kafka(), topics);
        for (TableSpec t : spec.tables()) {
            if (!counts.get(spec.rawTopic(t)).equals(counts.get(spec.rowsTopic(t)))) {
                throw new IllegalStateException("topics " + spec.rawTopic(t) + " (" + counts.get(spec.rawTopic(t)) + " partitions) and "
                        + spec.rowsTopic(t) + " (" + counts.get(spec.rowsTopic(t)) + ") must have the same partition count: "
                        + "rows keep their raw partition so that watermarks stay exact");
            }
        }
        List<String> raw = spec.tables().stream().map(spec::rawTopic).toList();
        try (Admin admin = KafkaTopics.admin(spec.kafka())) {
            GroupPositions.guard(admin, spec.transformerApplicationId(), raw, STAGE);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot read the transformer's positions from Kafka: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        try (java.sql.Connection c = spec.source().open()) {
            rowBytes = RowBytes.widest(c, spec.tables().stream().map(TableSpec::sourceName).toList());
        } catch (java.sql.SQLException e) {
            // Only the row counts are sized with it; fetches stay bounded in bytes without it.
            LOG.warn("cannot estimate the source's row size ({}); record counts keep their defaults", io.pgbackfill.core.Redaction.redact(
                    String.valueOf(e.getMessage()), spec.source().secret()));
        }
        Properties props = properties();
        LOG.info("memory: {}; rows of ~{} bytes: polls of {} records, {} buffered per partition", memory.describe(), rowBytes,
                props.get(StreamsConfig.consumerPrefix("max.poll.records")), props.get(StreamsConfig.BUFFERED_RECORDS_PER_PARTITION_CONFIG));
        streams = new KafkaStreams(TransformTopology.build(plan, metrics), props);
        streams.setUncaughtExceptionHandler(e -> {
            Throwable why = HeapExhausted.isCause(e) ? new HeapExhausted("transformer", memory, e) : explain(e, raw);
            failure.compareAndSet(null, why);
            LOG.error("transformer failed: {}", why instanceof OffsetGap.EventsLost ? why.getMessage() : why.toString());
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.start();
    }

    Properties properties() {
        PipelineSpec spec = plan.spec();
        // Streams names its own clients after application.id: no client.id here.
        Properties p = io.pgbackfill.core.kafka.KafkaClientConfig.of(spec.kafka(), null);
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, spec.transformerApplicationId());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.threads());
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.commitIntervalMs());
        p.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir().toString());
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        // Records held between fetch and output are bounded in bytes: each fetch by the budget, the records polled and
        // buffered per partition by counts that fit the budget for rows of this table's size (the defaults for small rows).
        int partitions = spec.kafka().partitions();
        p.put(StreamsConfig.consumerPrefix("max.poll.records"), memory.rows(rowBytes * 2, 5000));
        p.put(StreamsConfig.BUFFERED_RECORDS_PER_PARTITION_CONFIG, memory.rows(rowBytes * 2L * partitions, 1000));
        p.put(StreamsConfig.consumerPrefix("fetch.max.bytes"), memory.fetchMaxBytes());
        p.put(StreamsConfig.consumerPrefix("max.partition.fetch.bytes"), memory.partitionFetchBytes(partitions));
        // Never jump: every partition has a committed offset before the start (GroupPositions.guard), and one that
        // falls out of range (events deleted before they were read) stops the stage instead of skipping them.
        p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "none");
        // A broker restart can abort the open transaction; Streams then closes its tasks and rejoins the group under a new
        // member id. The old id stays in the group, and the rebalance waits for it until its session expires: with
        // Kafka's 45 s default the transform stood still for 45 s after each such restart (ChaosIT, RESTART_BROKER).
        // 10 s (heartbeats every 3 s, from their own thread) keeps that stop short.
        p.put(StreamsConfig.consumerPrefix("session.timeout.ms"), io.pgbackfill.core.kafka.KafkaClientConfig.GROUP_SESSION_TIMEOUT_MS);
        p.put(StreamsConfig.consumerPrefix("heartbeat.interval.ms"), io.pgbackfill.core.kafka.KafkaClientConfig.GROUP_SESSION_TIMEOUT_MS / 3);
        p.put(StreamsConfig.producerPrefix("linger.ms"), 20);
        p.put(StreamsConfig.producerPrefix("batch.size"), memory.producerBatchBytes());
        p.put(StreamsConfig.producerPrefix("compression.type"), "lz4");
        // Transactions v2 (Kafka 4) add a partition to the transaction on its first write, and a broker without state
        // for the producer accepts only sequence 0 there (KAFKA-18202). With several requests in flight, a later batch
        // can overtake the first: OutOfOrderSequence, retried after a back-off, again and again at every transaction
        // start. Measured here: the transform stalled at ~100 events/s for seconds during the snapshot. One request in
        // flight per connection keeps batches in order; with large batches over loopback it costs no throughput.
        p.put(StreamsConfig.producerPrefix("max.in.flight.requests.per.connection"), 1);
        p.put(StreamsConfig.producerPrefix("max.request.size"), KafkaTopics.MAX_RECORD_BYTES);
        p.put(StreamsConfig.producerPrefix("buffer.memory"), memory.producerBufferBytes());
        return p;
    }

    /** An offset out of range becomes the message that names what was lost; anything else stays as it is. */
    private Throwable explain(Throwable e, List<String> raw) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof org.apache.kafka.clients.consumer.InvalidOffsetException) {
                PipelineSpec spec = plan.spec();
                try (Admin admin = KafkaTopics.admin(spec.kafka())) {
                    var partitions = GroupPositions.partitions(admin, raw);
                    var gaps = OffsetGap.find(partitions, GroupPositions.committed(admin, spec.transformerApplicationId()), GroupPositions.logStarts(admin, partitions));
                    if (!gaps.isEmpty()) {
                        return new OffsetGap.EventsLost(STAGE, gaps);
                    }
                } catch (ExecutionException | RuntimeException ex) {
                    LOG.debug("cannot read the positions to explain {}", e.toString());
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
                return new IllegalStateException("the transformer stopped instead of skipping events: " + t.getMessage() + "; " + OffsetGap.REPAIR, e);
            }
        }
        return e;
    }

    public long eventsIn() {
        return metrics.in.get();
    }

    public long rowsOut() {
        return metrics.out.get();
    }

    public long deadLetters() {
        return metrics.dlq.get();
    }

    /** Dead letters by target table and reason (for metrics). */
    public io.pgbackfill.core.DeadLetterCounts deadLetterCounts() {
        return metrics.deadLetters;
    }

    public Throwable failure() {
        return failure.get();
    }

    @Override
    public boolean isRunning() {
        return streams != null && streams.state().isRunningOrRebalancing();
    }

    @Override
    public void close() {
        if (streams != null) {
            // Leave the group on a clean stop: partitions move to the other instances at once, and teardown can delete the group.
            streams.close(org.apache.kafka.streams.CloseOptions.timeout(java.time.Duration.ofSeconds(30))
                    .withGroupMembershipOperation(org.apache.kafka.streams.CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
        }
    }
}
