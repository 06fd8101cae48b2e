package io.pgbackfill.ops.cutover.reverse;

import io.pgbackfill.core.reverse.ReversePipeline;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.core.sql.SqlIdentifier;
import io.pgbackfill.ops.cutover.SwitchSteps;
import io.pgbackfill.producer.SourceSetup;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;

/**
 * {@code cutover --reverse-stream}: the cutover's extra steps that leave a reverse stream behind it (new table → old
 * table through the spec's {@code reverse:} blocks, see {@link ReversePipeline}).
 * <ul>
 *   <li>before the lock: the reverse pipeline's publication and slot on the new table's database. The slot must exist
 *       before the switch, or writes made during the switch are lost;</li>
 *   <li>under the lock: the old tables leave the forward publication, in the lock's transaction, so that what the
 *       reverse stream writes into them is never streamed forward again (no loop); and the switch point is read:
 *       after the drain, before the switch, so every write of the application after the switch commits past it;</li>
 *   <li>after the commit: the reverse slot is moved to the switch point ({@code pg_replication_slot_advance}), so the
 *       forward sink's own writes before the switch are not streamed back.</li>
 * </ul>
 */
public final class ReverseStream implements SwitchSteps {
    private final PipelineSpec forward;
    private final PipelineSpec reverse;
    private final PrintStream out;
    private long switchLsn = -1;

    public ReverseStream(PipelineSpec forward, PrintStream out) {
        this.forward = forward;
        this.reverse = ReversePipeline.of(forward);
        this.out = out;
    }

    /** The switch point of the last cutover (-1 before one); the reverse stream starts after it. */
    public long switchLsn() {
        return switchLsn;
    }

    @Override
    public void beforeLock(List<String> log) throws Exception {
        try (Connection c = reverse.source().open()) {
            boolean created = SourceSetup.prepare(c, ReversePipeline.beforeCutover(forward), true);
            note(log, "reverse stream: slot " + reverse.slotName() + (created ? " created" : " exists") + " on the new table's database; it streams from the switch");
        }
    }

    @Override
    public void whileBlocked(Connection lock, List<String> log) throws Exception {
        String pub = SourceSetup.publication(forward);
        try (Statement st = lock.createStatement()) {
            for (TableSpec t : forward.tables()) {
                try (PreparedStatement ps = lock.prepareStatement("SELECT 1 FROM pg_publication_tables WHERE pubname = ? AND schemaname = ? AND tablename = ?")) {
                    ps.setString(1, pub);
                    ps.setString(2, t.sourceName().schema().name());
                    ps.setString(3, t.sourceName().table().name());
                    if (!ps.executeQuery().next()) {
                        continue;
                    }
                }
                st.execute("ALTER PUBLICATION " + SqlIdentifier.of(pub).quoted() + " DROP TABLE " + t.sourceName().quoted());
            }
        }
        note(log, "forward publication " + pub + " no longer streams " + forward.tables().stream().map(t -> t.sourceName().id()).toList()
                + ": the reverse stream's writes there are not sent forward again");
        if (forward.sameDatabase()) {
            switchLsn = currentLsn(lock);
        } else {
            try (Connection c = reverse.source().open()) {
                switchLsn = currentLsn(c);
            }
        }
    }

    @Override
    public void afterCommit(List<String> log) {
        String lsn = text(switchLsn);
        try (Connection c = reverse.source().open();
             PreparedStatement ps = c.prepareStatement("SELECT pg_replication_slot_advance(?, ?::pg_lsn)")) {
            ps.setString(1, reverse.slotName());
            ps.setString(2, lsn);
            ps.execute();
            note(log, "reverse stream: slot " + reverse.slotName() + " starts at the switch (" + lsn + "); start it with `backfill up SPEC --reverse`");
        } catch (SQLException e) {
            // Harmless if left: the stream would also replay the forward sink's last writes before the switch, in order.
            note(log, "reverse stream: could not move slot " + reverse.slotName() + " to the switch point (" + e.getMessage()
                    + "); before starting it run: SELECT pg_replication_slot_advance('" + reverse.slotName() + "', '" + lsn + "')");
        }
    }

    /** A line for {@code status}: the reverse stream exists (its slot does), and where to see it; empty otherwise. */
    public static java.util.Optional<String> present(PipelineSpec forward) {
        if (!ReversePipeline.declared(forward)) {
            return java.util.Optional.empty();
        }
        PipelineSpec reverse = ReversePipeline.of(forward);
        try (Connection c = reverse.source().open()) {
            return SourceSetup.slotExists(c, reverse)
                    ? java.util.Optional.of("reverse stream: slot " + reverse.slotName() + " exists (new table -> old table); see `backfill status SPEC --reverse`")
                    : java.util.Optional.empty();
        } catch (SQLException e) {
            return java.util.Optional.empty();
        }
    }

    private static long currentLsn(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String text(long lsn) {
        return String.format(Locale.ROOT, "%X/%X", lsn >>> 32, lsn & 0xFFFFFFFFL);
    }

    private void note(List<String> log, String line) {
        log.add(line);
        out.println(line);
    }
}
