package io.pgbackfill.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.event.RowChange;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The sink's central promise, checked on random histories: whatever the batching, duplicates, crashes
 * and replays (order per key kept, as Kafka keeps it), the target ends equal to the source, row for row.
 * Each trial picks its own batch sizes and COPY threshold, so both write paths and their mix run.
 * Reproduce a failure with {@code -Dsink.seed=<seed printed in the message>} (the first trial uses it).
 */
class BatchWriterReplayIT {
    private static final int TRIALS = 20;
    private static final String TABLE = "replay_target";
    private static final String PIPELINE = "replay-it";
    private static TargetDatabase db;
    private static TargetTable table;
    private int copyParts;
    private int arrayParts;

    @BeforeAll
    static void up() throws Exception {
        db = TargetDatabase.start("replay_it");
        db.execute("CREATE TABLE " + TABLE + " (tenant text, id bigint, name text NOT NULL, score numeric(10,2), active boolean, bio text, "
                + "PRIMARY KEY (tenant, id))");
        table = db.prepare(TABLE);
    }

    @AfterAll
    static void down() throws Exception {
        if (db != null) {
            db.close();
        }
    }

    @Test
    void targetEndsEqualToTheSourceWhateverTheBatchingDuplicatesCrashesAndReplays() throws Exception {
        long base = Long.getLong("sink.seed", new SplittableRandom().nextLong());
        System.out.println("BatchWriterReplayIT seeds " + base + " .. " + (base + TRIALS - 1));
        for (int trial = 0; trial < TRIALS; trial++) {
            runTrial(base + trial);
        }
        assertThat(copyParts).as("upsert parts written through COPY (seeds from %d)", base).isPositive();
        assertThat(arrayParts).as("upsert parts written through arrays (seeds from %d)", base).isPositive();
    }

    private void runTrial(long seed) throws Exception {
        SplittableRandom rnd = new SplittableRandom(seed);
        SourceHistory history = SourceHistory.generate(rnd.nextLong(), 200, 1500, 3);
        int copyThreshold = 1 + rnd.nextInt(60);
        int maxBatch = 20 + rnd.nextInt(230);
        db.execute("TRUNCATE " + TABLE, "DELETE FROM " + BatchWriter.PROGRESS_TABLE);
        BatchWriter writer = new BatchWriter(PIPELINE, new SinkConfig(maxBatch, 50, copyThreshold, false, 100));
        CrashingConsumer consumer = new CrashingConsumer(history.partitions, rnd, maxBatch);
        String trial = "seed " + seed + " (copyThreshold " + copyThreshold + ", maxBatch " + maxBatch + ")";
        Map<List<String>, Long> before = new HashMap<>();
        try (Connection c = db.connect()) {
            consumer.run(delivered -> {
                SinkBatch batch = toSinkBatch(delivered);
                countParts(batch, copyThreshold);
                for (BatchWriter.Rejected r : writer.write(c, batch).rejected()) {
                    assertReplayOfADeletedRow(r, history, trial);
                }
                Map<List<String>, Long> after = targetLsns(c);
                c.commit(); // end the read, so the next batch starts a transaction of its own
                assertNeverBackwards(before, after, batch, trial);
                before.clear();
                before.putAll(after);
            });
        }
        assertTargetEquals(history.finalState, trial + ", " + consumer.batches() + " batches, " + consumer.replays() + " replays");
        assertThat(progress()).as("sink_progress per partition, %s", trial).isEqualTo(expectedProgress(history));
    }

    /**
     * The one rejection a replay may cause: an update without its unchanged TOAST value for a row the target no
     * longer has, because a later change in the source deleted it (the sink cannot tell a row deleted after this
     * change from one it never had, so it reports it). Anything else rejected is a bug.
     */
    private static void assertReplayOfADeletedRow(BatchWriter.Rejected r, SourceHistory history, String trial) {
        RowChange rc = r.entry().change();
        assertThat(r.reason()).as("rejected %s: %s, %s", rc, r.message(), trial).isEqualTo(io.pgbackfill.core.transform.RowRejected.Reason.TOAST_UNAVAILABLE);
        boolean deletedLater = history.partitions.stream().flatMap(List::stream)
                .anyMatch(x -> x.isDelete() && x.lsn() > rc.lsn() && x.key().equals(rc.key()));
        assertThat(deletedLater).as("rejected %s though no later change deleted it, %s", rc, trial).isTrue();
    }

    /**
     * What the LSN guard is for. The final state alone cannot show it: a replay re-delivers up to the
     * newest change, so an unguarded sink also ends right, after going back in time on the way (and for
     * good, if a stale writer commits last). So after every batch: a row that stays has not gone back to
     * an older version, and a row that goes was deleted by a change at least as new as the row.
     */
    private static void assertNeverBackwards(Map<List<String>, Long> before, Map<List<String>, Long> after, SinkBatch batch, String trial) {
        Map<List<String>, RowChange> written = new HashMap<>();
        for (SinkBatch.Entry e : batch.rows().getOrDefault(table, Map.of()).values()) {
            written.put(List.of(e.change().key().get("tenant"), e.change().key().get("id")), e.change());
        }
        for (var b : before.entrySet()) {
            Long now = after.get(b.getKey());
            if (now != null) {
                assertThat(now).as("LSN of row %s went back, %s", b.getKey(), trial).isGreaterThanOrEqualTo(b.getValue());
            } else {
                RowChange cause = written.get(b.getKey());
                assertThat(cause != null && cause.isDelete() && cause.lsn() >= b.getValue())
                        .as("row %s at LSN %d vanished; the batch wrote %s, %s", b.getKey(), b.getValue(), cause, trial).isTrue();
            }
        }
    }

    private static Map<List<String>, Long> targetLsns(Connection c) throws Exception {
        Map<List<String>, Long> out = new HashMap<>();
        for (List<String> r : TargetDatabase.rows(c, "SELECT tenant, id::text, _pgbackfill_lsn FROM " + TABLE)) {
            out.put(List.of(r.get(0), r.get(1)), Long.parseLong(r.get(2)));
        }
        return out;
    }

    /** Through the JSON contract, as RowSink reads it from Kafka. */
    private static SinkBatch toSinkBatch(List<CrashingConsumer.Delivered> delivered) {
        SinkBatch batch = new SinkBatch();
        for (CrashingConsumer.Delivered d : delivered) {
            byte[] value = EventCodec.encode(d.change());
            RowChange rc = EventCodec.decodeRow(value);
            byte[] key = rc.key() == null ? null : EventCodec.encodeKey(rc.key());
            batch.add(table, new SinkBatch.Entry(rc, key, value, "rows", d.partition(), d.offset()), 0);
        }
        return batch;
    }

    private void countParts(SinkBatch batch, int copyThreshold) {
        Map<Set<String>, Integer> upserts = new HashMap<>();
        for (SinkBatch.Entry e : batch.rows().getOrDefault(table, Map.of()).values()) {
            if (e.change().isUpsert()) {
                upserts.merge(e.change().unchangedOrEmpty(), 1, Integer::sum);
            }
        }
        for (int n : upserts.values()) {
            if (n >= copyThreshold) {
                copyParts++;
            } else {
                arrayParts++;
            }
        }
    }

    private static void assertTargetEquals(Map<List<String>, Map<String, String>> expected, String trial) throws Exception {
        Map<List<String>, Map<String, String>> actual = new HashMap<>();
        for (List<String> r : db.rows("SELECT tenant, id::text, name, score::text, active::text, bio FROM " + TABLE)) {
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 0; i < SourceHistory.COLUMNS.size(); i++) {
                row.put(SourceHistory.COLUMNS.get(i), r.get(i));
            }
            actual.put(List.of(r.get(0), r.get(1)), row);
        }
        List<String> differences = new ArrayList<>();
        for (var e : expected.entrySet()) {
            if (!e.getValue().equals(actual.get(e.getKey()))) {
                differences.add("key " + e.getKey() + ": source " + e.getValue() + ", target " + actual.get(e.getKey()));
            }
        }
        for (var k : actual.keySet()) {
            if (!expected.containsKey(k)) {
                differences.add("key " + k + ": deleted in the source, present in the target " + actual.get(k));
            }
        }
        assertThat(differences.size()).as("target differs from source for %s (%d rows expected, %d found); first differences:%n%s",
                trial, expected.size(), actual.size(), String.join("\n", differences.subList(0, Math.min(10, differences.size())))).isZero();
    }

    private static Map<Integer, Long> progress() throws Exception {
        Map<Integer, Long> out = new TreeMap<>();
        for (List<String> r : db.rows("SELECT partition, lsn FROM " + BatchWriter.PROGRESS_TABLE + " WHERE pipeline = '" + PIPELINE + "'")) {
            out.put(Integer.parseInt(r.get(0)), Long.parseLong(r.get(1)));
        }
        return out;
    }

    private static Map<Integer, Long> expectedProgress(SourceHistory h) {
        Map<Integer, Long> out = new TreeMap<>();
        for (int p = 0; p < h.lastWatermark.length; p++) {
            if (h.lastWatermark[p] >= 0) {
                out.put(p, h.lastWatermark[p]);
            }
        }
        return out;
    }
}
