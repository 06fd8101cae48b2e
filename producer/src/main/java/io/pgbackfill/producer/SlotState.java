package io.pgbackfill.producer;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The replication slot as the source sees it. {@code wal_status} (PostgreSQL 13+): {@code lost} means the server
 * removed WAL the slot still needed ({@code max_slot_wal_keep_size} exceeded while the producer was stopped or
 * behind): the changes in between can never be streamed, and only a new snapshot ({@code backfill resync}) repairs
 * the target. {@code unreserved} means it is about to happen.
 */
public record SlotState(String name, boolean active, String walStatus, String maxSlotWalKeepSize, String database) {

    public static Optional<SlotState> read(Connection c, String slot) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT active, coalesce(wal_status, ''), current_setting('max_slot_wal_keep_size'), coalesce(database, '') "
                + "FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new SlotState(slot, rs.getBoolean(1), rs.getString(2), rs.getString(3), rs.getString(4))) : Optional.empty();
            }
        }
    }

    public boolean lost() {
        return "lost".equals(walStatus);
    }

    public boolean unreserved() {
        return "unreserved".equals(walStatus);
    }

    /** Why the slot is of no use any more, in one line. */
    public String lostReason() {
        return "replication slot " + name + " is lost (wal_status = lost): the source removed WAL it still needed "
                + "(max_slot_wal_keep_size = " + maxSlotWalKeepSize + " was exceeded while the producer was stopped or behind), so the changes "
                + "made since can no longer be streamed";
    }

    /** The way on, for messages. */
    public static final String RESYNC = "run `backfill resync SPEC` (see ops/runbooks/resync.md): it drops the slot, takes a new snapshot "
            + "and removes from the target the rows the new snapshot did not deliver";

    /** Thrown when the producer must not start (or go on) on this slot. */
    public static final class Lost extends IllegalStateException {
        public Lost(SlotState slot) {
            super(slot.lostReason() + "; " + RESYNC);
        }
    }
}
