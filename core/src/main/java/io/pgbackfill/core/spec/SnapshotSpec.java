package io.pgbackfill.core.spec;

/**
 * Snapshot settings.
 *
 * @param chunkSize rows per chunk of a chunked snapshot (default 10000); the producer holds at most two chunks in
 *                  memory, so chunkSize × average row size bounds its heap for the snapshot (lowered to the byte budget)
 * @param mode      {@code chunked} (default): pgbackfill's own chunked reads by primary key, interleaved with
 *                  streaming (DBLog watermarks): changes made during the snapshot reach the target as they happen,
 *                  no long transaction on the source, resumed by key after a restart.
 *                  {@code initial}: one consistent scan in key order (Debezium's initial snapshot); changes made
 *                  meanwhile wait until it ends (also taken when a table has no primary key).
 *                  {@code incremental}: Debezium's incremental snapshot (chunked, interleaved, ~3x slower per row)
 *                  {@code none}: no snapshot, only the changes after the slot's position (the reverse stream after a
 *                  cutover, whose target already holds every row)
 */
public record SnapshotSpec(Integer chunkSize, String mode) {
    public static final SnapshotSpec DEFAULT = new SnapshotSpec(null, null);
    public static final String CHUNKED = "chunked";
    public static final String INITIAL = "initial";
    public static final String INCREMENTAL = "incremental";
    public static final String NONE = "none";

    public SnapshotSpec {
        // Defaults and checks: SpecOptions (docs/spec-reference.md).
        chunkSize = SpecOptions.SNAPSHOT_CHUNK_SIZE.resolve(chunkSize);
        mode = SpecOptions.SNAPSHOT_MODE.resolve(mode);
    }

    /** Streaming only: every table counts as snapshotted from the start. */
    public boolean none() {
        return mode.equals(NONE);
    }

    /** Debezium's incremental snapshot. */
    public boolean incremental() {
        return mode.equals(INCREMENTAL);
    }

    /** Debezium's initial scan in key order. */
    public boolean initial() {
        return mode.equals(INITIAL);
    }

    /** pgbackfill's own chunked snapshot, interleaved with streaming (the default). */
    public boolean chunked() {
        return mode.equals(CHUNKED);
    }
}
