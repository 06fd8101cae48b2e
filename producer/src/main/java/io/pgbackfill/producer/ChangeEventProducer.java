package io.pgbackfill.producer;

import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.debezium.pipeline.notification.Notification;
import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.event.ChangeEvent;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import java.nio.file.Files;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Source stage: Debezium Embedded (PostgreSQL, pgoutput) to Kafka. One raw topic per source table,
 * keyed by the primary key; every heartbeat becomes a watermark on every partition. The snapshot is
 * Debezium's incremental snapshot: chunked by key, interleaved with streaming, and resumed from the
 * offsets after a restart instead of starting over.
 *
 * <p>Delivery: a Debezium batch is sent, the Kafka producer flushed, and only then are its records
 * marked processed, so Debezium offsets (and the slot's confirmed LSN) never pass what Kafka holds.
 * After a crash some events are sent again; the sink is idempotent.
 */
public final class ChangeEventProducer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChangeEventProducer.class);

    private final ProducerConfig config;
    private final PipelineSpec spec;
    private final Map<String, TableSpec> tablesBySource = new HashMap<>();
    private final Map<String, String> rawTopicBySource = new HashMap<>();
    private final Map<String, AtomicLong> rowsRead = new ConcurrentHashMap<>();
    private final Map<String, Boolean> snapshotDone = new ConcurrentHashMap<>();
    private final Map<String, Long> estimatedRows = new ConcurrentHashMap<>();
    private final Map<String, Long> doneAfterLsn = new ConcurrentHashMap<>();
    private final AtomicLong eventsOut = new AtomicLong();
    private final AtomicLong lastLsn = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final StructConverter converter = new StructConverter();
    private final String heartbeatTable = SourceSetup.SCHEMA + "." + SourceSetup.HEARTBEAT_TABLE;
    private final String signalTable;
    private KafkaProducer<byte[], byte[]> kafka;
    private DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
    private ExecutorService engineThread;
    private ScheduledExecutorService stateWriter;
    private volatile boolean running;

    public ChangeEventProducer(ProducerConfig config) {
        this.config = config;
        this.spec = config.spec();
        this.signalTable = SourceSetup.SCHEMA + "." + SourceSetup.signalTable(spec);
        for (TableSpec t : spec.tables()) {
            tablesBySource.put(t.sourceName().id(), t);
            rawTopicBySource.put(t.sourceName().id(), spec.rawTopic(t));
        }
    }

    public void start() throws Exception {
        Files.createDirectories(config.stateDir());
        ProducerState previous = ProducerState.read(config.stateDir());
        for (TableSpec t : spec.tables()) {
            String id = t.sourceName().id();
            ProducerState.TableProgress p = previous.tables().get(id);
            rowsRead.put(id, new AtomicLong(p == null ? 0 : p.rowsRead()));
            snapshotDone.put(id, p != null && p.snapshotDone());
        }
        try (Connection c = spec.source().open()) {
            SourceSetup.prepare(c, spec);
            for (TableSpec t : spec.tables()) {
                io.pgbackfill.core.catalog.TableSchema.read(c, t.sourceName())
                        .ifPresent(s -> estimatedRows.put(t.sourceName().id(), s.estimatedRows()));
            }
            if (snapshotDone.values().stream().anyMatch(d -> !d)) {
                SourceSetup.requestSnapshot(c, spec);
            }
        }
        List<String> topics = new ArrayList<>();
        spec.tables().forEach(t -> topics.add(spec.rawTopic(t)));
        KafkaTopics.ensure(spec.kafka().bootstrapServers(), topics, spec.kafka().partitions());
        kafka = new KafkaProducer<>(kafkaProperties(), new ByteArraySerializer(), new ByteArraySerializer());
        SnapshotNotifications.listen(topicPrefix(), this::onNotification);
        engine = DebeziumEngine.create(ChangeEventFormat.of(io.debezium.embedded.Connect.class))
                .using(debeziumProperties())
                .notifying(this::handleBatch)
                .using((success, message, error) -> {
                    if (!success && running) {
                        failure.compareAndSet(null, error != null ? error : new IllegalStateException(message));
                        LOG.error("Debezium engine stopped: {}", Redaction.redact(message, spec.source().secret()));
                    }
                })
                .build();
        running = true;
        engineThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "pgbackfill-debezium"));
        engineThread.execute(engine);
        stateWriter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgbackfill-producer-state");
            t.setDaemon(true);
            return t;
        });
        stateWriter.scheduleAtFixedRate(this::writeState, 1, 1, TimeUnit.SECONDS);
    }

    /** Debezium's logical name; notifications are routed by it. */
    private String topicPrefix() {
        return spec.slotName();
    }

    private String connectorName() {
        return "pgbackfill-" + spec.pipelineName();
    }

    private Properties kafkaProperties() {
        Properties p = new Properties();
        p.put("bootstrap.servers", spec.kafka().bootstrapServers());
        p.put("client.id", connectorName() + "-producer");
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        p.put("linger.ms", "20");
        p.put("batch.size", "262144");
        p.put("compression.type", "lz4");
        p.put("buffer.memory", Integer.toString(2 * KafkaTopics.MAX_RECORD_BYTES));
        p.put("max.request.size", Integer.toString(KafkaTopics.MAX_RECORD_BYTES));
        return p;
    }

    private Properties debeziumProperties() {
        ConnectionSpec src = spec.source();
        ConnectionSpec.JdbcUrl url = src.parsedUrl();
        Properties p = new Properties();
        p.setProperty("name", connectorName());
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
        p.setProperty("offset.storage.file.filename", config.stateDir().resolve("offsets.dat").toString());
        p.setProperty("offset.flush.interval.ms", Long.toString(config.offsetFlushIntervalMs()));
        p.setProperty("topic.prefix", topicPrefix());
        p.setProperty("database.hostname", url.host());
        p.setProperty("database.port", Integer.toString(url.port()));
        p.setProperty("database.dbname", url.database());
        p.setProperty("database.user", src.user() == null ? "postgres" : src.user());
        if (src.secret().isPresent()) {
            p.setProperty("database.password", src.secret().reveal());
        }
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", spec.slotName());
        p.setProperty("publication.name", SourceSetup.publication(spec));
        p.setProperty("publication.autocreate.mode", "disabled");
        List<String> include = new ArrayList<>();
        spec.tables().forEach(t -> include.add(Pattern.quote(t.sourceName().id())));
        include.add(Pattern.quote(heartbeatTable));
        include.add(Pattern.quote(signalTable));
        p.setProperty("table.include.list", String.join(",", include));
        p.setProperty("snapshot.mode", "no_data");
        p.setProperty("signal.enabled.channels", "source");
        p.setProperty("signal.data.collection", signalTable);
        p.setProperty("incremental.snapshot.chunk.size", Integer.toString(spec.snapshot().chunkSize()));
        p.setProperty("notification.enabled.channels", SnapshotNotifications.CHANNEL);
        p.setProperty("heartbeat.interval.ms", Long.toString(config.heartbeatIntervalMs()));
        p.setProperty("heartbeat.action.query", "UPDATE " + heartbeatTable + " SET beat_at = now() WHERE pipeline = '"
                + spec.pipelineName() + "'");
        p.setProperty("max.batch.size", Integer.toString(config.maxBatchSize()));
        p.setProperty("max.queue.size", Integer.toString(config.maxBatchSize() * 4));
        p.setProperty("poll.interval.ms", "20");
        p.setProperty("decimal.handling.mode", "string");
        p.setProperty("interval.handling.mode", "string");
        p.setProperty("hstore.handling.mode", "json");
        p.setProperty("include.unknown.datatypes", "true");
        p.setProperty("tombstones.on.delete", "false");
        p.setProperty("skipped.operations", "none");
        p.setProperty("slot.drop.on.stop", "false");
        p.setProperty("errors.max.retries", "-1");
        return p;
    }

    private void handleBatch(List<RecordChangeEvent<SourceRecord>> records, DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        AtomicReference<Exception> sendError = new AtomicReference<>();
        org.apache.kafka.clients.producer.Callback onSent = (md, ex) -> {
            if (ex != null) {
                sendError.compareAndSet(null, ex);
            }
        };
        for (RecordChangeEvent<SourceRecord> rce : records) {
            ChangeEvent e = converter.convert(rce.record());
            if (e == null) {
                continue;
            }
            lastLsn.accumulateAndGet(e.lsn(), Math::max);
            if (heartbeatTable.equals(e.table())) {
                emitWatermarks(e, onSent);
                continue;
            }
            String topic = rawTopicBySource.get(e.table());
            if (topic == null) {
                continue; // the signal table, or a table no longer in the spec
            }
            byte[] value = EventCodec.encode(e);
            if (e.isTruncate()) {
                for (int p = 0; p < spec.kafka().partitions(); p++) {
                    kafka.send(new ProducerRecord<>(topic, p, null, value), onSent);
                }
            } else {
                if (ChangeEvent.READ.equals(e.op())) {
                    rowsRead.get(e.table()).incrementAndGet();
                }
                kafka.send(new ProducerRecord<>(topic, EventCodec.encodeKey(e.key()), value), onSent);
            }
            eventsOut.incrementAndGet();
        }
        kafka.flush();
        if (sendError.get() != null) {
            throw new IllegalStateException("Kafka rejected change events; offsets not committed", sendError.get());
        }
        for (RecordChangeEvent<SourceRecord> rce : records) {
            committer.markProcessed(rce);
        }
        committer.markBatchFinished();
    }

    private void emitWatermarks(ChangeEvent heartbeat, org.apache.kafka.clients.producer.Callback onSent) {
        for (TableSpec t : spec.tables()) {
            String id = t.sourceName().id();
            byte[] value = EventCodec.encode(ChangeEvent.watermark(id, heartbeat.lsn(), heartbeat.tsMs(), doneAt(id, heartbeat.lsn())));
            for (int p = 0; p < spec.kafka().partitions(); p++) {
                kafka.send(new ProducerRecord<>(spec.rawTopic(t), p, null, value), onSent);
            }
        }
    }

    private void onNotification(Notification n) {
        if (!"Incremental Snapshot".equals(n.getAggregateType())) {
            return;
        }
        if ("IN_PROGRESS".equals(n.getType())) {
            LOG.debug("snapshot chunk {}", n.getAdditionalData());
            return;
        }
        LOG.info("incremental snapshot {} {}", n.getType(), n.getAdditionalData());
        String table = n.getAdditionalData().get("scanned_collection");
        if ("TABLE_SCAN_COMPLETED".equals(n.getType()) && table != null && snapshotDone.containsKey(table)) {
            markDone(List.of(table));
        } else if ("COMPLETED".equals(n.getType())) {
            markDone(List.copyOf(snapshotDone.keySet()));
        }
    }

    /**
     * A table's snapshot is done once its last chunk is in Kafka. The notification comes on Debezium's
     * own thread, possibly before that chunk went through {@link #handleBatch}; so the flag only shows in
     * watermarks from a fence written now, which the stream delivers after the chunk.
     */
    private void markDone(List<String> tables) {
        long fenceLsn;
        try (Connection c = spec.source().open()) {
            fenceLsn = SourceSetup.fence(c, spec.pipelineName());
        } catch (java.sql.SQLException e) {
            LOG.warn("cannot write the snapshot-done fence; the next heartbeat will carry it: {}", Redaction.redact(e.getMessage(), spec.source().secret()));
            fenceLsn = lastLsn.get() + 1;
        }
        for (String t : tables) {
            doneAfterLsn.put(t, fenceLsn);
        }
    }

    private boolean doneAt(String table, long watermarkLsn) {
        if (snapshotDone.getOrDefault(table, false)) {
            return true;
        }
        Long after = doneAfterLsn.get(table);
        if (after != null && watermarkLsn >= after) {
            snapshotDone.put(table, true);
            writeState();
            return true;
        }
        return false;
    }

    private synchronized void writeState() {
        Map<String, ProducerState.TableProgress> tables = new LinkedHashMap<>();
        for (TableSpec t : spec.tables()) {
            String id = t.sourceName().id();
            tables.put(id, new ProducerState.TableProgress(rowsRead.get(id).get(), estimatedRows.getOrDefault(id, 0L), snapshotDone.get(id)));
        }
        new ProducerState(tables, lastLsn.get(), System.currentTimeMillis()).write(config.stateDir());
    }

    /** Events sent to Kafka since this instance started (watermarks not counted). */
    public long eventsOut() {
        return eventsOut.get();
    }

    public long snapshotRowsRead(String sourceTable) {
        AtomicLong a = rowsRead.get(sourceTable);
        return a == null ? 0 : a.get();
    }

    public boolean snapshotDone() {
        return snapshotDone.values().stream().allMatch(b -> b);
    }

    public long lastLsn() {
        return lastLsn.get();
    }

    /** The error that stopped the engine, if it stopped on its own. */
    public Throwable failure() {
        return failure.get();
    }

    @Override
    public void close() throws Exception {
        running = false;
        if (engine != null) {
            engine.close();
        }
        if (engineThread != null) {
            engineThread.shutdown();
            engineThread.awaitTermination(60, TimeUnit.SECONDS);
        }
        if (stateWriter != null) {
            stateWriter.shutdownNow();
        }
        if (kafka != null) {
            kafka.close(java.time.Duration.ofSeconds(10));
        }
        if (!rowsRead.isEmpty()) {
            writeState();
        }
        SnapshotNotifications.forget(topicPrefix());
    }
}
