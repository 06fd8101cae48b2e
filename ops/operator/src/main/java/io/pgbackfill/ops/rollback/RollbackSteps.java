package io.pgbackfill.ops.rollback;

import io.pgbackfill.core.reverse.ReversePipeline;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.core.sql.SqlIdentifier;
import io.pgbackfill.ops.cutover.Cutover;
import io.pgbackfill.ops.cutover.SwitchSteps;
import io.pgbackfill.sink.TargetTable;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;

/**
 * The rollback is the cutover of the reverse pipeline (new table → old table); these are its extra steps.
 * Same database: the new table goes back to its own name (the forward spec's target), not to NAME_SUFFIX.
 * New cluster: in one transaction on the old cluster, committed only once the application is switched back, the old
 * tables drop the read-only trigger of the forward cutover and the reverse sink's bookkeeping columns.
 */
public final class RollbackSteps implements SwitchSteps {
    private final PipelineSpec forward;
    private final PipelineSpec reverse;
    private final PrintStream out;

    public RollbackSteps(PipelineSpec forward, PipelineSpec reverse, PrintStream out) {
        this.forward = forward;
        this.reverse = reverse;
        this.out = out;
    }

    @Override
    public SqlIdentifier setAsideName(TableSpec reverseTable, String suffix) {
        return ReversePipeline.forwardTableOf(forward, reverseTable.targetName()).targetName().table();
    }

    @Override
    public Connection beforeSwitch(List<String> log) throws Exception {
        Connection c = reverse.targetOrSource().open();
        try {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL lock_timeout = " + reverse.cutover().lockTimeoutMs());
                for (TableSpec t : reverse.tables()) {
                    st.execute("DROP TRIGGER IF EXISTS " + Cutover.SWITCHED_TRIGGER + " ON " + t.targetName().quoted());
                    st.execute("ALTER TABLE " + t.targetName().quoted() + " DROP COLUMN IF EXISTS " + SqlIdentifier.of(TargetTable.LSN_COLUMN).quoted()
                            + ", DROP COLUMN IF EXISTS " + SqlIdentifier.of(TargetTable.SOURCE_KEY_COLUMN).quoted());
                }
            }
            note(log, "old tables " + reverse.tables().stream().map(t -> t.targetName().id()).toList()
                    + " take writes again once the application is switched back (trigger " + Cutover.SWITCHED_TRIGGER + " dropped in the same transaction)");
            return c;
        } catch (Exception e) {
            c.rollback();
            c.close();
            throw e;
        }
    }

    @Override
    public void afterCommit(List<String> log) {
        note(log, "rolled back: the application writes the old tables again, with every write made to the new ones since the cutover. "
                + "Next: stop the reverse stream, then `backfill teardown SPEC --reverse`");
    }

    private void note(List<String> log, String line) {
        log.add(line);
        out.println(line);
    }
}
