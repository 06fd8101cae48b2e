package io.pgbackfill.ops.pipeline;

import io.pgbackfill.core.state.SinkState;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.producer.SourceSetup;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * "Has everything up to now reached the target?", answered from the source and the target alone:
 * write a fence on the source, then wait until the sink has recorded, on every partition of every
 * table, a watermark at or past it (and, if asked, a finished snapshot). Watermarks follow all earlier
 * events of their partition through Kafka, so this holds whatever the process layout.
 */
public final class CatchUp {
    private CatchUp() {
    }

    public static long fence(PipelineSpec spec) throws SQLException {
        try (Connection c = spec.source().open()) {
            return SourceSetup.fence(c, spec.pipelineName());
        }
    }

    /** Partitions (over all tables) whose sink watermark is at or past {@code lsn}; with {@code snapshot}, also snapshot-done. */
    public static int partitionsAt(PipelineSpec spec, long lsn, boolean snapshot) throws SQLException {
        try (Connection c = spec.targetOrSource().open()) {
            return SinkState.partitionsAt(c, spec.pipelineName(), lsn, snapshot);
        }
    }

    public static int partitionsTotal(PipelineSpec spec) {
        return spec.tables().size() * spec.kafka().partitions();
    }

    /**
     * Fences and waits until the target has everything committed on the source before the fence, including the rows
     * re-read for changes that did not carry their unchanged TOAST values (see ARCHITECTURE.md): the sink sends its
     * re-read requests before its batch commits, so once the fence is passed they are in the re-read topic; then this
     * waits for the producer to finish them and for a second fence to pass, behind which their rows are.
     */
    public static long await(PipelineSpec spec, boolean snapshot, Duration timeout, BooleanSupplier keepWaiting) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long lsn = awaitFence(spec, snapshot, deadline, timeout, keepWaiting);
        try (RereadBacklog backlog = new RereadBacklog(spec)) {
            if (backlog.size() == 0) {
                return lsn;
            }
            while (backlog.size() > 0) {
                check(deadline, timeout, keepWaiting, "the rows asked from the source again (" + spec.rereadTopic() + ")");
                Thread.sleep(25); // as below: under cutover's lock every wasted ms is a paused write
            }
        }
        return awaitFence(spec, snapshot, deadline, timeout, keepWaiting);
    }

    private static long awaitFence(PipelineSpec spec, boolean snapshot, long deadline, Duration timeout, BooleanSupplier keepWaiting)
            throws SQLException, InterruptedException {
        long lsn = fence(spec);
        long nextFence = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (partitionsAt(spec, lsn, snapshot) < partitionsTotal(spec)) {
            check(deadline, timeout, keepWaiting, "the source");
            if (System.nanoTime() > nextFence) {
                fence(spec); // keeps watermarks flowing if heartbeats are slow
                nextFence = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            }
            Thread.sleep(25); // one indexed count on the target: cheap, and under cutover's lock every wasted ms is a paused write
        }
        return lsn;
    }

    private static void check(long deadline, Duration timeout, BooleanSupplier keepWaiting, String what) {
        if (System.nanoTime() > deadline) {
            throw new IllegalStateException("the target did not catch up with " + what + " within " + timeout.toSeconds() + " s");
        }
        if (!keepWaiting.getAsBoolean()) {
            throw new IllegalStateException("a pipeline stage stopped while waiting for it to catch up");
        }
    }
}
