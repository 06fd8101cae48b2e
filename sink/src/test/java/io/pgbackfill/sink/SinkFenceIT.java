package io.pgbackfill.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbackfill.core.event.RowChange;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A sink that lost its partitions cannot write an older version over the new owner's delete. */
class SinkFenceIT {
    private static final TopicPartition P0 = new TopicPartition("rows", 0);
    private static TargetDatabase db;

    @BeforeAll
    static void up() throws Exception {
        db = TargetDatabase.start("sink_fence_it");
        try (Connection c = db.connect()) {
            SinkFence.prepare(c);
        }
    }

    @AfterAll
    static void down() throws Exception {
        if (db != null) {
            db.close();
        }
    }

    private static SinkBatch batch(TargetTable t, long offset, RowChange... changes) {
        SinkBatch b = new SinkBatch();
        for (RowChange rc : changes) {
            b.add(t, new SinkBatch.Entry(rc, null, null, P0.topic(), P0.partition(), offset++), 0);
        }
        return b;
    }

    private static RowChange upsert(long lsn, String v) {
        return RowChange.upsert(lsn, Map.of("id", "1"), Map.of("id", "1", "v", v), Set.of());
    }

    @Test
    void aZombieBatchAfterTheNewOwnersDeleteIsRefusedAndChangesNothing() throws Exception {
        db.execute("CREATE TABLE zombie (id bigint PRIMARY KEY, v text)");
        TargetTable t = db.prepare("zombie");
        BatchWriter writer = new BatchWriter("fence-it", new SinkConfig(5000, 50, 1_000_000, true, 100));
        SinkFence zombie = new SinkFence("fence-it", "zombie");
        SinkFence owner = new SinkFence("fence-it", "owner");
        try (Connection a = db.connect(); Connection b = db.connect()) {
            a.setAutoCommit(false);
            b.setAutoCommit(false);
            zombie.claim(a, List.of(P0));
            writer.write(a, batch(t, 0, upsert(10, "v10")), zombie);

            // the group moves the partition: the new owner claims it, replays and applies the delete
            owner.claim(b, List.of(P0));
            writer.write(b, batch(t, 0, upsert(10, "v10"), upsert(15, "v15"), RowChange.delete(20, Map.of("id", "1"))), owner);

            // the zombie still holds offset 1 (v15) and writes it: without the fence the row would come back
            assertThatThrownBy(() -> writer.write(a, batch(t, 1, upsert(15, "v15")), zombie))
                    .isInstanceOf(SinkFence.Fenced.class).hasMessageContaining("rows-0");
            assertThat(db.rows("SELECT id FROM zombie")).isEmpty();
            // the owner goes on
            writer.write(b, batch(t, 3, upsert(30, "v30")), owner);
            assertThat(db.rows("SELECT v FROM zombie")).containsExactly(List.of("v30"));
        }
    }

    @Test
    void aClaimWaitsForTheBatchInFlightOfTheOldOwner() throws Exception {
        SinkFence old = new SinkFence("fence-wait", "old");
        SinkFence next = new SinkFence("fence-wait", "next");
        try (Connection a = db.connect(); Connection b = db.connect()) {
            a.setAutoCommit(false);
            b.setAutoCommit(false);
            old.claim(a, List.of(P0));
            old.check(a, List.of(P0)); // a batch transaction in flight holds its share lock
            CompletableFuture<Void> claim = CompletableFuture.runAsync(() -> {
                try {
                    next.claim(b, List.of(P0));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            assertThatThrownBy(() -> claim.get(500, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
            a.commit(); // the old owner's batch commits first; the claim goes through after it
            claim.get(10, TimeUnit.SECONDS);
            assertThatThrownBy(() -> old.check(a, List.of(P0))).isInstanceOf(SinkFence.Fenced.class);
            a.rollback();
        }
    }
}
