package io.pgbackfill.ops.resync;

import io.pgbackfill.core.state.SinkState;
import io.pgbackfill.core.kafka.GroupPositions;
import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SnapshotSpec;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.pipeline.Pipeline;
import io.pgbackfill.producer.ChangeEventProducer;
import io.pgbackfill.producer.SlotState;
import io.pgbackfill.sink.SinkConfig;
import io.pgbackfill.sink.TargetTable;
import io.pgbackfill.core.sql.SqlIdentifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;

/**
 * Brings the target back to the transform of the source after changes were lost on the way (a lost replication slot,
 * events Kafka deleted before a stage read them), with every service of the pipeline stopped:
 * <ol>
 *   <li>drops the slot and the producer's local state, and notes {@code from}, the source's WAL insert position now:
 *       every row the new snapshot delivers carries an LSN at or past it (the slot is created after it), every row the
 *       old run wrote carries one before it;</li>
 *   <li>moves the transformer's and the sink's committed offsets to the end of their topics (what is there is older
 *       than the new snapshot, which supersedes it; watermarks in it would announce the old snapshot as done) and
 *       forgets the sink's watermarks;</li>
 *   <li>runs the pipeline in this process until the new snapshot is in the target and it caught up with the source;</li>
 *   <li>deletes the target rows whose {@code _pgbackfill_lsn} is still before {@code from}: the new snapshot did not
 *       deliver them, so their source rows are gone (deleted while the changes were lost) or filtered out.</li>
 * </ol>
 * Interrupted anywhere, it is run again from the start.
 */
public final class Resync {
    /** Rows deleted per statement in the reconciliation (each its own short transaction). */
    static final int DELETE_BATCH = 10_000;

    private final MigrationPlan plan;
    private final PipelineSpec spec;
    private final Path stateDir;
    private final Duration timeout;
    private final Consumer<String> say;

    public Resync(MigrationPlan plan, Path stateDir, Duration timeout, Consumer<String> say) {
        this.plan = plan;
        this.spec = plan.spec();
        this.stateDir = stateDir;
        this.timeout = timeout;
        this.say = say;
    }

    /** Why resync cannot run now (a stage still running), or empty. */
    public Optional<String> blocker() throws SQLException, ExecutionException, InterruptedException {
        try (Connection c = spec.source().open()) {
            Optional<SlotState> slot = SlotState.read(c, spec.slotName());
            if (slot.isPresent() && slot.get().active()) {
                return Optional.of("replication slot " + spec.slotName() + " is in use: stop the producer (or `backfill up`) first");
            }
        }
        try (Admin admin = KafkaTopics.admin(spec.kafka(), 30_000)) {
            for (String group : List.of(spec.transformerApplicationId(), spec.sinkGroupId())) {
                var d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                if (d != null && !d.members().isEmpty()) {
                    return Optional.of("consumer group " + group + " has " + d.members().size() + " member(s): stop every transformer and sink first "
                            + "(an instance that died leaves the group after its session timeout, 10 s)");
                }
            }
        }
        return Optional.empty();
    }

    /** Runs the whole resync; returns the rows removed per target table. */
    public Map<String, Long> run() throws Exception {
        long from = restart();
        ResyncMarker.write(stateDir, from);
        resetPositions();
        // Debezium's initial scan, whatever the spec says: the reconciliation below tells delivered rows by their LSN
        // (at or past `from`), and only that scan gives its rows one; chunked and incremental snapshot rows carry 0.
        PipelineSpec scan = spec.withSnapshot(new SnapshotSpec(spec.snapshot().chunkSize(), SnapshotSpec.INITIAL));
        try (Pipeline pipeline = new Pipeline(plan.withSpec(scan), stateDir, SinkConfig.from(spec.sink()))) {
            pipeline.start();
            say.accept("taking a new snapshot (slot " + spec.slotName() + " created again)...");
            CatchUp.await(spec, true, timeout, () -> pipeline.failure() == null);
            if (pipeline.failure() != null) {
                throw new IllegalStateException("a stage failed during the resync: " + pipeline.failure().getMessage(), pipeline.failure());
            }
            say.accept("the new snapshot is in the target and it caught up with the source");
            Map<String, Long> removed = reconcile(from);
            ResyncMarker.clear(stateDir);
            return removed;
        }
    }

    /** Drops the slot and the producer's state; returns the WAL position every re-delivered row is at or past. */
    long restart() throws Exception {
        try (Connection c = spec.source().open()) {
            Optional<SlotState> slot = SlotState.read(c, spec.slotName());
            if (slot.isPresent()) {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
                    ps.setString(1, spec.slotName());
                    ps.execute();
                }
                say.accept("dropped replication slot " + spec.slotName() + " (wal_status " + slot.get().walStatus() + ")");
            }
            Path producerState = stateDir.resolve("producer");
            for (String f : ChangeEventProducer.STATE_FILES) {
                if (Files.deleteIfExists(producerState.resolve(f))) {
                    say.accept("removed " + producerState.resolve(f));
                }
            }
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")) {
                rs.next();
                long from = rs.getLong(1);
                say.accept("rows the new snapshot does not deliver are those with " + TargetTable.LSN_COLUMN + " < " + from);
                return from;
            }
        }
    }

    /** Moves both groups to the end of their topics and forgets the sink's watermarks (they said "snapshot done"). */
    void resetPositions() throws Exception {
        List<String> raw = new ArrayList<>();
        List<String> rows = new ArrayList<>();
        List<String> all = new ArrayList<>();
        for (TableSpec t : spec.tables()) {
            raw.add(spec.rawTopic(t));
            rows.add(spec.rowsTopic(t));
            all.addAll(List.of(spec.rawTopic(t), spec.rowsTopic(t), spec.dlqTopic(t)));
        }
        KafkaTopics.ensure(spec.kafka(), all, spec.kafka().partitions());
        KafkaTopics.partitionCounts(spec.kafka(), all);
        try (Admin admin = KafkaTopics.admin(spec.kafka())) {
            for (var group : List.of(Map.entry(spec.transformerApplicationId(), raw), Map.entry(spec.sinkGroupId(), rows))) {
                var ends = GroupPositions.ends(admin, GroupPositions.partitions(admin, group.getValue()));
                GroupPositions.set(admin, group.getKey(), ends);
                say.accept("group " + group.getKey() + " moved to the end of " + group.getValue() + " (" + ends.values().stream().mapToLong(Long::longValue).sum() + ")");
            }
        }
        try (Connection c = spec.targetOrSource().open()) {
            say.accept("forgot " + SinkState.forgetWatermarks(c, spec.pipelineName()) + " sink watermark(s)");
        }
    }

    /** Deletes, batch by batch, the target rows the new snapshot did not deliver. */
    Map<String, Long> reconcile(long from) throws SQLException {
        Map<String, Long> removed = new LinkedHashMap<>();
        try (Connection c = spec.targetOrSource().open()) {
            for (TableSpec t : spec.tables()) {
                String table = t.targetName().quoted();
                String lsn = SqlIdentifier.of(TargetTable.LSN_COLUMN).quoted();
                long total = 0;
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE ctid = ANY (ARRAY(SELECT ctid FROM " + table
                        + " WHERE " + lsn + " < ? LIMIT " + DELETE_BATCH + ")) AND " + lsn + " < ?")) {
                    ps.setLong(1, from);
                    ps.setLong(2, from);
                    int n;
                    do {
                        n = ps.executeUpdate();
                        total += n;
                    } while (n > 0);
                }
                removed.put(t.targetName().id(), total);
                say.accept("removed " + total + " row(s) from " + t.targetName().id() + " that the new snapshot did not deliver");
            }
        }
        return removed;
    }
}
