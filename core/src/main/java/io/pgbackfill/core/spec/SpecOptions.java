package io.pgbackfill.core.spec;

import java.util.List;
import java.util.Map;

/**
 * Every setting a spec can give, per section ({@link SpecOption}), and the values no key sets, each with why it is
 * fixed ({@link Fixed}). The section records ({@link KafkaSpec}, {@link SnapshotSpec}, {@link SinkSpec},
 * {@link CutoverSpec}, {@link MemorySpec}, {@link ThrottleSpec}, {@link HooksSpec}) resolve their values through these; the stage configs take the fixed
 * values from here; docs/spec-reference.md is generated from both ({@link SpecReference}) and checked by a test.
 */
public final class SpecOptions {
    private SpecOptions() {
    }

    public static final SpecOption<String> KAFKA_BOOTSTRAP_SERVERS = new SpecOption<>("kafka", "bootstrapServers", String.class,
            "localhost:9092", "localhost:9092", "", "Kafka brokers, host:port[,host:port...].", "not empty", v -> !v.isBlank());
    public static final SpecOption<String> KAFKA_TOPIC_PREFIX = SpecOption.text("kafka", "topicPrefix", "pgbackfill.NAME",
            "Prefix of the pipeline's topics: PREFIX.raw.TABLE, PREFIX.rows.TABLE, PREFIX.dlq.TABLE, PREFIX.reread.");
    public static final SpecOption<Integer> KAFKA_PARTITIONS = SpecOption.integer("kafka", "partitions", 4, "partitions", 1, null,
            "Partitions of each topic pgbackfill creates: the most transformer and sink instances (or threads) that share the work.");
    public static final SpecOption<Map> KAFKA_PROPERTIES = new SpecOption<>("kafka", "properties", Map.class, null, "none", "",
            "Kafka client properties for every client pgbackfill creates (security.protocol, sasl.*, ssl.*, client.dns.lookup); "
                    + "a secret is a reference, {env: VAR} or {file: PATH}. See docs/connections.md.", "", v -> true);

    public static final SpecOption<Integer> SNAPSHOT_CHUNK_SIZE = SpecOption.integer("snapshot", "chunkSize", 10_000, "rows", 1, null,
            "Most rows per chunk of a chunked or incremental snapshot (and of a re-read after an interrupted initial scan); at most two chunks are in memory, and the byte budget lowers it for wide rows. "
                    + "A chunked snapshot starts with chunks of 1,000 rows and grows them to half a second of the sink's pace, up to this.");
    public static final SpecOption<String> SNAPSHOT_MODE = SpecOption.choice("snapshot", "mode", "chunked", List.of("chunked", "initial", "incremental", "none"),
            "chunked: pgbackfill's own chunks by primary key read beside the stream (DBLog window marks): changes made during "
                    + "the snapshot reach the target within seconds whatever the table's size, no long transaction on the source, "
                    + "resumed by key after a restart (a table without a primary key is read by the initial scan instead). "
                    + "initial: Debezium's one consistent scan in key order; changes made meanwhile wait until it ends, and it "
                    + "holds one transaction on the source for the whole scan. "
                    + "incremental: Debezium's incremental snapshot (chunked, interleaved, ~3x slower per row). "
                    + "none: streaming only, every table counts as snapshotted from the start (the reverse stream after a cutover).");

    public static final SpecOption<Integer> SINK_BATCH_SIZE = SpecOption.integer("sink", "batchSize", 5000, "rows", 1, null,
            "Most rows per target transaction: bounds transaction length and memory (the array upsert's best in the sink benchmark).");
    public static final SpecOption<Integer> SINK_LINGER_MS = SpecOption.integer("sink", "lingerMs", 50, "ms", 0, null,
            "Longest a partial batch waits for more rows while they keep coming; once a poll brings no more (the sink has read what the "
                    + "transformer committed), it is written at once.");
    public static final SpecOption<Integer> SINK_COPY_THRESHOLD = SpecOption.integer("sink", "copyThreshold", 10_000, "rows", 0, null,
            "Batches with at least this many upserts go through COPY into a staging table and one merge (faster only from ~20000 rows); "
                    + "smaller ones through one array-upsert statement.");
    public static final SpecOption<String> SINK_TRUNCATE = SpecOption.choice("sink", "truncate", "refuse", List.of("refuse", "apply"),
            "What a source TRUNCATE does: refuse stops the sink with an error, apply truncates the target too.");

    public static final SpecOption<String> CUTOVER_OLD_SUFFIX = new SpecOption<>("cutover", "oldSuffix", String.class, "old", "old", "",
            "The source table is renamed to NAME_SUFFIX at cutover (kept for a rollback).", "not empty", v -> !v.isBlank());
    public static final SpecOption<Integer> CUTOVER_LOCK_TIMEOUT_MS = SpecOption.integer("cutover", "lockTimeoutMs", 2000, "ms", 1, null,
            "How long one cutover attempt may wait for the table lock before it gives up and retries.");
    public static final SpecOption<Integer> CUTOVER_ATTEMPTS = SpecOption.integer("cutover", "attempts", 5, "attempts", 1, null,
            "Cutover attempts before it reports that it could not take the lock.");
    public static final SpecOption<String> CUTOVER_SWITCH_COMMAND = SpecOption.text("cutover", "switchCommand", null,
            "For a new cluster: the command that switches the application, run with the LSN in $PGBACKFILL_LSN.");

    public static final SpecOption<Integer> MEMORY_STAGE_BUDGET_MIB = new SpecOption<>("memory", "stageBudgetMiB", Integer.class, null,
            "derived from the heap", "MiB",
            "Bytes of records one stage may hold at once (Debezium's queue, Kafka fetches, Streams buffers, the sink's batch). "
                    + "Derived: (heap - 96 MiB) / (8 x stages in the JVM), between 4 and 256 MiB.", "between 1 and 4096", v -> v >= 1 && v <= 4096);

    public static final SpecOption<Integer> THROTTLE_INTERVAL_MS = SpecOption.integer("throttle", "intervalMs", 1000, "ms", 50, null,
            "How often the producer runs the source-health checks below.");
    public static final SpecOption<Long> THROTTLE_REPLICA_LAG_MS = SpecOption.longInteger("throttle", "replicaLagMs", "no check", "ms", 0,
            "The snapshot's reads wait while the largest replay lag of the source's physical replicas (pg_stat_replication) is over this.");
    public static final SpecOption<Long> THROTTLE_SLOT_RETAINED_MIB = SpecOption.longInteger("throttle", "slotRetainedMiB", "no check", "MiB", 0,
            "The snapshot's reads wait while this pipeline's replication slot retains more WAL than this.");
    public static final SpecOption<String> THROTTLE_QUERY = SpecOption.text("throttle", "query", "no check",
            "A query run on the source at each check; the snapshot's reads wait while it returns true.");
    @SuppressWarnings("rawtypes")
    public static final SpecOption<Map> THROTTLE_CRITICAL = new SpecOption<>("throttle", "critical", Map.class, null, "none", "",
            "{replicaLagMs, slotRetainedMiB}: thresholds that pause the pipeline instead of slowing it, until `backfill ctl SPEC resume`.", "", v -> true);
    public static final SpecOption<Long> THROTTLE_ROWS_PER_SECOND = SpecOption.longInteger("throttle", "rowsPerSecond", "no limit", "rows/s", 1,
            "The snapshot's rate limit at start; change it while running with `backfill ctl SPEC rate-limit N`.");

    public static final SpecOption<String> HOOKS_STARTUP = SpecOption.text("hooks", "startup", "none",
            "Command (sh -c) run once a stage has started, with the pipeline's state in PGBACKFILL_* variables (docs/control.md).");
    public static final SpecOption<String> HOOKS_SNAPSHOT_DONE = SpecOption.text("hooks", "snapshotDone", "none",
            "Command run once the snapshot is complete (producer, or up).");
    public static final SpecOption<String> HOOKS_BEFORE_CUTOVER = SpecOption.text("hooks", "beforeCutover", "none",
            "Command run before the cutover takes its lock; a non-zero exit refuses the cutover (exit 1, nothing changed).");
    public static final SpecOption<String> HOOKS_AFTER_CUTOVER = SpecOption.text("hooks", "afterCutover", "none",
            "Command run after a cutover switched, with the write pause in PGBACKFILL_WRITE_PAUSE_MS.");
    public static final SpecOption<String> HOOKS_FAILURE = SpecOption.text("hooks", "failure", "none",
            "Command run once when a stage fails, with the reason in PGBACKFILL_FAILURE.");
    public static final SpecOption<Integer> HOOKS_TIMEOUT_SECONDS = SpecOption.integer("hooks", "timeoutSeconds", 60, "s", 1, null,
            "Longest a hook may run; one that runs longer is stopped and counts as failed.");

    /** Every key, by section, in the order the reference lists them. */
    public static final Map<String, List<SpecOption<?>>> SECTIONS = Map.of(
            "kafka", List.of(KAFKA_BOOTSTRAP_SERVERS, KAFKA_TOPIC_PREFIX, KAFKA_PARTITIONS, KAFKA_PROPERTIES),
            "snapshot", List.of(SNAPSHOT_CHUNK_SIZE, SNAPSHOT_MODE),
            "sink", List.of(SINK_BATCH_SIZE, SINK_LINGER_MS, SINK_COPY_THRESHOLD, SINK_TRUNCATE),
            "cutover", List.of(CUTOVER_OLD_SUFFIX, CUTOVER_LOCK_TIMEOUT_MS, CUTOVER_ATTEMPTS, CUTOVER_SWITCH_COMMAND),
            "memory", List.of(MEMORY_STAGE_BUDGET_MIB),
            "throttle", List.of(THROTTLE_INTERVAL_MS, THROTTLE_REPLICA_LAG_MS, THROTTLE_SLOT_RETAINED_MIB, THROTTLE_QUERY, THROTTLE_CRITICAL,
                    THROTTLE_ROWS_PER_SECOND),
            "hooks", List.of(HOOKS_STARTUP, HOOKS_SNAPSHOT_DONE, HOOKS_BEFORE_CUTOVER, HOOKS_AFTER_CUTOVER, HOOKS_FAILURE, HOOKS_TIMEOUT_SECONDS));

    /** The order of the sections in the reference. */
    public static final List<String> SECTION_ORDER = List.of("kafka", "snapshot", "sink", "cutover", "memory", "throttle", "hooks");

    /**
     * A value that no spec key sets, used by a stage, and why it is fixed.
     *
     * @param name  what it is and where it goes ({@code producer heartbeat interval})
     * @param value the value
     * @param unit  its unit
     * @param why   why a spec cannot change it
     */
    public record Fixed(String name, long value, String unit, String why) {
    }

    public static final Fixed HEARTBEAT_INTERVAL_MS = new Fixed("producer heartbeat interval (Debezium heartbeat.interval.ms)", 1000, "ms",
            "Each heartbeat is a watermark on every partition: catch-up, verify's settling and the cutover drain wait for one, so it is "
                    + "their resolution; it also keeps the slot advancing on an idle table. Lower costs a source write per interval, higher slows every wait.");
    public static final Fixed OFFSET_FLUSH_INTERVAL_MS = new Fixed("producer offset flush interval (Debezium offset.flush.interval.ms)", 1000, "ms",
            "How often the slot's confirmed LSN moves; the events are in Kafka before it does, so it bounds retained WAL, not correctness.");
    public static final Fixed DEBEZIUM_MAX_BATCH_SIZE = new Fixed("Debezium batch size (max.batch.size; the queue, max.queue.size, holds 4 batches)", 2048, "records",
            "Measured: 8192 cost ~40% more GC time in the 1M-row demo, 1024 no less than 2048; for large rows it is lowered to fit "
                    + "memory.stageBudgetMiB and the queue is bounded in bytes too, so the byte budget is the setting.");
    public static final Fixed SINK_RETRY_BACKOFF_MS = new Fixed("sink retry backoff after a lost target connection", 500, "ms",
            "First wait; it doubles up to 30 s and retries forever, offsets uncommitted: a short outage costs at most a second, a long one no load.");
    public static final Fixed STREAMS_COMMIT_INTERVAL_MS = new Fixed("transformer commit interval (Kafka Streams commit.interval.ms, exactly_once_v2)", 100, "ms",
            "Each commit is a Kafka transaction: the rows a sink reads (read_committed) lag the raw events by up to this, the largest share of the "
                    + "streaming lag; Streams' own EOS default. At 200 this stage alone was ~170 ms of the lag's p50 (BENCHMARKS.md, streaming lag), "
                    + "at 100 ~90 ms; lower means more transactions (markers on every partition) for little more.");

    public static final List<Fixed> FIXED = List.of(HEARTBEAT_INTERVAL_MS, OFFSET_FLUSH_INTERVAL_MS, DEBEZIUM_MAX_BATCH_SIZE,
            SINK_RETRY_BACKOFF_MS, STREAMS_COMMIT_INTERVAL_MS);
}
