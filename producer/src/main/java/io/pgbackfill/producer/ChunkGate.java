package io.pgbackfill.producer;

/**
 * The seam between chunks of the chunked snapshot: {@link ChunkedSnapshot}'s reader calls it before it reads each
 * chunk, and reads nothing while it blocks. The producer composes the pipeline's backlog ({@link ConsumerBacklogPacer})
 * with live control ({@link io.pgbackfill.producer.throttle.SnapshotPacer}: pause, throttle, rate limit). Streaming is
 * never paced: only the snapshot's reads wait.
 */
@FunctionalInterface
public interface ChunkGate {
    ChunkGate NONE = table -> { };

    /** Returns when the next chunk of {@code table} may be read. */
    void beforeChunk(String table) throws InterruptedException;
}
