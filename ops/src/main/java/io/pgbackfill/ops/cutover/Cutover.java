package io.pgbackfill.ops.cutover;

import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.core.sql.SqlIdentifier;
import io.pgbackfill.core.sql.TableName;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.verify.Verifier;
import io.pgbackfill.sink.TargetTable;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The cut-over itself. Writers to the source tables are blocked (LOCK … IN EXCLUSIVE MODE: reads go on)
 * with a short lock_timeout, retried with backoff, and released untouched on any problem. While blocked:
 * drain to a fence, re-verify what changed since the last verify, then either (same database) swap the
 * tables in the same transaction, or (new cluster) sync sequences on the target and run the switch hook.
 * The write pause is measured from lock to commit.
 */
public final class Cutover {
    /** What happened: done or not, the write pause, and a line per step. */
    public record Outcome(boolean done, long pauseMillis, List<String> log) {
    }

    private final MigrationPlan plan;
    private final PipelineSpec spec;
    private final PrintStream out;
    private final Duration drainTimeout;
    private final Path confirmFile;
    private final Duration confirmTimeout;

    public Cutover(MigrationPlan plan, PrintStream out, Duration drainTimeout, Path confirmFile, Duration confirmTimeout) {
        this.plan = plan;
        this.spec = plan.spec();
        this.out = out;
        this.drainTimeout = drainTimeout;
        this.confirmFile = confirmFile;
        this.confirmTimeout = confirmTimeout;
    }

    public Outcome run(long lastVerifyLsn) throws Exception {
        List<String> log = new ArrayList<>();
        int attempts = spec.cutover().attempts();
        long backoff = 200;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            try (Connection lock = spec.source().open()) {
                lock.setAutoCommit(false);
                try (Statement st = lock.createStatement()) {
                    st.execute("SET LOCAL lock_timeout = " + spec.cutover().lockTimeoutMs());
                    for (TableSpec t : spec.tables()) {
                        st.execute("LOCK TABLE " + t.sourceName().quoted() + " IN EXCLUSIVE MODE");
                    }
                } catch (SQLException e) {
                    lock.rollback();
                    if ("55P03".equals(e.getSQLState())) {
                        note(log, "attempt " + attempt + ": lock not granted within " + spec.cutover().lockTimeoutMs() + " ms; nothing changed; retrying in " + backoff + " ms");
                        Thread.sleep(backoff);
                        backoff = Math.min(5000, backoff * 2);
                        continue;
                    }
                    throw e;
                }
                long pauseStart = System.nanoTime();
                note(log, "writes blocked on " + spec.tables().stream().map(t -> t.sourceName().id()).toList() + "; draining...");
                try {
                    long lsn = CatchUp.await(spec, false, drainTimeout, () -> true);
                    note(log, "target has everything up to LSN " + lsn);
                    List<Verifier.Report> reports = new Verifier(plan, 10_000, 0, s -> { }).verifyChangedSince(lastVerifyLsn);
                    long bad = reports.stream().mapToLong(r -> r.mismatches().size()).sum();
                    if (bad > 0) {
                        lock.rollback();
                        reports.forEach(r -> r.mismatches().stream().limit(20).forEach(m -> note(log, "  " + m)));
                        note(log, "re-verify of rows changed since the last verify found " + bad + " differences: cutover aborted, writes released, nothing changed");
                        return new Outcome(false, millis(pauseStart), log);
                    }
                    note(log, "re-verified " + reports.stream().mapToLong(Verifier.Report::sourceRows).sum() + " rows changed since the last verify: clean");
                    if (spec.sameDatabase()) {
                        swapTables(lock, log);
                        lock.commit();
                        long pause = millis(pauseStart);
                        note(log, "tables swapped; write pause " + pause + " ms");
                        return new Outcome(true, pause, log);
                    }
                    syncTargetSequences(log);
                    boolean switched = switchApplication(lsn, log);
                    lock.rollback(); // releases the source: the application now writes to the target (or it was aborted)
                    long pause = millis(pauseStart);
                    note(log, (switched ? "switched; source released; write pause " : "not confirmed; source released, nothing switched; pause ") + pause + " ms");
                    return new Outcome(switched, pause, log);
                } catch (Exception e) {
                    lock.rollback();
                    note(log, "aborted: " + Redaction.redact(String.valueOf(e.getMessage()), spec.source().secret()) + "; writes released, nothing changed");
                    return new Outcome(false, millis(pauseStart), log);
                }
            }
        }
        note(log, "gave up after " + attempts + " attempts to lock; nothing changed. Long transactions on the table? see `backfill status`");
        return new Outcome(false, 0, log);
    }

    /** old → old_SUFFIX, new → old, the sink's bookkeeping columns dropped, serial defaults and sequences moved to the new table. */
    private void swapTables(Connection c, List<String> log) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("SET LOCAL lock_timeout = " + spec.cutover().lockTimeoutMs());
            for (TableSpec t : spec.tables()) {
                TableName src = t.sourceName();
                TableName tgt = t.targetName();
                SqlIdentifier renamed = SqlIdentifier.of(src.table().name() + "_" + spec.cutover().oldSuffix());
                List<String[]> serials = serialColumns(c, src);
                st.execute("ALTER TABLE " + src.quoted() + " RENAME TO " + renamed.quoted());
                st.execute("ALTER TABLE " + tgt.quoted() + " DROP COLUMN IF EXISTS " + SqlIdentifier.of(TargetTable.LSN_COLUMN).quoted()
                        + ", DROP COLUMN IF EXISTS " + SqlIdentifier.of(TargetTable.SOURCE_KEY_COLUMN).quoted());
                if (!tgt.schema().equals(src.schema())) {
                    st.execute("ALTER TABLE " + tgt.quoted() + " SET SCHEMA " + src.schema().quoted());
                }
                TableName moved = new TableName(src.schema(), tgt.table());
                st.execute("ALTER TABLE " + moved.quoted() + " RENAME TO " + src.table().quoted());
                for (String[] s : serials) {
                    String col = SqlIdentifier.of(s[0]).quoted();
                    if (hasColumn(c, src, s[0])) {
                        st.execute("ALTER TABLE " + src.quoted() + " ALTER COLUMN " + col + " SET DEFAULT nextval('" + s[1].replace("'", "''") + "'::regclass)");
                        st.execute("ALTER SEQUENCE " + s[1] + " OWNED BY " + src.quoted() + "." + col);
                        st.execute("SELECT setval('" + s[1].replace("'", "''") + "'::regclass, greatest((SELECT coalesce(max(" + col + "), 1) FROM " + src.quoted()
                                + "), (SELECT last_value FROM " + s[1] + ")))");
                    }
                }
                note(log, src.id() + " -> " + src.schema().name() + "." + renamed.name() + "; " + tgt.id() + " -> " + src.id()
                        + (serials.isEmpty() ? "" : "; sequences moved: " + serials.stream().map(x -> x[1]).toList()));
            }
        }
    }

    /** Columns with a nextval() default: name and sequence (already quoted by PostgreSQL's regclass output). */
    static List<String[]> serialColumns(Connection c, TableName t) throws SQLException {
        List<String[]> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT a.attname, pg_get_serial_sequence(?, a.attname) FROM pg_attribute a "
                + "WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped AND pg_get_serial_sequence(?, a.attname) IS NOT NULL")) {
            ps.setString(1, t.quoted());
            ps.setString(2, t.quoted());
            ps.setString(3, t.quoted());
            ResultSet rs = ps.executeQuery();
            while (rs.next()) {
                out.add(new String[] {rs.getString(1), rs.getString(2)});
            }
        }
        return out;
    }

    private static boolean hasColumn(Connection c, TableName t, String column) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(?) AND attname = ? AND NOT attisdropped")) {
            ps.setString(1, t.quoted());
            ps.setString(2, column);
            return ps.executeQuery().next();
        }
    }

    /** Logical replication does not carry sequences: on the new cluster, move each past the largest key copied. */
    private void syncTargetSequences(List<String> log) throws SQLException {
        try (Connection src = spec.source().open(); Connection tgt = spec.targetOrSource().open(); Statement st = tgt.createStatement()) {
            for (TableSpec t : spec.tables()) {
                for (String[] s : serialColumns(src, t.sourceName())) {
                    List<String[]> targetSerials = serialColumns(tgt, t.targetName());
                    for (String[] ts : targetSerials) {
                        if (ts[0].equals(s[0])) {
                            long srcLast;
                            try (Statement q = src.createStatement(); ResultSet rs = q.executeQuery("SELECT last_value FROM " + s[1])) {
                                rs.next();
                                srcLast = rs.getLong(1);
                            }
                            String col = SqlIdentifier.of(ts[0]).quoted();
                            st.execute("SELECT setval('" + ts[1].replace("'", "''") + "'::regclass, greatest(" + srcLast + ", (SELECT coalesce(max(" + col + "), 1) FROM "
                                    + t.targetName().quoted() + ")))");
                            note(log, "target sequence " + ts[1] + " set past " + srcLast);
                        }
                    }
                }
            }
        }
    }

    /** Runs the spec's switch command, or waits for the operator's confirm file; false if neither happens in time. */
    private boolean switchApplication(long lsn, List<String> log) throws Exception {
        String command = spec.cutover().switchCommand();
        if (command != null) {
            ProcessBuilder pb = new ProcessBuilder("sh", "-c", command).inheritIO();
            pb.environment().put("PGBACKFILL_LSN", Long.toString(lsn));
            Process p = pb.start();
            boolean finished = p.waitFor(confirmTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            if (!finished) {
                p.destroy();
            }
            note(log, "switch command " + (finished && p.exitValue() == 0 ? "succeeded" : "failed or timed out"));
            return finished && p.exitValue() == 0;
        }
        note(log, "NEXT STEP: point the application at the target (" + Redaction.redact(spec.targetOrSource().jdbcUrl()) + "), then create "
                + confirmFile + " (source writes stay blocked until then, at most " + confirmTimeout.toSeconds() + " s)");
        long deadline = System.nanoTime() + confirmTimeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (confirmFile != null && Files.exists(confirmFile)) {
                note(log, "operator confirmed");
                return true;
            }
            Thread.sleep(200);
        }
        return false;
    }

    private static long millis(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private void note(List<String> log, String line) {
        log.add(line);
        out.println(line);
    }
}
