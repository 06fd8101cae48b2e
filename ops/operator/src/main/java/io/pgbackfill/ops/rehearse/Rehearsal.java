package io.pgbackfill.ops.rehearse;

import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.memory.MemoryBudget;
import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.core.transform.TableTransform;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code backfill rehearse}: what the migration would do to the real data, found out before it starts.
 * Read-only by construction: the source session is set READ ONLY before the first query, so PostgreSQL
 * itself refuses any write there; on the target, the only thing created is a temporary table inside a
 * transaction that is rolled back. No slot, no publication, no topic.
 */
public final class Rehearsal {
    /** How long the share of a core is measured before and after each table's sample (a busy loop on this thread). */
    static final long CPU_SHARE_MILLIS = 300;

    private final MigrationPlan plan;
    private final String specFile;
    private final RehearsalOptions options;
    private final Consumer<String> progress;

    public Rehearsal(MigrationPlan plan, String specFile, RehearsalOptions options, Consumer<String> progress) {
        this.plan = plan;
        this.specFile = specFile;
        this.options = options;
        this.progress = progress;
    }

    public RehearsalReport run() throws SQLException {
        PipelineSpec spec = plan.spec();
        try (Connection source = open(spec.source(), "source"); Connection target = open(spec.targetOrSource(), "target")) {
            try (Statement st = source.createStatement()) {
                st.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
            }
            AccessCheck.source(source, plan);
            AccessCheck.target(target, plan);
            RehearsalReport.Wal wal = WalRate.measure(source, options.walWindow());
            List<RehearsalReport.TableReport> tables = new ArrayList<>();
            EventSizes sizes = new EventSizes();
            long widestAverage = 0;
            for (TableTransform t : plan.tables()) {
                TableSchema schema = plan.sourceSchema(t.source())
                        .orElseThrow(() -> new CannotRehearse("source table " + t.source() + " does not exist"));
                TableRehearsal rehearsal = new TableRehearsal(t, schema, options, progress);
                tables.add(rehearsal.run(source, target, wal, sharesWal(spec)));
                sizes.add(rehearsal.eventSizes());
                widestAverage = Math.max(widestAverage, rehearsal.eventSizes().average());
            }
            long heap = options.heapBytes() > 0 ? options.heapBytes() : Runtime.getRuntime().maxMemory();
            MemoryEstimate memory = MemoryEstimate.of(MemoryBudget.derive(spec.memory(), heap, options.stagesPerJvm()), spec.sink().batchSize(),
                    widestAverage, sizes.largest());
            return new RehearsalReport(spec.pipelineName(), specFile, wal, List.copyOf(tables),
                    VerdictRules.judge(tables, wal, options.maxDlqShare(), memory), memory);
        }
    }

    /**
     * Whether the target's writes land in the source's WAL (same server): then the slot also keeps the
     * WAL of the new table's rows. Judged by host and port, which is what can be known without
     * superuser functions.
     */
    static boolean sharesWal(PipelineSpec spec) {
        if (spec.sameDatabase()) {
            return true;
        }
        ConnectionSpec.JdbcUrl s = spec.source().parsedUrl();
        ConnectionSpec.JdbcUrl t = spec.targetOrSource().parsedUrl();
        return s.host().equalsIgnoreCase(t.host()) && s.port() == t.port();
    }

    private static Connection open(ConnectionSpec c, String side) {
        try {
            return c.open();
        } catch (SQLException e) {
            String m = Redaction.redact(String.valueOf(e.getMessage()), c.secret());
            int nl = m.indexOf('\n');
            throw new CannotRehearse(side + ": " + (nl < 0 ? m : m.substring(0, nl)));
        }
    }
}
