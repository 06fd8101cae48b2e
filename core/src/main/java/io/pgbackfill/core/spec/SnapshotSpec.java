package io.pgbackfill.core.spec;

/** Snapshot settings: rows read per chunk of Debezium's incremental (resumable) snapshot. */
public record SnapshotSpec(Integer chunkSize) {
    public static final SnapshotSpec DEFAULT = new SnapshotSpec(null);

    public SnapshotSpec {
        chunkSize = chunkSize == null ? 10_000 : chunkSize;
        if (chunkSize < 1) {
            throw new IllegalArgumentException("snapshot.chunkSize must be at least 1");
        }
    }
}
