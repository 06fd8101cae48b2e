package io.pgbackfill.ops.verify;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.ops.pipeline.CatchUp;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;

/**
 * Continuous verify ({@code verify --watch}, a postponed cutover): after a full verify, each round re-checks only the
 * rows the sink wrote since the last recorded mark, so that what cutover must check while writes are blocked shrinks
 * to the last moments. A clean round moves the mark to a fence the sink had passed before the round looked for
 * changed rows, so no change can fall between two rounds.
 */
public final class ContinuousVerify {
    /** One round: what it found and the mark it recorded. */
    public record Round(List<Verifier.Report> reports, long mismatches, long rechecked, long mark) {
        public boolean clean() {
            return mismatches == 0;
        }
    }

    private final PipelineSpec spec;
    private final Verifier verifier;
    private final Duration catchUpTimeout;

    public ContinuousVerify(PipelineSpec spec, Verifier verifier, Duration catchUpTimeout) {
        this.spec = spec;
        this.verifier = verifier.withSettling(Verifier.Settling.whilePipelineRuns());
        this.catchUpTimeout = catchUpTimeout;
    }

    /** Re-checks the rows changed since {@code since} and records the outcome in {@link VerifyLog}. */
    public Round round(long since) throws SQLException, InterruptedException {
        long mark = CatchUp.await(spec, false, catchUpTimeout, () -> true);
        List<Verifier.Report> reports = verifier.verifyChangedSince(since);
        long bad = reports.stream().mapToLong(r -> r.mismatches().size()).sum();
        long rechecked = reports.stream().mapToLong(Verifier.Report::rechecked).sum();
        long recorded = bad == 0 ? mark : since;
        VerifyLog.record(spec, bad == 0, recorded, bad);
        return new Round(reports, bad, rechecked, recorded);
    }

    /** Is the pipeline's producer streaming from its slot? Only then can verify wait for it to pass a point in time. */
    public static boolean pipelineRunning(PipelineSpec spec) throws SQLException {
        try (Connection c = spec.source().open();
             PreparedStatement ps = c.prepareStatement("SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, spec.slotName());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }
}
