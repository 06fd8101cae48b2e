package io.pgbackfill.producer;

/**
 * The seam between chunks of the chunked snapshot: {@link ChunkedSnapshot}'s reader calls it before it reads each
 * chunk, and reads nothing while it blocks. Pacing by the pipeline's backlog ({@link ConsumerBacklogPacer}) lives
 * here; so can throttling or pausing the snapshot. Streaming is never paced: only the snapshot's reads wait.
 */
@FunctionalInterface
public interface SnapshotPacer {
    SnapshotPacer NONE = table -> { };

    /** Returns when the next chunk of {@code table} may be read. */
    void beforeChunk(String table) throws InterruptedException;
}
