package io.pgbackfill.core;

/**
 * The lifecycle every stage shares (producer, transformer, sink, and the three in one process): start it, watch for a
 * failure it cannot recover from, close it cleanly (last batch, offsets, leaving the group). One service runner
 * (the CLI's service commands) runs any of them the same way.
 */
public interface Stage extends AutoCloseable {
    /** Starts the stage's threads and returns; a failure to start is thrown. */
    void start() throws Exception;

    /** What stopped the stage on its own, or null while it runs (or after a clean close). */
    Throwable failure();

    /** False once the stage stopped working without a failure of its own (Kafka Streams leaving RUNNING). */
    default boolean isRunning() {
        return failure() == null;
    }

    /** Stops the stage cleanly; idempotent. */
    @Override
    void close() throws Exception;
}
