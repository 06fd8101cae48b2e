package io.pgbackfill.ops.status;

import java.util.OptionalLong;
import io.pgbackfill.core.state.SinkState;
import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.kafka.TopicSettings;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.producer.ProducerState;
import io.pgbackfill.producer.SourceIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * One snapshot of a pipeline's state, read from where each piece of state lives: the replication
 * slot (source), consumer-group offsets (Kafka), sink watermarks (target), the producer's progress
 * file (state dir). Nothing is written. Secrets never enter it.
 */
public record PipelineStatus(
        long takenAtMs,
        Slot slot,
        Map<String, Snapshot> snapshot,
        List<GroupLag> groups,
        Map<String, Long> deadLetters,
        Long sinkWatermarkLag,
        List<String> longQueries,
        Map<String, TopicSettings> topics,
        int brokers,
        io.pgbackfill.core.control.ControlState control) {

    public record Slot(String name, boolean exists, boolean active, long lagBytes, long retainedBytes, String walStatus) {
    }

    public record Snapshot(long rowsRead, long estimatedRows, boolean done, long targetRows) {
    }

    public record PartitionLag(String topic, int partition, long committed, long end) {
        public long lag() {
            return Math.max(0, end - committed);
        }
    }

    public record GroupLag(String stage, String group, List<PartitionLag> partitions) {
        public long total() {
            return partitions.stream().mapToLong(PartitionLag::lag).sum();
        }

        public long committed() {
            return partitions.stream().mapToLong(PartitionLag::committed).sum();
        }
    }

    public long totalLag() {
        return groups.stream().mapToLong(GroupLag::total).sum();
    }

    public static PipelineStatus read(PipelineSpec spec, Path stateDir) throws SQLException {
        Slot slot;
        long currentLsn;
        List<String> longQueries = new ArrayList<>();
        Map<String, Snapshot> snapshot = new LinkedHashMap<>();
        ProducerState producer = stateDir != null && Files.exists(stateDir.resolve("producer").resolve(ProducerState.FILE))
                ? ProducerState.read(stateDir.resolve("producer")) : null;
        try (Connection c = spec.source().open()) {
            if (producer != null) {
                // Progress of another source (same pipeline name, other database or server) says nothing about this one.
                var recorded = SourceIdentity.read(stateDir.resolve("producer"));
                if (recorded.isPresent() && !recorded.get().equals(SourceIdentity.of(c, spec.slotName()))) {
                    producer = null;
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")) {
                ResultSet rs = ps.executeQuery();
                rs.next();
                currentLsn = rs.getLong(1);
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT active, coalesce(pg_current_wal_lsn() - confirmed_flush_lsn, 0), "
                    + "coalesce(pg_current_wal_lsn() - restart_lsn, 0), coalesce(wal_status, '') FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, spec.slotName());
                ResultSet rs = ps.executeQuery();
                slot = rs.next() ? new Slot(spec.slotName(), true, rs.getBoolean(1), rs.getLong(2), rs.getLong(3), rs.getString(4))
                        : new Slot(spec.slotName(), false, false, 0, 0, "");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT pid, now() - query_start, left(regexp_replace(query, '\\s+', ' ', 'g'), 80) FROM pg_stat_activity "
                    + "WHERE state <> 'idle' AND query_start < now() - interval '30 seconds' AND pid <> pg_backend_pid() AND backend_type = 'client backend' ORDER BY query_start LIMIT 10")) {
                ResultSet rs = ps.executeQuery();
                while (rs.next()) {
                    longQueries.add("pid " + rs.getInt(1) + " running " + rs.getString(2) + ": " + rs.getString(3));
                }
            }
            for (TableSpec t : spec.tables()) {
                long estimate = estimate(c, t.sourceName().quoted());
                ProducerState.TableProgress p = producer == null ? null : producer.tables().get(t.sourceName().id());
                snapshot.put(t.sourceName().id(), new Snapshot(p == null ? -1 : p.rowsRead(), p == null || p.estimatedRows() == 0 ? estimate : p.estimatedRows(),
                        p != null && p.snapshotDone(), -1));
            }
        }
        Long watermarkLag = null;
        try (Connection c = spec.targetOrSource().open()) {
            for (TableSpec t : spec.tables()) {
                Snapshot s = snapshot.get(t.sourceName().id());
                boolean done = s.done() || allPartitionsDone(c, spec, t);
                snapshot.put(t.sourceName().id(), new Snapshot(s.rowsRead(), s.estimatedRows(), done, estimate(c, t.targetName().quoted())));
            }
            OptionalLong lowest = SinkState.lowestWatermark(c, spec.pipelineName());
            if (lowest.isPresent()) {
                watermarkLag = Math.max(0, currentLsn - lowest.getAsLong());
            }
        }
        List<GroupLag> groups = new ArrayList<>();
        Map<String, Long> dlq = new LinkedHashMap<>();
        Map<String, TopicSettings> topics = Map.of();
        int brokers = 0;
        try (Admin admin = KafkaTopics.admin(spec.kafka())) {
            List<String> raw = spec.tables().stream().map(spec::rawTopic).toList();
            List<String> rows = spec.tables().stream().map(spec::rowsTopic).toList();
            groups.add(lag(admin, "transformer", spec.transformerApplicationId(), raw));
            groups.add(lag(admin, "sink", spec.sinkGroupId(), rows));
            for (TableSpec t : spec.tables()) {
                dlq.put(spec.dlqTopic(t), size(admin, spec.dlqTopic(t)));
            }
            List<String> all = new ArrayList<>();
            for (TableSpec t : spec.tables()) {
                all.addAll(List.of(spec.rawTopic(t), spec.rowsTopic(t), spec.dlqTopic(t)));
            }
            topics = TopicSettings.read(admin, all);
            brokers = admin.describeCluster().nodes().get().size();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw io.pgbackfill.core.kafka.KafkaClientConfig.cannotStart(spec.kafka(), e).map(RuntimeException.class::cast)
                    .orElseGet(() -> new IllegalStateException("Kafka at " + spec.kafka().bootstrapServers() + ": " + e.getCause().getMessage(), e.getCause()));
        }
        io.pgbackfill.core.control.ControlState control;
        try {
            control = io.pgbackfill.core.control.ControlTopic.read(spec); // pause, throttle, rate limit: see ops/control
        } catch (RuntimeException e) {
            control = io.pgbackfill.core.control.ControlState.EMPTY;
        }
        return new PipelineStatus(System.currentTimeMillis(), slot, snapshot, groups, dlq, watermarkLag, longQueries, topics, brokers, control);
    }

    private static boolean allPartitionsDone(Connection c, PipelineSpec spec, TableSpec t) {
        return SinkState.snapshotDonePartitions(c, spec.pipelineName(), t.targetName().id()) >= spec.kafka().partitions();
    }

    private static long estimate(Connection c, String quoted) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT CASE WHEN c.reltuples < 0 OR c.relpages = 0 THEN (SELECT count(*) FROM ONLY "
                + quoted.replace("'", "") + ") ELSE c.reltuples::bigint END FROM pg_class c WHERE c.oid = to_regclass(?)")) {
            ps.setString(1, quoted);
            ResultSet rs = ps.executeQuery();
            return rs.next() ? rs.getLong(1) : 0;
        } catch (SQLException e) {
            return -1;
        }
    }

    /** Committed offsets of a group against end offsets (read_committed), partition by partition. */
    public static GroupLag lag(Admin admin, String stage, String group, List<String> topics) throws ExecutionException, InterruptedException {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
        Map<TopicPartition, OffsetSpec> want = new LinkedHashMap<>();
        var described = admin.describeTopics(topics).allTopicNames().get();
        for (var d : described.values()) {
            d.partitions().forEach(p -> want.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest()));
        }
        var ends = admin.listOffsets(want, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get();
        List<PartitionLag> parts = new ArrayList<>();
        for (TopicPartition tp : want.keySet()) {
            OffsetAndMetadata om = committed.get(tp);
            parts.add(new PartitionLag(tp.topic(), tp.partition(), om == null ? 0 : om.offset(), ends.get(tp).offset()));
        }
        return new GroupLag(stage, group, parts);
    }

    private static long size(Admin admin, String topic) throws ExecutionException, InterruptedException {
        try {
            var d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            Map<TopicPartition, OffsetSpec> end = new LinkedHashMap<>();
            Map<TopicPartition, OffsetSpec> start = new LinkedHashMap<>();
            d.partitions().forEach(p -> {
                end.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
                start.put(new TopicPartition(topic, p.partition()), OffsetSpec.earliest());
            });
            long total = 0;
            var e = admin.listOffsets(end).all().get();
            var s = admin.listOffsets(start).all().get();
            for (var tp : e.keySet()) {
                total += e.get(tp).offset() - s.get(tp).offset();
            }
            return total;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException) {
                return 0;
            }
            throw e;
        }
    }
}
