package io.pgbackfill.ops.cutover;

import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.reverse.ReversePipeline;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.core.sql.SqlIdentifier;
import io.pgbackfill.core.sql.TableName;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.ops.dlq.DeadLetterTopic;
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
 * The cut-over itself. First, with writes still open, the rows written since the last verify are re-checked at a
 * point in time ({@link Verifier#verifyChangedSince}) until little is left. Then writers to the source tables are
 * blocked (LOCK … IN EXCLUSIVE MODE: reads go on) with a short lock_timeout, retried with backoff, and released
 * untouched on any problem. While blocked: drain to a fence, re-check only the rows written since the check outside
 * the lock (through the index on {@code _pgbackfill_lsn}: bounded by the changes of the last moments, never by the
 * table's size), refuse dead letters that arrived meanwhile unless accepted, then either (same database) swap the
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
    private final SwitchSteps steps;

    public Cutover(MigrationPlan plan, PrintStream out, Duration drainTimeout, Path confirmFile, Duration confirmTimeout) {
        this(plan, out, drainTimeout, confirmFile, confirmTimeout, SwitchSteps.NONE);
    }

    /** @param steps what this cutover does besides the swap or switch (the reverse stream, the rollback) */
    public Cutover(MigrationPlan plan, PrintStream out, Duration drainTimeout, Path confirmFile, Duration confirmTimeout, SwitchSteps steps) {
        this.steps = steps;
        this.plan = plan;
        this.spec = plan.spec();
        this.out = out;
        this.drainTimeout = drainTimeout;
        this.confirmFile = confirmFile;
        this.confirmTimeout = confirmTimeout;
    }

    /**
     * @param lastVerifyLsn the mark of the last clean verify: target rows written after it are re-checked
     * @param deadLetters   the dead letters counted by the guard
     * @param accepted      the operator accepts that dead letters stay behind; without it, any letter that arrives
     *                      before the switch aborts it
     */
    public Outcome run(long lastVerifyLsn, DeadLetterTopic.Outstanding deadLetters, boolean accepted) throws Exception {
        List<String> log = new ArrayList<>();
        Verifier verifier = new Verifier(plan, 10_000, 0, s -> { }).withSettling(Verifier.Settling.whilePipelineRuns());
        long mark = prepare(verifier, lastVerifyLsn, log);
        if (mark < 0) {
            return new Outcome(false, 0, log);
        }
        steps.beforeLock(log);
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
                        mark = prepare(verifier, mark, log); // the wait let changes pile up: check them before blocking again
                        if (mark < 0) {
                            return new Outcome(false, 0, log);
                        }
                        continue;
                    }
                    throw e;
                }
                long pauseStart = System.nanoTime();
                note(log, "writes blocked on " + spec.tables().stream().map(t -> t.sourceName().id()).toList() + "; draining...");
                try {
                    long lsn = CatchUp.await(spec, false, drainTimeout, () -> true);
                    long drained = millis(pauseStart);
                    note(log, "target has everything up to LSN " + lsn + " (drained in " + drained + " ms)");
                    // Only the rows written since the last check outside the lock: bounded by the changes of the last
                    // moments, found through the LSN index, never a scan of a table. Deletions are the stream's.
                    List<Verifier.Report> reports = verifier.checkChangedSinceWhileBlocked(mark);
                    long bad = reports.stream().mapToLong(r -> r.mismatches().size()).sum();
                    long rechecked = reports.stream().mapToLong(Verifier.Report::rechecked).sum();
                    if (bad > 0) {
                        lock.rollback();
                        reportDifferences(reports, bad, "while writes were blocked", log);
                        return new Outcome(false, millis(pauseStart), log);
                    }
                    String letters = newDeadLetters(deadLetters, accepted, log);
                    if (letters != null) {
                        lock.rollback();
                        note(log, letters);
                        return new Outcome(false, millis(pauseStart), log);
                    }
                    note(log, "re-checked " + rechecked + " rows written since the last check in " + (millis(pauseStart) - drained)
                            + " ms: all equal the transform of the source");
                    steps.whileBlocked(lock, log);
                    if (spec.sameDatabase()) {
                        swapTables(lock, log);
                        lock.commit();
                        long pause = millis(pauseStart);
                        note(log, "tables swapped; write pause " + pause + " ms");
                        steps.afterCommit(log);
                        return new Outcome(true, pause, log);
                    }
                    syncTargetSequences(log);
                    Connection pending = steps.beforeSwitch(log);
                    boolean switched;
                    try {
                        switched = switchApplication(lsn, log);
                    } catch (Exception e) {
                        if (pending != null) {
                            pending.rollback();
                            pending.close();
                        }
                        throw e;
                    }
                    if (pending != null) {
                        if (switched) {
                            pending.commit();
                        } else {
                            pending.rollback();
                        }
                        pending.close();
                    }
                    if (switched) {
                        // Writes the old application had in flight are blocked on the lock: released, they would commit
                        // on the old cluster behind the switch (with sequence values the target has handed out again).
                        // The source tables refuse writes from now on, in the same transaction as the lock.
                        refuseWritesOnSource(lock, log);
                        lock.commit();
                    } else {
                        lock.rollback(); // releases the source untouched: nothing was switched
                    }
                    long pause = millis(pauseStart);
                    note(log, (switched ? "switched; source released; write pause " : "not confirmed; source released, nothing switched; pause ") + pause + " ms");
                    if (switched) {
                        steps.afterCommit(log);
                    }
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

    /**
     * Outside the lock, while the application writes: builds the LSN index if missing, then re-checks the rows written
     * since {@code since} (point in time, see {@link Verifier}) until one round has little left, so that the check
     * under the lock only covers the last moments. Returns the new mark, or -1 after reporting real differences.
     */
    private long prepare(Verifier verifier, long since, List<String> log) throws Exception {
        long mark = since;
        // Each round covers the changes made while the previous one ran, so the rounds shrink towards what the
        // pipeline's latency lets through; what is left is checked under the lock.
        for (int round = 1; round <= 5; round++) {
            long passed = CatchUp.await(spec, false, drainTimeout, () -> true);
            List<Verifier.Report> reports = verifier.verifyChangedSince(mark);
            long bad = reports.stream().mapToLong(r -> r.mismatches().size()).sum();
            long rechecked = reports.stream().mapToLong(Verifier.Report::rechecked).sum();
            if (bad > 0) {
                reportDifferences(reports, bad, "before blocking writes", log);
                return -1;
            }
            note(log, "re-checked " + rechecked + " rows written since the last check (writes still open): clean");
            mark = passed;
            if (rechecked < 500) {
                break;
            }
        }
        return mark;
    }

    private void reportDifferences(List<Verifier.Report> reports, long bad, String when, List<String> log) {
        reports.forEach(r -> r.mismatches().stream().limit(20).forEach(m -> note(log, "  " + m)));
        note(log, bad + " rows written since the last verify differ from the transform of their source rows (checked " + when
                + "). Cutover aborted, writes released, nothing changed. Find the cause with `backfill verify SPEC`, then try again.");
    }

    /**
     * Null when no dead letter arrived since the guard counted them, or when the operator accepted dead letters;
     * otherwise why the cutover stops. Reads only the topics' end offsets.
     */
    private String newDeadLetters(DeadLetterTopic.Outstanding seen, boolean accepted, List<String> log) {
        long arrived = 0;
        for (var e : new DeadLetterTopic(spec).endOffsets().entrySet()) {
            arrived += Math.max(0, e.getValue() - seen.endOffsets().getOrDefault(e.getKey(), 0L));
        }
        if (arrived == 0) {
            return null;
        }
        if (accepted) {
            note(log, arrived + " more rows reached the dead-letter topics since the check; accepted with the others");
            return null;
        }
        return arrived + " rows reached the dead-letter topics since the check. Cutover aborted, writes released, nothing changed. "
                + "See them with `backfill dlq show SPEC`; cut over without them with --accept-dead-letters.";
    }

    /** old → old_SUFFIX, new → old, the sink's bookkeeping columns dropped, serial defaults and sequences moved to the new table. */
    private void swapTables(Connection c, List<String> log) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("SET LOCAL lock_timeout = " + spec.cutover().lockTimeoutMs());
            for (TableSpec t : spec.tables()) {
                TableName src = t.sourceName();
                TableName tgt = t.targetName();
                SqlIdentifier renamed = steps.setAsideName(t, spec.cutover().oldSuffix());
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

    /** The trigger that keeps the old cluster's tables read-only after a switch; drop it to write there again (rollback). */
    public static final String SWITCHED_TRIGGER = "pgbackfill_switched";

    private void refuseWritesOnSource(Connection c, List<String> log) throws SQLException {
        String fn = "pgbackfill." + SqlIdentifier.of("switched_" + spec.slotName()).quoted();
        try (Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS pgbackfill");
            // The reverse stream's sessions (ReversePipeline.WRITER_SETTING) still write here: it keeps these tables current.
            st.execute("CREATE OR REPLACE FUNCTION " + fn + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    + "IF current_setting('" + ReversePipeline.WRITER_SETTING + "', true) = '" + ReversePipeline.WRITER_VALUE + "' THEN RETURN NULL; END IF; "
                    + "RAISE EXCEPTION 'pgbackfill: %.% moved to a new cluster at cutover; this copy is read-only', TG_TABLE_SCHEMA, TG_TABLE_NAME "
                    + "USING ERRCODE = '25006'; END $$");
            for (TableSpec t : spec.tables()) {
                st.execute("DROP TRIGGER IF EXISTS " + SWITCHED_TRIGGER + " ON " + t.sourceName().quoted());
                st.execute("CREATE TRIGGER " + SWITCHED_TRIGGER + " BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON " + t.sourceName().quoted()
                        + " FOR EACH STATEMENT EXECUTE FUNCTION " + fn + "()");
            }
        }
        note(log, "source tables " + spec.tables().stream().map(t -> t.sourceName().id()).toList() + " now refuse writes (trigger "
                + SWITCHED_TRIGGER + "; drop it to write there again)");
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
