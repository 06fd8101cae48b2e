package io.pgbackfill.ops.pipeline;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.producer.SourceSetup;
import io.pgbackfill.sink.BatchWriter;
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
        try (Connection c = spec.targetOrSource().open();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM " + BatchWriter.PROGRESS_TABLE
                     + " WHERE pipeline = ? AND lsn >= ? AND (snapshot_done OR NOT ?)")) {
            ps.setString(1, spec.pipelineName());
            ps.setLong(2, lsn);
            ps.setBoolean(3, snapshot);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) {
                return 0; // the sink has not created its progress table yet
            }
            throw e;
        }
    }

    public static int partitionsTotal(PipelineSpec spec) {
        return spec.tables().size() * spec.kafka().partitions();
    }

    /** Fences and waits until the target has everything committed on the source before the fence. */
    public static long await(PipelineSpec spec, boolean snapshot, Duration timeout, BooleanSupplier keepWaiting) throws SQLException, InterruptedException {
        long lsn = fence(spec);
        long deadline = System.nanoTime() + timeout.toNanos();
        long nextFence = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (partitionsAt(spec, lsn, snapshot) < partitionsTotal(spec)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the target did not catch up with the source within " + timeout.toSeconds() + " s");
            }
            if (!keepWaiting.getAsBoolean()) {
                throw new IllegalStateException("a pipeline stage stopped while waiting for it to catch up");
            }
            if (System.nanoTime() > nextFence) {
                fence(spec); // keeps watermarks flowing if heartbeats are slow
                nextFence = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            }
            Thread.sleep(25); // one indexed count on the target: cheap, and under cutover's lock every wasted ms is a paused write
        }
        return lsn;
    }
}
