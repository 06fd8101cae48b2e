package io.pgbackfill.sink;

import io.pgbackfill.core.event.RowChange;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Delivers per-partition logs as a Kafka consumer group does across crashes. A batch interleaves
 * partitions at random, each partition in its own order. A crash before the write loses the batch; a
 * crash after the write but before the offset commit delivers it again; an operator's offset reset
 * delivers an earlier suffix of one partition again; now and then a record arrives twice in a row.
 * Chaos stops after {@value #CHAOS_BATCHES} batches so that every run ends.
 */
final class CrashingConsumer {
    static final int CHAOS_BATCHES = 400;

    record Delivered(int partition, long offset, RowChange change) {
    }

    interface BatchTarget {
        void write(List<Delivered> batch) throws Exception;
    }

    private final List<List<RowChange>> logs;
    private final SplittableRandom rnd;
    private final int maxBatch;
    private final int[] position;
    private int[] committed;
    private int batches;
    private int replays;

    CrashingConsumer(List<List<RowChange>> logs, SplittableRandom rnd, int maxBatch) {
        this.logs = logs;
        this.rnd = rnd;
        this.maxBatch = maxBatch;
        this.position = new int[logs.size()];
        this.committed = new int[logs.size()];
    }

    /** Runs until every partition is written and committed to its end. */
    void run(BatchTarget target) throws Exception {
        while (!allCommitted()) {
            List<Delivered> batch = poll(1 + rnd.nextInt(maxBatch));
            boolean chaos = batches < CHAOS_BATCHES;
            double r = rnd.nextDouble();
            if (chaos && r < 0.08) {
                rewindToCommitted(); // died before writing
                continue;
            }
            target.write(batch);
            batches++;
            if (chaos && r < 0.25) {
                rewindToCommitted(); // died after the database commit, before the offset commit
                continue;
            }
            committed = position.clone();
            if (chaos && r < 0.28) {
                int p = rnd.nextInt(logs.size());
                committed[p] = rnd.nextInt(committed[p] + 1); // offsets reset to an earlier point
                position[p] = committed[p];
                replays++;
            }
        }
    }

    int batches() {
        return batches;
    }

    int replays() {
        return replays;
    }

    private void rewindToCommitted() {
        System.arraycopy(committed, 0, position, 0, position.length);
        replays++;
    }

    private boolean allCommitted() {
        for (int p = 0; p < logs.size(); p++) {
            if (committed[p] < logs.get(p).size()) {
                return false;
            }
        }
        return true;
    }

    private List<Delivered> poll(int size) {
        List<Delivered> batch = new ArrayList<>(size + 8);
        List<Integer> open = new ArrayList<>();
        while (batch.size() < size) {
            open.clear();
            for (int p = 0; p < logs.size(); p++) {
                if (position[p] < logs.get(p).size()) {
                    open.add(p);
                }
            }
            if (open.isEmpty()) {
                break;
            }
            int p = open.get(rnd.nextInt(open.size()));
            Delivered d = new Delivered(p, position[p], logs.get(p).get(position[p]));
            position[p]++;
            batch.add(d);
            if (rnd.nextInt(20) == 0) {
                batch.add(d);
            }
        }
        return batch;
    }
}
