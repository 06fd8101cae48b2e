package io.pgbackfill.producer;

import io.pgbackfill.core.Stage;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.debezium.pipeline.notification.Notification;
import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.event.ChangeEvent;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.memory.HeapExhausted;
import io.pgbackfill.core.memory.HeapPressure;
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
import java.util.Optional;
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
 * keyed by the primary key; every heartbeat becomes a watermark on every partition. The snapshot, by
 * default, is {@link ChunkedSnapshot}: chunks by key read beside the stream and emitted in order with it at
 * their window marks, resumed by key after a restart (or Debezium's initial scan or incremental snapshot,
 * by {@code snapshot.mode}).
 *
 * <p>Delivery: a Debezium batch is sent, the Kafka producer flushed, and only then are its records
 * marked processed, so Debezium offsets (and the slot's confirmed LSN) never pass what Kafka holds.
 * After a crash some events are sent again; the sink is idempotent.
 */
public final class ChangeEventProducer implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(ChangeEventProducer.class);
    /** Rows per JDBC fetch of the initial scan when rows are small. */
    static final int SNAPSHOT_FETCH_ROWS = 20_000;

    private final ProducerConfig config;
    private final PipelineSpec spec;
    private final Map<String, TableSpec> tablesBySource = new HashMap<>();
    private final Map<String, String> rawTopicBySource = new HashMap<>();
    private final Map<String, AtomicLong> rowsRead = new ConcurrentHashMap<>();
    private final Map<String, Boolean> snapshotDone = new ConcurrentHashMap<>();
    private final Map<String, Long> estimatedRows = new ConcurrentHashMap<>();
    private final Map<String, Long> doneAfterLsn = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Object>> resumeAfter = new ConcurrentHashMap<>();
    private final Map<String, io.pgbackfill.core.catalog.TableSchema> schemas = new ConcurrentHashMap<>();
    private volatile String snapshotMode = "no_data";
    private final AtomicLong eventsOut = new AtomicLong();
    private final AtomicLong lastLsn = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    /** Tables whose last incremental table scan failed: not done, whatever a later COMPLETED says. */
    private final java.util.Set<String> scanFailed = ConcurrentHashMap.newKeySet();
    /** Tables to ask a new incremental snapshot for (kept in {@link #RETRY_FILE} until the signal is written). */
    private final java.util.Set<String> snapshotRetries = ConcurrentHashMap.newKeySet();
    static final String RETRY_FILE = "snapshot-retry.txt";
    private final StructConverter converter = new StructConverter();
    private final LastEventSummary lastEventSummary = new LastEventSummary();
    private final String heartbeatTable = SourceSetup.SCHEMA + "." + SourceSetup.HEARTBEAT_TABLE;
    private final String signalTable;
    private KafkaProducer<byte[], byte[]> kafka;
    private DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
    private ExecutorService engineThread;
    private ScheduledExecutorService stateWriter;
    private volatile boolean running;
    private final io.pgbackfill.core.memory.MemoryBudget memory;
    /** Average bytes of a row of the widest source table (catalog estimate): sizes Debezium's row counts. */
    private long rowBytes = 64;
    private RereadRelay rereads;
    /** An incremental snapshot (a table scan or a re-read) is in progress in Debezium, from its notifications. */
    private volatile boolean incrementalRunning;
    /** The highest heartbeat LSN whose watermarks Kafka has acknowledged: everything read before it is in Kafka. */
    private final AtomicLong watermarksFlushed = new AtomicLong();
    /** Pause, throttling and the rate limit of the snapshot; streaming is never held (throttle package). */
    private final io.pgbackfill.producer.throttle.SnapshotControl snapshotControl;
    /** The chunked snapshot (the default mode) while tables are left to read; null otherwise. */
    private volatile ChunkedSnapshot chunked;
    private ConsumerBacklogPacer backlogPacer;
    /** The chunked snapshot reads the tables (snapshot.mode chunked and every table has a primary key), decided at start. */
    private volatile boolean chunkedMode;
    /** Tables the chunked snapshot is to read, decided at start. */
    private final List<String> chunkTables = new ArrayList<>();

    public ChangeEventProducer(ProducerConfig config) {
        this.config = config;
        this.spec = config.spec();
        this.memory = io.pgbackfill.core.memory.MemoryBudget.forThisJvm(spec.memory(), config.stagesInJvm());
        this.signalTable = SourceSetup.SCHEMA + "." + SourceSetup.signalTable(spec);
        for (TableSpec t : spec.tables()) {
            tablesBySource.put(t.sourceName().id(), t);
            rawTopicBySource.put(t.sourceName().id(), spec.rawTopic(t));
        }
        this.snapshotControl = new io.pgbackfill.producer.throttle.SnapshotControl(spec,
                // Debezium's incremental snapshot is held by signals; the chunked one waits in its own reader (ChunkGate).
                () -> running && "no_data".equals(snapshotMode) && !chunkedMode && !snapshotDone(),
                SourceSetup.SCHEMA, SourceSetup.signalTable(spec));
    }

    /**
     * What must hold before anything starts, checked in seconds: the state directory belongs to this source, and the
     * slot (if any) is this database's and not lost. Debezium would retry a lost slot for minutes and then blame a
     * blocking transaction. {@link #start()} calls it; {@code backfill up} calls it before starting the other stages.
     */
    public void checkSource() throws Exception {
        Files.createDirectories(config.stateDir());
        try (Connection c = spec.source().open()) {
            SourceIdentity identity = SourceIdentity.of(c, spec.slotName());
            checkIdentity(identity);
            Optional<SlotState> slot = SlotState.read(c, spec.slotName());
            if (slot.isPresent() && !slot.get().database().equals(identity.database())) {
                throw new IllegalStateException("replication slot " + spec.slotName() + " belongs to database " + slot.get().database()
                        + ", not to " + identity.database() + ": another pipeline of the same name runs there. Rename this pipeline "
                        + "(spec 'name'), or tear the other one down (backfill teardown)");
            }
            if (slot.isPresent() && slot.get().lost()) {
                throw new SlotState.Lost(slot.get());
            }
        }
    }

    public void start() throws Exception {
        HeapPressure.install();
        checkSource();
        java.nio.file.Path retryFile = config.stateDir().resolve(RETRY_FILE);
        if (Files.exists(retryFile)) {
            // A snapshot failed and we stopped before asking for it again: ask now (see retrySnapshots).
            Files.readAllLines(retryFile).stream().map(String::trim).filter(l -> !l.isEmpty()).forEach(t -> {
                scanFailed.add(t);
                snapshotRetries.add(t);
            });
        }
        ProducerState previous = ProducerState.read(config.stateDir());
        for (TableSpec t : spec.tables()) {
            String id = t.sourceName().id();
            ProducerState.TableProgress p = previous.tables().get(id);
            rowsRead.put(id, new AtomicLong(p == null ? 0 : p.rowsRead()));
            snapshotDone.put(id, spec.snapshot().none() || (p != null && p.snapshotDone())); // none: streaming only (the reverse stream)
            if (p != null && p.resumeAfter() != null) {
                resumeAfter.put(id, p.resumeAfter());
            }
        }
        try (Connection c = spec.source().open()) {
            for (TableSpec t : spec.tables()) {
                io.pgbackfill.core.catalog.TableSchema.read(c, t.sourceName()).ifPresent(s -> {
                    estimatedRows.put(t.sourceName().id(), s.estimatedRows());
                    schemas.put(t.sourceName().id(), s);
                });
            }
            rowBytes = io.pgbackfill.core.memory.RowBytes.widest(c, spec.tables().stream().map(TableSpec::sourceName).toList());
            LOG.info("memory: {}; rows of ~{} bytes: Debezium batches of {}, snapshot fetches of {} rows", memory.describe(), rowBytes,
                    batchSize(), memory.rows(rowBytes, SNAPSHOT_FETCH_ROWS));
            boolean slot = SourceSetup.slotExists(c, spec);
            if (spec.snapshot().none() && !slot) {
                // Streaming only starts where the slot is; a slot made now would silently skip what happened before.
                throw new IllegalStateException("snapshot.mode none streams from an existing slot, and " + spec.slotName() + " does not exist "
                        + "(the reverse stream's slot is created by `backfill cutover SPEC --reverse-stream`)");
            }
            boolean anyLeft = snapshotDone.values().stream().anyMatch(d -> !d);
            // The slot alone decides: if it exists, a scan may have begun from its consistent point (even before any
            // offsets were written), so only the resume path is safe; streaming from the slot misses nothing.
            List<String> withoutKey = spec.tables().stream().map(t -> t.sourceName().id())
                    .filter(id -> !snapshotDone.get(id) && (!schemas.containsKey(id) || schemas.get(id).primaryKey().isEmpty())).toList();
            chunkedMode = spec.snapshot().chunked() && withoutKey.isEmpty();
            if (spec.snapshot().chunked() && !withoutKey.isEmpty()) {
                // The chunked snapshot reads by primary key; a table with a declared key only takes the initial scan.
                LOG.warn("tables {} have no primary key: the chunked snapshot reads by key, so this pipeline takes the initial scan", withoutKey);
            }
            if (chunkedMode) {
                // Stream from a slot created first; read the tables in chunks beside the stream (ChunkedSnapshot).
                snapshotMode = "no_data";
                boolean created = SourceSetup.prepare(c, spec, true);
                if (created) {
                    resumeAfter.clear(); // a new slot: whatever an old state says, read every table from its first key
                }
                for (TableSpec t : spec.tables()) {
                    if (!snapshotDone.get(t.sourceName().id())) {
                        chunkTables.add(t.sourceName().id());
                    }
                }
            } else if ((spec.snapshot().initial() || spec.snapshot().chunked()) && !slot) {
                // First start (or nothing to resume from): Debezium's initial scan, which creates the slot together
                // with the exported snapshot it reads, in key order so that an interruption can resume by key.
                Files.deleteIfExists(config.stateDir().resolve("offsets.dat"));
                resumeAfter.clear();
                snapshotMode = "initial";
                SourceSetup.prepare(c, spec, false);
            } else {
                snapshotMode = "no_data";
                SourceSetup.prepare(c, spec, true);
                if (anyLeft && spec.snapshot().incremental()) {
                    SourceSetup.requestSnapshot(c, spec);
                } else if (anyLeft) {
                    // The initial scan was interrupted: Debezium would start it over. Stream from where it was and
                    // read only the rows after the last key that reached Kafka, as an incremental snapshot.
                    List<String> left = new ArrayList<>();
                    Map<String, String> conditions = new LinkedHashMap<>();
                    for (TableSpec t : spec.tables()) {
                        String id = t.sourceName().id();
                        if (!snapshotDone.get(id)) {
                            left.add(id);
                            // Without a primary key the scan had no order to resume by: read the table again (idempotent).
                            if (resumeAfter.containsKey(id) && schemas.containsKey(id) && !schemas.get(id).primaryKey().isEmpty()) {
                                conditions.put(id, KeyCondition.after(schemas.get(id), resumeAfter.get(id)));
                            }
                        }
                    }
                    LOG.info("resuming the interrupted snapshot of {} after keys {}", left, resumeAfter);
                    // Debezium refuses to stream from offsets of an unfinished snapshot. Without offsets it streams
                    // from the slot, which has not moved since the scan's consistent point: every change since then
                    // comes again (the sink's LSN guard makes repeats no-ops), and the scan's rows stay in Kafka.
                    Files.deleteIfExists(config.stateDir().resolve("offsets.dat"));
                    SourceSetup.requestSnapshot(c, spec, "pgbackfill-resume-" + Integer.toHexString(conditions.hashCode()), left, conditions);
                }
            }
        }
        List<String> topics = new ArrayList<>();
        spec.tables().forEach(t -> topics.add(spec.rawTopic(t)));
        KafkaTopics.ensure(spec.kafka(), topics, spec.kafka().partitions());
        KafkaTopics.ensure(spec.kafka(), List.of(spec.rereadTopic()), 1);
        kafka = new KafkaProducer<>(kafkaProperties(), new ByteArraySerializer(), new ByteArraySerializer());
        SnapshotNotifications.listen(topicPrefix(), this::onNotification);
        snapshotControl.start(); // before the engine: a rate limit or pause set before the start holds from the first row
        engine = DebeziumEngine.create(ChangeEventFormat.of(io.debezium.embedded.Connect.class))
                .using(debeziumProperties())
                .notifying(this::handleBatch)
                .using((success, message, error) -> {
                    if (!success && running) {
                        Throwable why = error != null ? error : new IllegalStateException(message);
                        failure.compareAndSet(null, HeapExhausted.isCause(why) ? new HeapExhausted("producer", memory, why) : why);
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
        stateWriter.scheduleWithFixedDelay(this::retrySnapshots, 0, 1, TimeUnit.SECONDS);
        stateWriter.scheduleWithFixedDelay(this::watchSlot, 5, 5, TimeUnit.SECONDS);
        if (!chunkTables.isEmpty()) {
            startChunkedSnapshot();
        }
        rereads = new RereadRelay(spec, Map.copyOf(schemas), new RereadRelay.Source() {
            @Override
            public boolean ready() {
                return running && snapshotDone() && snapshotRetries.isEmpty() && scanFailed.isEmpty();
            }

            @Override
            public long watermarksFlushed() {
                return watermarksFlushed.get();
            }

            @Override
            public boolean snapshotRunning() {
                return incrementalRunning;
            }
        });
        rereads.start();
    }

    /**
     * The chunked snapshot of {@link #chunkTables}: chunks lowered to the byte budget, at most three chunks' worth of
     * records ahead of the transformer and the sink (the freshness of changes made meanwhile depends on it), the chunks
     * growing from small while the pipeline keeps up (slow start, {@link ConsumerBacklogPacer}).
     */
    private void startChunkedSnapshot() {
        int chunkRows = memory.rows(rowBytes, spec.snapshot().chunkSize());
        backlogPacer = new ConsumerBacklogPacer(spec, chunkRows, config.stagesInJvm() > 1);
        io.pgbackfill.producer.throttle.SnapshotPacer control = snapshotControl.pacer();
        // Before each chunk: the backlog first (freshness), then pause, throttle and rate limit (live control).
        ChunkGate gate = table -> {
            backlogPacer.beforeChunk(table);
            control.admit(memory.rows(rowBytes, control.chunkSize(spec.snapshot().chunkSize())));
        };
        ChunkedSnapshot snapshot = new ChunkedSnapshot(spec, Map.copyOf(schemas), Map.copyOf(rawTopicBySource), chunkTables, Map.copyOf(resumeAfter),
                chunkRows, () -> Math.min(backlogPacer.chunkRows(), memory.rows(rowBytes, control.chunkSize(spec.snapshot().chunkSize()))),
                memory.rows(rowBytes, SNAPSHOT_FETCH_ROWS),
                gate, this::chunkEmitted, t -> {
                    failure.compareAndSet(null, HeapExhausted.isCause(t) ? new HeapExhausted("producer", memory, t) : t);
                    LOG.error("chunked snapshot failed: {}", Redaction.redact(String.valueOf(t.getMessage()), spec.source().secret()));
                });
        chunked = snapshot;
        snapshot.start();
    }

    /** A chunk is in Kafka: its last key is where a restart resumes; the table's last chunk ends its snapshot. */
    private void chunkEmitted(String table, Map<String, Object> lastKey, long rows, boolean last) {
        rowsRead.get(table).addAndGet(rows);
        if (lastKey != null) {
            resumeAfter.put(table, lastKey);
        }
        if (last) {
            LOG.info("chunked snapshot of {} read: {} rows", table, rowsRead.get(table).get());
            markDone(List.of(table));
        }
    }

    /** Files in the state directory that belong to one source. */
    public static final List<String> STATE_FILES = List.of("offsets.dat", ProducerState.FILE, RETRY_FILE, SourceIdentity.FILE);

    /**
     * Refuses state written for another source (or, told so, discards it); records the identity for a state directory
     * that has none yet.
     */
    private void checkIdentity(SourceIdentity actual) throws java.io.IOException {
        Optional<SourceIdentity> recorded = SourceIdentity.read(config.stateDir());
        if (recorded.isPresent() && !recorded.get().equals(actual)) {
            if (!config.freshState()) {
                throw new SourceIdentity.Mismatch(config.stateDir(), recorded.get(), actual);
            }
            LOG.warn("discarding the producer state of another source ({}) in {}", recorded.get(), config.stateDir());
            for (String f : STATE_FILES) {
                Files.deleteIfExists(config.stateDir().resolve(f));
            }
        }
        if (recorded.isEmpty() || !recorded.get().equals(actual)) {
            actual.write(config.stateDir());
        }
    }

    /** Stops the producer once the slot is lost while it runs (checked every few seconds). */
    private void watchSlot() {
        if (!running) {
            return;
        }
        try (Connection c = spec.source().open()) {
            SlotState.read(c, spec.slotName()).filter(SlotState::lost).ifPresent(s -> {
                failure.compareAndSet(null, new SlotState.Lost(s));
                LOG.error("{}", failure.get().getMessage());
            });
        } catch (java.sql.SQLException | RuntimeException e) {
            LOG.debug("cannot read the slot's state: {}", Redaction.redact(String.valueOf(e.getMessage()), spec.source().secret()));
        }
    }

    /** Debezium's logical name; notifications are routed by it. */
    private String topicPrefix() {
        return spec.slotName();
    }

    private String connectorName() {
        return "pgbackfill-" + spec.pipelineName();
    }

    private Properties kafkaProperties() {
        Properties p = io.pgbackfill.core.kafka.KafkaClientConfig.of(spec.kafka(), connectorName() + "-producer");
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        p.put("linger.ms", "20");
        // Bytes, not records: the buffer holds the budget, or one record of the largest size (64 MiB) and a little.
        p.put("batch.size", Integer.toString(memory.producerBatchBytes()));
        p.put("compression.type", "lz4");
        p.put("buffer.memory", Long.toString(memory.producerBufferBytes()));
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
        if (url.multiHost()) {
            throw new IllegalArgumentException("source.jdbcUrl names several hosts (" + String.join(",", url.hosts())
                    + "): the replication connection and its slot live on one server; name the primary only");
        }
        // Every URL parameter (sslmode, sslrootcert, sslcert, sslkey, ...) reaches Debezium's connections too:
        // Debezium hands its database.* settings to pgjdbc.
        url.parameters().forEach((k, v) -> p.setProperty("database." + k, v));
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
        p.setProperty("snapshot.mode", snapshotMode);
        if ("initial".equals(snapshotMode)) {
            p.setProperty("snapshot.include.collection.list", String.join(",", spec.tables().stream().map(t -> Pattern.quote(t.sourceName().id())).toList()));
            // pgjdbc holds a whole fetch: 20000 rows of 1 MiB would be 20 GB. Fewer rows when rows are large.
            p.setProperty("snapshot.fetch.size", Integer.toString(memory.rows(rowBytes, SNAPSHOT_FETCH_ROWS)));
            List<String> ordered = new ArrayList<>();
            for (TableSpec t : spec.tables()) {
                var schema = schemas.get(t.sourceName().id());
                if (schema != null && !schema.primaryKey().isEmpty()) {
                    ordered.add(t.sourceName().id());
                    p.setProperty("snapshot.select.statement.overrides." + t.sourceName().id(), "SELECT * FROM " + t.sourceName().quoted()
                            + " ORDER BY " + String.join(", ", schema.primaryKey().stream().map(k -> io.pgbackfill.core.sql.SqlIdentifier.of(k).quoted()).toList()));
                }
            }
            if (!ordered.isEmpty()) {
                p.setProperty("snapshot.select.statement.overrides", String.join(",", ordered));
            }
        }
        p.setProperty("signal.enabled.channels", "source");
        p.setProperty("signal.data.collection", signalTable);
        // Debezium holds a whole chunk in memory (its de-duplication window): no more rows than the budget holds.
        p.setProperty("incremental.snapshot.chunk.size", Integer.toString(memory.rows(rowBytes, spec.snapshot().chunkSize())));
        p.setProperty("notification.enabled.channels", SnapshotNotifications.CHANNEL);
        p.setProperty("heartbeat.interval.ms", Long.toString(config.heartbeatIntervalMs()));
        p.setProperty("heartbeat.action.query", "UPDATE " + heartbeatTable + " SET beat_at = now() WHERE pipeline = '"
                + spec.pipelineName() + "'");
        // The queue is bounded in bytes (Debezium's estimate of each record's size) as well as in records; a batch is
        // taken from the queue while the next one fills it, so each gets half the budget.
        p.setProperty("max.batch.size", Integer.toString(batchSize()));
        p.setProperty("max.queue.size", Integer.toString(batchSize() * 4));
        p.setProperty("max.queue.size.in.bytes", Long.toString(memory.stageBytes() / 2));
        p.setProperty("poll.interval.ms", "20");
        p.setProperty("decimal.handling.mode", "string");
        p.setProperty("interval.handling.mode", "string");
        p.setProperty("hstore.handling.mode", "json");
        p.setProperty("include.unknown.datatypes", "true");
        p.setProperty("tombstones.on.delete", "false");
        p.setProperty("skipped.operations", "none");
        p.setProperty("slot.drop.on.stop", "false");
        // Debezium's own retry restarts the task with this configuration. Streaming only (no_data) that is safe: without
        // committed offsets it streams from the slot, which has not moved. The initial scan's retry is not: before its
        // first offset flush it takes a new scan from the current WAL position and skips every change in between (a
        // database restart just after the scan lost deletes). So an initial-scan engine stops on any error, and the
        // restarted producer (exit 3, the supervisor) streams from the slot with the resume logic of start().
        p.setProperty("errors.max.retries", "initial".equals(snapshotMode) ? "0" : "-1");
        return p;
    }

    /** Debezium's batch: {@link ProducerConfig#maxBatchSize()} rows, fewer if that many large rows exceed half the budget. */
    private int batchSize() {
        return Math.max(2, Math.min(config.maxBatchSize(), (int) Math.min(Integer.MAX_VALUE, memory.stageBytes() / 2 / Math.max(1, rowBytes))));
    }

    private void handleBatch(List<RecordChangeEvent<SourceRecord>> records, DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        lastEventSummary.makeCheap(engine);
        AtomicReference<Exception> sendError = new AtomicReference<>();
        org.apache.kafka.clients.producer.Callback onSent = (md, ex) -> {
            if (ex != null) {
                sendError.compareAndSet(null, ex);
            }
        };
        Map<String, Map<String, Object>> lastScanned = null;
        long heartbeat = 0;
        int interleavedReads = 0;
        // The initial scan runs before streaming starts: waiting here holds the scan and nothing else.
        // (The chunked snapshot waits in its own reader thread, between chunks: never here.)
        snapshotControl.pacer().admit(initialScanRows(records));
        ChunkedSnapshot chunks = chunked;
        List<ChunkedSnapshot.Window> sentChunks = null;
        for (RecordChangeEvent<SourceRecord> rce : records) {
            ChangeEvent e = converter.convert(rce.record());
            if (e == null) {
                continue;
            }
            lastLsn.accumulateAndGet(e.lsn(), Math::max);
            if (chunks != null && heartbeatTable.equals(e.table()) && chunks.isMark(e)) {
                ChunkedSnapshot.Window w = chunks.onMark(e);
                if (w != null) {
                    // The chunk goes out here, in order with the stream: behind every change committed before its
                    // high mark, ahead of every change after it.
                    for (ChunkedSnapshot.Row r : w.survivors()) {
                        kafka.send(new ProducerRecord<>(w.topic, r.key(), r.value()), onSent);
                    }
                    eventsOut.addAndGet(w.rows.size());
                    sentChunks = sentChunks == null ? new ArrayList<>() : sentChunks;
                    sentChunks.add(w);
                }
                continue;
            }
            if (heartbeatTable.equals(e.table())) {
                emitWatermarks(e, onSent);
                heartbeat = Math.max(heartbeat, e.lsn());
                continue;
            }
            String topic = rawTopicBySource.get(e.table());
            if (topic == null) {
                continue; // the signal table, or a table no longer in the spec
            }
            byte[] value = EventCodec.encode(e);
            if (e.isTruncate()) {
                if (chunks != null) {
                    chunks.onTruncate(e.table());
                }
                for (int p = 0; p < spec.kafka().partitions(); p++) {
                    kafka.send(new ProducerRecord<>(topic, p, null, value), onSent);
                }
            } else {
                if (ChangeEvent.READ.equals(e.op()) && !snapshotDone.get(e.table())) {
                    rowsRead.get(e.table()).incrementAndGet(); // snapshot progress; re-reads of single rows do not count
                    if (StructConverter.isInitialScan(rce.record())) {
                        lastScanned = lastScanned == null ? new HashMap<>() : lastScanned;
                        lastScanned.put(e.table(), e.key());
                    } else {
                        interleavedReads++;
                    }
                }
                byte[] key = EventCodec.encodeKey(e.key());
                if (chunks != null) {
                    chunks.onChange(e.table(), ChunkedSnapshot.keyId(key));
                }
                kafka.send(new ProducerRecord<>(topic, key, value), onSent);
            }
            eventsOut.incrementAndGet();
        }
        kafka.flush();
        if (sendError.get() != null) {
            throw new IllegalStateException("Kafka rejected change events; offsets not committed", sendError.get());
        }
        if (lastScanned != null) {
            resumeAfter.putAll(lastScanned); // only keys Kafka has acknowledged
        }
        watermarksFlushed.accumulateAndGet(heartbeat, Math::max);
        snapshotControl.pacer().record(interleavedReads); // held between chunks by pause-snapshot signals, never here
        if (sentChunks != null) {
            sentChunks.forEach(chunks::emitted);
        }
        for (RecordChangeEvent<SourceRecord> rce : records) {
            committer.markProcessed(rce);
        }
        committer.markBatchFinished();
    }

    private static int initialScanRows(List<RecordChangeEvent<SourceRecord>> records) {
        int n = 0;
        for (RecordChangeEvent<SourceRecord> rce : records) {
            // heartbeats and other records without a source block are not scan rows
            if (rce.record().value() instanceof org.apache.kafka.connect.data.Struct v && v.schema().field("source") != null
                    && StructConverter.isInitialScan(rce.record())) {
                n++;
            }
        }
        return n;
    }

    /** Pause, throttle and rate-limit state of the snapshot (status, metrics). */
    public io.pgbackfill.producer.throttle.SnapshotControl snapshotControl() {
        return snapshotControl;
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
        if ("Initial Snapshot".equals(n.getAggregateType())) {
            LOG.info("initial snapshot {} {}", n.getType(), n.getAdditionalData());
            if ("COMPLETED".equals(n.getType())) {
                markDone(List.copyOf(snapshotDone.keySet()));
            } else if ("ABORTED".equals(n.getType()) && running) {
                // Debezium would run the whole scan again in this process after its retry delay, from a new point of
                // the source: rows deleted in between keep the copy the first scan already sent, and their deletes
                // (before that point) are never streamed. Stop instead: a restarted producer resumes the scan from the
                // slot's consistent point (see start()), which streams every change since the first scan began.
                // Debezium reports an OutOfMemoryError in the scan as an abort like any other: a restart would only
                // run into it again, so say what it was and what to change.
                failure.compareAndSet(null, HeapPressure.exhausted()
                        ? new HeapExhausted("producer", memory, new IllegalStateException("the initial scan was interrupted (" + n.getAdditionalData() + ")"))
                        : new IllegalStateException("the initial scan was interrupted (" + n.getAdditionalData() + "); restart the producer to resume it"));
            }
            return;
        }
        if (!"Incremental Snapshot".equals(n.getAggregateType())) {
            return;
        }
        switch (n.getType()) {
            case "STARTED", "IN_PROGRESS", "RESUMED" -> incrementalRunning = true;
            case "COMPLETED", "ABORTED" -> incrementalRunning = false;
            default -> {
                // TABLE_SCAN_COMPLETED, PAUSED: the snapshot as a whole goes on
            }
        }
        if ("IN_PROGRESS".equals(n.getType())) {
            LOG.debug("snapshot chunk {}", n.getAdditionalData());
            return;
        }
        LOG.info("incremental snapshot {} {}", n.getType(), n.getAdditionalData());
        String table = n.getAdditionalData().get("scanned_collection");
        if ("TABLE_SCAN_COMPLETED".equals(n.getType()) && table != null && snapshotDone.containsKey(table)) {
            String status = n.getAdditionalData().get("status");
            if (status == null || "SUCCEEDED".equals(status) || "EMPTY".equals(status)) {
                scanFailed.remove(table);
                markDone(List.of(table));
            } else {
                onScanFailed(table, status);
            }
        } else if ("COMPLETED".equals(n.getType())) {
            markDone(snapshotDone.keySet().stream().filter(t -> !scanFailed.contains(t)).toList());
        }
    }

    /**
     * Debezium ends a table's incremental snapshot early on an SQL error while reading a chunk (the source restarting,
     * a dropped connection): it notifies TABLE_SCAN_COMPLETED with status SQL_EXCEPTION, moves on, and never comes
     * back to the rows after that chunk. So the table is not done: ask for its snapshot again (from the start; rows
     * copied twice are no-ops for the sink). Other statuses (no primary key, unknown schema) will not heal by asking
     * again: the producer stops with the reason.
     */
    private void onScanFailed(String table, String status) {
        scanFailed.add(table);
        if ("SQL_EXCEPTION".equals(status)) {
            LOG.warn("the snapshot of {} stopped on a database error; asking for it again", table);
            snapshotRetries.add(table);
            writeRetryFile();
        } else {
            failure.compareAndSet(null, new IllegalStateException("the snapshot of " + table + " ended with status " + status
                    + ": not every row was copied"));
        }
    }

    /** Writes the signal for the snapshots to ask for again, once the source answers; tried every second. */
    private void retrySnapshots() {
        if (snapshotRetries.isEmpty() || !running) {
            return;
        }
        List<String> tables = List.copyOf(snapshotRetries);
        try (Connection c = spec.source().open()) {
            SourceSetup.requestSnapshot(c, spec, "pgbackfill-snapshot-retry-" + System.currentTimeMillis(), tables, Map.of());
            snapshotRetries.removeAll(tables);
            writeRetryFile();
            LOG.info("asked again for the snapshot of {}", tables);
        } catch (java.sql.SQLException | RuntimeException e) {
            LOG.debug("cannot ask for the snapshot of {} yet: {}", tables, Redaction.redact(String.valueOf(e.getMessage()), spec.source().secret()));
        }
    }

    private synchronized void writeRetryFile() {
        java.nio.file.Path f = config.stateDir().resolve(RETRY_FILE);
        try {
            if (snapshotRetries.isEmpty()) {
                Files.deleteIfExists(f);
            } else {
                java.nio.file.Path tmp = config.stateDir().resolve(RETRY_FILE + ".tmp");
                Files.write(tmp, List.copyOf(snapshotRetries));
                Files.move(tmp, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (java.io.IOException e) {
            LOG.warn("cannot write {}: {}", f, e.getMessage());
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
            boolean done = snapshotDone.get(id);
            tables.put(id, new ProducerState.TableProgress(rowsRead.get(id).get(), estimatedRows.getOrDefault(id, 0L), done,
                    done ? null : resumeAfter.get(id)));
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
        return !snapshotDone.isEmpty() && snapshotDone.values().stream().allMatch(b -> b);
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
        snapshotControl.pacer().close(); // release a scan waiting for its turn, so the engine can stop
        if (chunked != null) {
            chunked.close();
        }
        if (backlogPacer != null) {
            backlogPacer.close();
        }
        if (rereads != null) {
            rereads.close();
        }
        if (engine != null) {
            try {
                engine.close();
            } catch (IllegalStateException stoppedOnItsOwn) {
                // the engine stopped on a failure (see failure()): nothing left to close
            }
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
        snapshotControl.close();
    }
}
