package io.pgbackfill.sink;

import io.pgbackfill.core.state.SinkState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;

/**
 * Keeps a sink that lost its partitions from writing into the target (a "zombie": paused past its session
 * timeout, cut off from the broker, still holding a batch). Kafka's own check comes too late: the offset
 * commit fails only after the zombie's rows are in the database, where an older version could bring back a
 * row the new owner has since deleted (the LSN guard cannot see a row that is gone).
 *
 * <p>Each assignment of a partition bumps its epoch in {@value #TABLE}, and every batch transaction first
 * takes a share lock on the epochs it holds and checks them. A claim (an update) waits for a batch in flight
 * to commit; a batch after a claim by someone else finds a newer epoch and rolls back. The new owner replays
 * from the last committed offset, so a batch that did commit first is only written again (idempotent).
 */
public final class SinkFence {
    static final String TABLE = SinkState.FENCE_TABLE;

    /** Thrown inside a batch transaction when another sink has claimed one of its partitions. */
    public static final class Fenced extends RuntimeException {
        private final Set<TopicPartition> partitions;

        Fenced(Set<TopicPartition> partitions) {
            super("partitions " + partitions + " were claimed by another sink instance; this batch is dropped, the new owner writes it");
            this.partitions = Set.copyOf(partitions);
        }

        public Set<TopicPartition> partitions() {
            return partitions;
        }
    }

    private final String pipeline;
    private final String owner;
    private final Map<TopicPartition, Long> epochs = new HashMap<>();

    public SinkFence(String pipeline, String owner) {
        this.pipeline = pipeline;
        this.owner = owner;
    }

    public static void prepare(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS pgbackfill");
            st.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (pipeline text NOT NULL, topic text NOT NULL, partition int NOT NULL, "
                    + "epoch bigint NOT NULL, owner text, claimed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (pipeline, topic, partition))");
        }
    }

    /** Takes the partitions over: bumps their epochs and commits (waits for a batch of the old owner in flight). */
    public void claim(Connection c, Collection<TopicPartition> partitions) throws SQLException {
        if (partitions.isEmpty()) {
            return;
        }
        Map<TopicPartition, Long> claimed = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + TABLE + " AS f (pipeline, topic, partition, epoch, owner) VALUES (?, ?, ?, 1, ?) "
                + "ON CONFLICT (pipeline, topic, partition) DO UPDATE SET epoch = f.epoch + 1, owner = EXCLUDED.owner, claimed_at = now() RETURNING epoch")) {
            for (TopicPartition tp : partitions) {
                ps.setString(1, pipeline);
                ps.setString(2, tp.topic());
                ps.setInt(3, tp.partition());
                ps.setString(4, owner);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    claimed.put(tp, rs.getLong(1));
                }
            }
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        }
        epochs.putAll(claimed);
    }

    /** Forgets partitions given away or lost. */
    public void release(Collection<TopicPartition> partitions) {
        partitions.forEach(epochs::remove);
    }

    /**
     * Inside the batch's transaction, before any write: share-locks these partitions' epochs (a claim by
     * another instance now waits for this commit) and throws {@link Fenced} if any of them moved on.
     */
    public void check(Connection c, Collection<TopicPartition> partitions) throws SQLException {
        if (partitions.isEmpty()) {
            return;
        }
        List<TopicPartition> held = List.copyOf(partitions);
        String[] topics = new String[held.size()];
        Integer[] parts = new Integer[held.size()];
        Long[] mine = new Long[held.size()];
        for (int i = 0; i < held.size(); i++) {
            topics[i] = held.get(i).topic();
            parts[i] = held.get(i).partition();
            mine[i] = epochs.getOrDefault(held.get(i), -1L);
        }
        Set<TopicPartition> current = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT f.topic, f.partition FROM " + TABLE + " f "
                + "JOIN unnest(?::text[], ?::int[], ?::bigint[]) AS b(topic, partition, epoch) ON f.topic = b.topic AND f.partition = b.partition "
                + "AND f.epoch = b.epoch WHERE f.pipeline = ? FOR SHARE OF f")) {
            ps.setArray(1, c.createArrayOf("text", topics));
            ps.setArray(2, c.createArrayOf("int4", parts));
            ps.setArray(3, c.createArrayOf("int8", mine));
            ps.setString(4, pipeline);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    current.add(new TopicPartition(rs.getString(1), rs.getInt(2)));
                }
            }
        }
        if (current.size() < held.size()) {
            Set<TopicPartition> lost = new HashSet<>(held);
            lost.removeAll(current);
            throw new Fenced(lost);
        }
    }
}
