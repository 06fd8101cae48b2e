package io.pgbackfill.ops.verify;

import io.pgbackfill.core.spec.PipelineSpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/**
 * Verify results kept in the target ({@code pgbackfill.verify_runs}): cutover refuses unless the last
 * one was clean, and re-checks only rows the sink wrote after it (their {@code _pgbackfill_lsn} is higher).
 */
public final class VerifyLog {
    public record Run(boolean clean, long sourceLsn, long mismatches) {
    }

    private VerifyLog() {
    }

    public static void record(PipelineSpec spec, boolean clean, long sourceLsn, long mismatches) throws SQLException {
        try (Connection c = spec.targetOrSource().open()) {
            ensure(c);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO pgbackfill.verify_runs (pipeline, clean, source_lsn, mismatches) VALUES (?, ?, ?, ?)")) {
                ps.setString(1, spec.pipelineName());
                ps.setBoolean(2, clean);
                ps.setLong(3, sourceLsn);
                ps.setLong(4, mismatches);
                ps.executeUpdate();
            }
        }
    }

    public static Optional<Run> last(PipelineSpec spec) throws SQLException {
        try (Connection c = spec.targetOrSource().open()) {
            ensure(c);
            try (PreparedStatement ps = c.prepareStatement("SELECT clean, source_lsn, mismatches FROM pgbackfill.verify_runs WHERE pipeline = ? ORDER BY finished_at DESC, id DESC LIMIT 1")) {
                ps.setString(1, spec.pipelineName());
                ResultSet rs = ps.executeQuery();
                return rs.next() ? Optional.of(new Run(rs.getBoolean(1), rs.getLong(2), rs.getLong(3))) : Optional.empty();
            }
        }
    }

    private static void ensure(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS pgbackfill");
            st.execute("CREATE TABLE IF NOT EXISTS pgbackfill.verify_runs (id bigserial PRIMARY KEY, pipeline text NOT NULL, "
                    + "finished_at timestamptz NOT NULL DEFAULT now(), clean boolean NOT NULL, source_lsn bigint NOT NULL, mismatches bigint NOT NULL)");
        }
    }
}
