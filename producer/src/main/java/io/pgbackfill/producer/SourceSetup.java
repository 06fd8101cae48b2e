package io.pgbackfill.producer;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.core.sql.SqlIdentifier;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * What the pipeline owns on the source, created idempotently before Debezium starts:
 * schema {@code pgbackfill} with a heartbeat table (its updates become watermarks) and this pipeline's
 * signal table (Debezium's incremental-snapshot signals and window marks), the publication and
 * the logical replication slot. Creating the slot ourselves, before the snapshot signal is written,
 * guarantees the signal is in the slot's stream.
 */
public final class SourceSetup {
    public static final String SCHEMA = "pgbackfill";
    public static final String HEARTBEAT_TABLE = "heartbeat";

    private SourceSetup() {
    }

    public static String signalTable(PipelineSpec spec) {
        return spec.slotName() + "_signal";
    }

    /**
     * The heartbeat-table row whose updates are the chunked snapshot's window marks ({@link ChunkedSnapshot}): a row of
     * its own, so marks are not watermarks. The space keeps it apart from every pipeline name.
     */
    public static String windowMarkRow(PipelineSpec spec) {
        return spec.pipelineName() + " snapshot-window";
    }

    public static String publication(PipelineSpec spec) {
        return spec.slotName();
    }

    /** Prepares the source, creating the slot too; returns true when the slot was created now (a first start). */
    public static boolean prepare(Connection c, PipelineSpec spec) throws SQLException {
        return prepare(c, spec, true);
    }

    /**
     * Prepares the source. {@code createSlot} false leaves the slot to Debezium's initial snapshot, which
     * creates it together with the exported snapshot it reads from (the consistent point).
     */
    public static boolean prepare(Connection c, PipelineSpec spec, boolean createSlot) throws SQLException {
        String signal = SqlIdentifier.of(signalTable(spec)).quoted();
        try (Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS " + SCHEMA);
            st.execute("CREATE TABLE IF NOT EXISTS " + SCHEMA + "." + HEARTBEAT_TABLE
                    + " (pipeline text PRIMARY KEY, beat_at timestamptz NOT NULL DEFAULT now(), fence bigint NOT NULL DEFAULT 0)");
            st.execute("CREATE TABLE IF NOT EXISTS " + SCHEMA + "." + signal
                    + " (id varchar(64) PRIMARY KEY, type varchar(32) NOT NULL, data text)");
        }
        // Re-read signals name up to RereadRequest.MAX_KEYS keys: more than the varchar(2048) of earlier versions holds.
        if (exists(c, "SELECT 1 FROM information_schema.columns WHERE table_schema = '" + SCHEMA + "' AND column_name = 'data' "
                + "AND data_type <> 'text' AND table_name = ?", signalTable(spec))) {
            try (Statement st = c.createStatement()) {
                st.execute("ALTER TABLE " + SCHEMA + "." + signal + " ALTER COLUMN data TYPE text");
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + SCHEMA + "." + HEARTBEAT_TABLE + " (pipeline) VALUES (?) ON CONFLICT DO NOTHING")) {
            ps.setString(1, spec.pipelineName());
            ps.executeUpdate();
        }
        List<String> tables = new ArrayList<>();
        for (TableSpec t : spec.tables()) {
            tables.add(t.sourceName().quoted());
        }
        tables.add(SCHEMA + "." + HEARTBEAT_TABLE);
        tables.add(SCHEMA + "." + signal);
        String pub = SqlIdentifier.of(publication(spec)).quoted();
        if (!exists(c, "SELECT 1 FROM pg_publication WHERE pubname = ?", publication(spec))) {
            try (Statement st = c.createStatement()) {
                st.execute("CREATE PUBLICATION " + pub + " FOR TABLE " + String.join(", ", tables));
            }
        }
        boolean created = false;
        if (createSlot && !exists(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", spec.slotName())) {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_create_logical_replication_slot(?, 'pgoutput')")) {
                ps.setString(1, spec.slotName());
                ps.execute();
            }
            created = true;
        }
        return created;
    }

    /**
     * Asks Debezium for an incremental (chunked, resumable) snapshot of every table. The signal id is
     * fixed per pipeline, so asking twice (a crash right after asking) writes nothing the second time.
     */
    public static void requestSnapshot(Connection c, PipelineSpec spec) throws SQLException {
        requestSnapshot(c, spec, "pgbackfill-initial-snapshot", spec.tables().stream().map(t -> t.sourceName().id()).toList(), java.util.Map.of());
    }

    /**
     * Asks for an incremental snapshot of {@code tables}, each optionally limited by a SQL condition (the rest of
     * an interrupted initial scan: rows after the last key read). Same id, same request: written once.
     */
    public static void requestSnapshot(Connection c, PipelineSpec spec, String id, java.util.List<String> tables,
                                       java.util.Map<String, String> conditions) throws SQLException {
        var data = io.pgbackfill.core.event.EventCodec.MAPPER.createObjectNode();
        var collections = data.putArray("data-collections");
        tables.forEach(collections::add);
        data.put("type", "incremental");
        if (!conditions.isEmpty()) {
            var extra = data.putArray("additional-conditions");
            conditions.forEach((t, filter) -> extra.addObject().put("data-collection", t).put("filter", filter));
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + SCHEMA + "." + SqlIdentifier.of(signalTable(spec)).quoted()
                + " (id, type, data) VALUES (?, 'execute-snapshot', ?) ON CONFLICT (id) DO NOTHING")) {
            ps.setString(1, id);
            ps.setString(2, data.toString());
            ps.executeUpdate();
        }
    }

    public static boolean slotExists(Connection c, PipelineSpec spec) throws SQLException {
        return exists(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", spec.slotName());
    }

    /**
     * Writes a fence: a heartbeat update whose watermark tells every stage "the source is seen up to
     * here". Returns the WAL position read just before it; once the sink reports a watermark at or past
     * that position on every partition, every commit before the fence is in the target.
     */
    public static long fence(Connection c, String pipeline) throws SQLException {
        long lsn;
        // The insert position, not pg_current_wal_lsn() (the write position): with asynchronous commit the write
        // position can trail commits already made, and a heartbeat past it could then overtake them.
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")) {
            rs.next();
            lsn = rs.getLong(1);
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + SCHEMA + "." + HEARTBEAT_TABLE + " SET beat_at = now(), fence = fence + 1 WHERE pipeline = ?")) {
            ps.setString(1, pipeline);
            ps.executeUpdate();
        }
        return lsn;
    }

    private static boolean exists(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
