package io.pgbackfill.producer;

import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.event.RereadRequest;
import io.pgbackfill.core.spec.PipelineSpec;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands the sink's re-read requests ({@link RereadRequest}, topic {@link PipelineSpec#rereadTopic()}) to Debezium as
 * keyed incremental snapshots: per table, one {@code execute-snapshot} signal row with an {@code additional-conditions}
 * filter "primary key IN (…)". The signal goes through the source signal table, so it is in the WAL and Debezium
 * reads those rows between its window marks, de-duplicated against the stream (DBLog): the row comes back after
 * every change before it and before every change after it.
 *
 * <p>Why not Debezium's Kafka signal channel: in 3.6 it commits its consumer position only when it closes, whether or
 * not the snapshot it started is in the connector's offsets yet, so a stop at the wrong moment forgets a request.
 * Here the Kafka offset is committed only after the signal row is committed on the source: at least once. A signal
 * row written twice (a crash in between) reads the rows twice, which is harmless.
 *
 * <p>Requests wait while a table snapshot is still running or to be retried: the snapshot's completion notices must
 * not be confused with a re-read's, and a re-read during the snapshot has nothing to add.
 *
 * <p>The offset is committed only once the rows are in Kafka, ahead of a watermark: a fence after the signals (so
 * Debezium has taken them when its watermark passes), Debezium's incremental snapshot finished, a second fence (so
 * the rows it emitted are flushed when that watermark passes). So "the relay's group has committed the re-read
 * topic's end" means "every requested row is in the raw topics ahead of a watermark": {@code CatchUp} relies on it.
 */
final class RereadRelay implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RereadRelay.class);
    private static final Duration POLL = Duration.ofMillis(200);

    private final PipelineSpec spec;
    private final Map<String, TableSchema> schemas;
    private final Source source;
    private final TopicPartition partition;
    private volatile boolean running;
    private Thread thread;

    /** What the relay needs to know of the producer it runs in. */
    interface Source {
        /** Snapshots done, none to retry: re-reads may start. */
        boolean ready();

        /** The highest heartbeat LSN whose watermarks are in Kafka. */
        long watermarksFlushed();

        /** Debezium is running an incremental snapshot (a re-read included). */
        boolean snapshotRunning();
    }

    RereadRelay(PipelineSpec spec, Map<String, TableSchema> schemas, Source source) {
        this.spec = spec;
        this.schemas = schemas;
        this.source = source;
        this.partition = new TopicPartition(spec.rereadTopic(), 0);
    }

    void start() {
        running = true;
        thread = new Thread(this::run, "pgbackfill-reread");
        thread.setDaemon(true);
        thread.start();
    }

    private Properties consumerProperties() {
        Properties p = io.pgbackfill.core.kafka.KafkaClientConfig.of(spec.kafka(), spec.rereadGroupId() + "-" + ProcessHandle.current().pid());
        p.put("group.id", spec.rereadGroupId());
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", "earliest");
        p.put("isolation.level", "read_committed");
        p.put("max.poll.records", "100");
        return p;
    }

    private void run() {
        // Assigned, not subscribed: no rebalances, and the group's committed offset is the resume point.
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProperties(), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(partition));
            long backoff = 500;
            while (running) {
                if (!source.ready()) {
                    sleep(200);
                    continue;
                }
                long start = consumer.position(partition);
                List<ConsumerRecord<byte[], byte[]>> records = consumer.poll(POLL).records(partition);
                if (records.isEmpty()) {
                    continue;
                }
                try {
                    relay(records);
                    if (!awaitRows()) {
                        return; // closing: the requests are handed over again at the next start
                    }
                    consumer.commitSync(Map.of(partition, new OffsetAndMetadata(records.get(records.size() - 1).offset() + 1)));
                    backoff = 500;
                } catch (SQLException | RuntimeException e) {
                    LOG.warn("cannot hand re-read requests to the source yet, retrying in {} ms: {}", backoff,
                            Redaction.redact(String.valueOf(e.getMessage()), spec.source().secret()));
                    consumer.seek(partition, start);
                    sleep(backoff);
                    backoff = Math.min(30_000, backoff * 2);
                }
            }
        } catch (org.apache.kafka.common.errors.InterruptException | org.apache.kafka.common.errors.WakeupException e) {
            // closing
        }
    }

    /** Writes one signal per table and {@link RereadRequest#MAX_KEYS} keys, in one source transaction. */
    private void relay(List<ConsumerRecord<byte[], byte[]>> records) throws SQLException {
        Map<String, Set<Map<String, Object>>> keys = new LinkedHashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            RereadRequest req;
            try {
                req = RereadRequest.decode(r.value());
            } catch (IllegalArgumentException e) {
                LOG.error("skipping a malformed re-read request at offset {}: {}", r.offset(), e.getMessage());
                continue;
            }
            keys.computeIfAbsent(req.table(), t -> new LinkedHashSet<>()).addAll(req.keys());
        }
        try (Connection c = spec.source().open()) {
            c.setAutoCommit(false);
            for (Map.Entry<String, Set<Map<String, Object>>> t : keys.entrySet()) {
                TableSchema schema = schemas.get(t.getKey());
                if (schema == null || schema.primaryKey().isEmpty()) {
                    // An incremental snapshot needs a primary key; verify reports such rows as missing.
                    LOG.error("cannot read {} rows of {} again: {}", t.getValue().size(), t.getKey(),
                            schema == null ? "not a table of this pipeline" : "it has no primary key");
                    continue;
                }
                List<Map<String, Object>> all = new ArrayList<>(t.getValue());
                for (int i = 0; i < all.size(); i += RereadRequest.MAX_KEYS) {
                    List<Map<String, Object>> part = all.subList(i, Math.min(all.size(), i + RereadRequest.MAX_KEYS));
                    SourceSetup.requestSnapshot(c, spec, "pgbackfill-reread-" + UUID.randomUUID(), List.of(t.getKey()),
                            Map.of(t.getKey(), KeyCondition.in(schema, part)));
                }
                LOG.info("asked the source to read {} rows of {} again", t.getValue().size(), t.getKey());
            }
            c.commit();
        }
    }

    /** Waits until the rows read for the signals just written are in Kafka ahead of a watermark; false when closing. */
    private boolean awaitRows() throws SQLException {
        long taken = fence();
        if (!waitUntil(() -> source.watermarksFlushed() >= taken)) {
            return false;
        }
        if (!waitUntil(() -> !source.snapshotRunning())) {
            return false;
        }
        long emitted = fence();
        return waitUntil(() -> source.watermarksFlushed() >= emitted);
    }

    private long fence() throws SQLException {
        try (Connection c = spec.source().open()) {
            return SourceSetup.fence(c, spec.pipelineName());
        }
    }

    private boolean waitUntil(BooleanSupplier condition) {
        while (running && !condition.getAsBoolean()) {
            sleep(50);
        }
        return running;
    }

    private void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        if (thread != null) {
            thread.join(10_000);
        }
    }
}
