package io.pgbackfill.ops.preflight;

import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecException;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.core.transform.MigrationPlan;
import java.io.File;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.kafka.TopicSettings;
import io.pgbackfill.producer.SlotState;
import org.apache.kafka.clients.admin.Admin;

/**
 * Everything that should be true before a pipeline starts, checked read-only against the source
 * and target, each with PASS / WARN / FAIL and the fix. Nothing is created.
 */
public final class Preflight {
    private final PipelineSpec spec;
    private final String specFile;

    public Preflight(PipelineSpec spec, String specFile) {
        this.spec = spec;
        this.specFile = specFile;
    }

    public List<Check> run() {
        List<Check> out = new ArrayList<>();
        try (Connection src = spec.source().open()) {
            source(src, out);
        } catch (SQLException e) {
            out.add(Check.fail("source reachable", Redaction.redact(e.getMessage(), spec.source().secret()), "check source.jdbcUrl, user and the password variable"));
            return out;
        }
        try {
            MigrationPlan.connect(spec, specFile);
            out.add(Check.pass("spec vs catalogs", "every expression compiles against the source columns; target tables and columns exist"));
        } catch (SpecException e) {
            out.add(Check.fail("spec vs catalogs", e.getMessage().replace("\n", "\n     "), "fix the spec or create the target table"));
        } catch (SQLException e) {
            out.add(Check.fail("target reachable", Redaction.redact(e.getMessage(), spec.targetOrSource().secret()), "check target.jdbcUrl, user and password"));
        }
        kafka(out);
        return out;
    }

    /**
     * The pipeline's topics that exist already: retention, cleanup policy, replication (see {@link TopicSettings});
     * missing ones are created with unlimited retention by the stages.
     */
    private void kafka(List<Check> out) {
        List<String> topics = new ArrayList<>();
        for (TableSpec t : spec.tables()) {
            topics.addAll(List.of(spec.rawTopic(t), spec.rowsTopic(t), spec.dlqTopic(t)));
        }
        try (Admin admin = KafkaTopics.admin(spec.kafka(), 15_000)) {
            int brokers = admin.describeCluster().nodes().get().size();
            Map<String, TopicSettings> existing = TopicSettings.read(admin, topics);
            int clean = 0;
            for (TopicSettings ts : existing.values()) {
                List<TopicSettings.Finding> findings = ts.findings(brokers);
                for (TopicSettings.Finding f : findings) {
                    out.add(f.severity() == TopicSettings.Severity.FAIL ? Check.fail("topic " + ts.topic(), f.problem(), f.fix())
                            : Check.warn("topic " + ts.topic(), f.problem(), f.fix()));
                }
                clean += findings.isEmpty() ? 1 : 0;
            }
            out.add(Check.pass("kafka topics", clean + " of " + existing.size() + " existing topics without findings; "
                    + (topics.size() - existing.size()) + " to be created with retention.ms=-1, retention.bytes=-1"));
        } catch (ExecutionException e) {
            out.add(Check.fail("kafka reachable", spec.kafka().bootstrapServers() + ": " + e.getCause().getMessage(), "check kafka.bootstrapServers, kafka.properties (security protocol, credentials, trust store) and that the brokers run"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public static boolean passed(List<Check> checks) {
        return checks.stream().noneMatch(c -> c.verdict() == Check.Verdict.FAIL);
    }

    private void source(Connection c, List<Check> out) throws SQLException {
        String wal = setting(c, "wal_level");
        out.add("logical".equals(wal) ? Check.pass("wal_level", "logical")
                : Check.fail("wal_level", wal, "ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL"));
        Optional<SlotState> slot = SlotState.read(c, spec.slotName());
        int maxSlots = Integer.parseInt(setting(c, "max_replication_slots"));
        int usedSlots = count(c, "SELECT count(*) FROM pg_replication_slots");
        out.add(slot.isPresent() && slot.get().lost() ? Check.fail("replication slot", slot.get().lostReason(), SlotState.RESYNC)
                : slot.isPresent() && slot.get().unreserved() ? Check.warn("replication slot", spec.slotName()
                        + " exists but wal_status = unreserved: the WAL it needs is past max_slot_wal_keep_size (" + slot.get().maxSlotWalKeepSize()
                        + ") and the next checkpoint may remove it (the slot is then lost and needs a resync)",
                        "start the producer now so the slot advances, or raise max_slot_wal_keep_size; SELECT pg_reload_conf()")
                : slot.isPresent() ? Check.pass("replication slot", spec.slotName() + " exists (resume), wal_status " + slot.get().walStatus())
                : usedSlots < maxSlots ? Check.pass("replication slots", (maxSlots - usedSlots) + " of " + maxSlots + " free")
                : Check.fail("replication slots", "all " + maxSlots + " in use", "raise max_replication_slots or drop an unused slot"));
        int maxSenders = Integer.parseInt(setting(c, "max_wal_senders"));
        int senders = count(c, "SELECT count(*) FROM pg_stat_replication");
        out.add(senders < maxSenders ? Check.pass("wal senders", (maxSenders - senders) + " of " + maxSenders + " free")
                : Check.fail("wal senders", "all " + maxSenders + " in use", "raise max_wal_senders"));
        String keep = setting(c, "max_slot_wal_keep_size");
        out.add("-1".equals(keep) ? Check.warn("max_slot_wal_keep_size", "unlimited: a stuck slot can fill the disk",
                "ALTER SYSTEM SET max_slot_wal_keep_size = '50GB' (size it to your disk); SELECT pg_reload_conf()")
                : Check.pass("max_slot_wal_keep_size", keep));
        privileges(c, out);
        for (TableSpec t : spec.tables()) {
            Optional<TableSchema> s = TableSchema.read(c, t.sourceName());
            if (s.isEmpty()) {
                out.add(Check.fail("table " + t.sourceName(), "does not exist on the source", "fix 'source' in the spec"));
                continue;
            }
            TableSchema schema = s.get();
            if (schema.primaryKey().isEmpty()) {
                out.add(t.key().isEmpty() ? Check.fail("key of " + t.sourceName(), "no primary key and no declared key",
                        "add a primary key, or declare 'key' in the spec and set REPLICA IDENTITY FULL")
                        : Check.warn("key of " + t.sourceName(), "no primary key; declared key " + t.key(), "prefer a primary key: snapshots chunk by it"));
            } else {
                out.add(Check.pass("key of " + t.sourceName(), "primary key " + schema.primaryKey()));
            }
            boolean toastable = schema.columns().values().stream().map(Column::type).anyMatch(ty -> ty.isTextual()
                    || ty.kind() == io.pgbackfill.core.catalog.ColumnType.Kind.BYTEA || ty.kind() == io.pgbackfill.core.catalog.ColumnType.Kind.JSONB
                    || ty.kind() == io.pgbackfill.core.catalog.ColumnType.Kind.JSON || ty.kind() == io.pgbackfill.core.catalog.ColumnType.Kind.ARRAY);
            if ("f".equals(schema.replicaIdentity())) {
                out.add(Check.pass("replica identity " + t.sourceName(), "FULL"));
            } else if (toastable && schema.primaryKey().isEmpty()) {
                out.add(Check.warn("replica identity " + t.sourceName(), "DEFAULT and no primary key: updates leave unchanged TOASTed values out, "
                        + "and a row the target cannot complete without them cannot be read again by key (it stays missing; verify reports it)",
                        "add a primary key, or ALTER TABLE " + t.sourceName().quoted() + " REPLICA IDENTITY FULL (more WAL)"));
            } else if (toastable) {
                // Not a warning any more: a change the target cannot complete without such a value is read again by key.
                out.add(Check.pass("replica identity " + t.sourceName(), "DEFAULT: updates leave unchanged TOASTed values out; the target keeps "
                        + "its value, and a row it cannot complete (a new key, a row that starts to match) is read again from the source"));
            } else {
                out.add(Check.pass("replica identity " + t.sourceName(), "DEFAULT (no TOASTable columns)"));
            }
            if (!exists(c, "SELECT 1 WHERE has_table_privilege(current_user, '" + t.sourceName().quoted().replace("'", "''") + "', 'SELECT')")) {
                out.add(Check.fail("SELECT on " + t.sourceName(), "missing", "GRANT SELECT ON " + t.sourceName().quoted() + " TO <pgbackfill user>"));
            }
        }
        long longTx = count(c, "SELECT count(*) FROM pg_stat_activity WHERE xact_start < now() - interval '5 minutes' AND pid <> pg_backend_pid()");
        out.add(longTx == 0 ? Check.pass("long transactions", "none over 5 minutes")
                : Check.warn("long transactions", longTx + " open for over 5 minutes: they hold back the snapshot and VACUUM",
                "look at pg_stat_activity (backfill status lists them) and end them or wait"));
        io.pgbackfill.ops.control.ThrottlePreflight.check(c, spec.throttle(), out);
        disk(c, out);
    }

    private void privileges(Connection c, List<Check> out) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT rolsuper, rolreplication, has_database_privilege(current_user, current_database(), 'CREATE') FROM pg_roles WHERE rolname = current_user")) {
            rs.next();
            boolean sup = rs.getBoolean(1);
            boolean repl = rs.getBoolean(2);
            boolean create = rs.getBoolean(3);
            out.add(sup || repl ? Check.pass("REPLICATION privilege", sup ? "superuser" : "yes")
                    : Check.fail("REPLICATION privilege", "missing", "ALTER ROLE <pgbackfill user> REPLICATION"));
            out.add(sup || create ? Check.pass("publication/schema rights", "can create the pgbackfill schema and publication")
                    : Check.warn("publication/schema rights", "no CREATE on the database", "GRANT CREATE ON DATABASE ... TO <user>, or create the publication as the table owner"));
        }
    }

    private void disk(Connection c, List<Check> out) {
        try {
            long dbSize = count(c, "SELECT pg_database_size(current_database())");
            long tables = 0;
            for (TableSpec t : spec.tables()) {
                try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(pg_total_relation_size(to_regclass(?)), 0)")) {
                    ps.setString(1, t.sourceName().quoted());
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        tables += rs.getLong(1);
                    }
                }
            }
            String dataDir = setting(c, "data_directory");
            long free = new File(dataDir).getUsableSpace();
            String host = spec.source().parsedUrl().host();
            boolean local = host.equals("localhost") || host.equals("127.0.0.1");
            if (!local || free == 0) {
                out.add(Check.warn("disk headroom", "source tables " + (tables >> 20) + " MiB (database " + (dbSize >> 20) + " MiB); free space not visible from here",
                        "keep at least 2x the tables' size free for WAL held by the slot and the new table"));
            } else if (free < 2 * tables) {
                out.add(Check.fail("disk headroom", (free >> 20) + " MiB free for " + (tables >> 20) + " MiB of tables", "free disk: WAL retained during the snapshot plus the new table need ~2x"));
            } else {
                out.add(Check.pass("disk headroom", (free >> 20) + " MiB free, tables " + (tables >> 20) + " MiB"));
            }
        } catch (SQLException | RuntimeException e) {
            out.add(Check.warn("disk headroom", "not visible (" + e.getClass().getSimpleName() + ")", "check free disk on the source by hand: ~2x the tables"));
        }
    }

    private static String setting(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT current_setting(?)")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    private static boolean exists(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next();
        }
    }

    private static int count(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return (int) Math.min(Integer.MAX_VALUE, rs.getLong(1));
        }
    }
}
