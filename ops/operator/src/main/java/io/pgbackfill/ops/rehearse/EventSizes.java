package io.pgbackfill.ops.rehearse;

/** Sizes of the events the sampled rows became (raw event and row change, the larger of the two), in constant memory. */
final class EventSizes {
    private long count;
    private long total;
    private long largest;

    void observe(long rawBytes, long rowBytes) {
        long bytes = Math.max(rawBytes, rowBytes);
        count++;
        total += bytes;
        largest = Math.max(largest, bytes);
    }

    void add(EventSizes other) {
        count += other.count;
        total += other.total;
        largest = Math.max(largest, other.largest);
    }

    long average() {
        return count == 0 ? 0 : total / count;
    }

    long largest() {
        return largest;
    }
}
