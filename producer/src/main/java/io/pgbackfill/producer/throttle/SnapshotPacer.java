package io.pgbackfill.producer.throttle;

/**
 * The one seam between a snapshot reader and everything that slows it (pause, throttling on the source's health, the
 * rate limit, the chunk size): the reader asks it, and nothing else in the reader knows why it waits. Two kinds of
 * readers:
 * <ul>
 *   <li>one that may block ({@link #admit}): the initial scan, which runs before streaming starts, so holding its rows
 *       in the engine's handler stops the scan and nothing else;</li>
 *   <li>one interleaved with streaming, which must never block (the WAL keeps flowing): it reports what it read
 *       ({@link #record}) and stops between chunks while {@link #holding()} (Debezium's incremental snapshot: its
 *       pause-snapshot/resume-snapshot signals, {@link IncrementalSnapshotHold}).</li>
 * </ul>
 */
public interface SnapshotPacer {
    /** Waits until {@code rows} more snapshot rows may go on (pause, throttle, rate limit); interrupted by close. */
    void admit(int rows) throws InterruptedException;

    /** Counts {@code rows} read by a reader that cannot wait here, against the rate limit. */
    void record(int rows);

    /** Whether a reader that cannot block should hold now (before its next chunk). */
    boolean holding();

    /** Rows per chunk in force: the runtime setting if any, else {@code configured}. */
    int chunkSize(int configured);

    /** Never slows anything (tests, tools). */
    SnapshotPacer NONE = new SnapshotPacer() {
        @Override
        public void admit(int rows) {
        }

        @Override
        public void record(int rows) {
        }

        @Override
        public boolean holding() {
            return false;
        }

        @Override
        public int chunkSize(int configured) {
            return configured;
        }
    };
}
