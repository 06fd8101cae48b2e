package io.pgbackfill.core.spec;

/**
 * Snapshot settings.
 *
 * @param chunkSize rows per chunk of the incremental snapshot (default 10000); Debezium holds one chunk in
 *                  memory, so chunkSize × average row size bounds the producer's heap for the snapshot
 * @param mode      {@code initial} (default): one consistent scan in key order (Debezium's initial snapshot,
 *                  ~3x faster per row here); if interrupted, the rows after the last key that reached Kafka are read
 *                  as an incremental snapshot, so nothing is read twice. {@code incremental}: chunked by key and
 *                  interleaved with streaming from the start (DBLog); slower, but never holds a long transaction.
 *                  {@code none}: no snapshot, only the changes after the slot's position (the reverse stream after a
 *                  cutover, whose target already holds every row)
 */
public record SnapshotSpec(Integer chunkSize, String mode) {
    public static final SnapshotSpec DEFAULT = new SnapshotSpec(null, null);

    public SnapshotSpec {
        // Defaults and checks: SpecOptions (docs/spec-reference.md).
        chunkSize = SpecOptions.SNAPSHOT_CHUNK_SIZE.resolve(chunkSize);
        mode = SpecOptions.SNAPSHOT_MODE.resolve(mode);
    }

    /** Streaming only: every table counts as snapshotted from the start. */
    public boolean none() {
        return mode.equals("none");
    }

    public boolean incremental() {
        return mode.equals("incremental");
    }
}
