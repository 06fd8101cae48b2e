package io.pgbackfill.ops.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.producer.ChangeEventProducer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the producer's metrics need from the source database, polled on one connection of its own (never
 * at scrape time, so a slow source cannot stall Prometheus): the WAL insert position, the WAL the slot
 * holds back, and each table's row estimate. Gauges read NaN until the first poll succeeds and again
 * while the source cannot be reached; "unknown" must not look like "no lag".
 */
public final class SourceProbe implements AutoCloseable {
    public static final String SOURCE_LSN_LAG = "pgbackfill.source.lsn.lag";
    public static final String SLOT_RETAINED_WAL = "pgbackfill.source.slot.retained.wal";
    public static final String SNAPSHOT_ROWS_ESTIMATED = "pgbackfill.snapshot.rows.estimated";
    public static final String SNAPSHOT_PROGRESS = "pgbackfill.snapshot.progress";
    public static final String SNAPSHOT_ETA = "pgbackfill.snapshot.eta";
    public static final String SLOT_WAL_STATUS = "pgbackfill.source.slot.wal.status";
    /** pg_replication_slots.wal_status values (PostgreSQL 13+): "lost" means the slot can no longer stream. */
    static final List<String> WAL_STATUSES = List.of("reserved", "extended", "unreserved", "lost");
    /** Weight of the newest interval in the snapshot read rate behind the ETA (smooths the batchy reads). */
    private static final double RATE_WEIGHT = 0.3;
    private static final Logger LOG = LoggerFactory.getLogger(SourceProbe.class);

    private final PipelineSpec spec;
    private final ChangeEventProducer producer;
    private final ScheduledExecutorService timer;
    private final Map<String, Double> estimatedRows = new ConcurrentHashMap<>();
    private volatile double walInsertLsn = Double.NaN;
    private volatile double slotRetained = Double.NaN;
    /** The slot's wal_status; "" if the slot does not exist, null while unknown. */
    private volatile String walStatus;
    private final Map<String, Double> snapshotRate = new ConcurrentHashMap<>();
    private final Map<String, long[]> lastRead = new ConcurrentHashMap<>();
    private volatile boolean reportedFailure;
    private Connection connection;

    private SourceProbe(PipelineSpec spec, ChangeEventProducer producer, MeterRegistry registry) {
        this.spec = spec;
        this.producer = producer;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgbackfill-source-probe");
            t.setDaemon(true);
            return t;
        });
        Gauge.builder(SOURCE_LSN_LAG, this, SourceProbe::lsnLag).baseUnit("bytes")
                .description("pg_current_wal_insert_lsn() minus the last WAL position the producer read").register(registry);
        Gauge.builder(SLOT_RETAINED_WAL, this, p -> p.slotRetained).baseUnit("bytes")
                .description("WAL the replication slot keeps on the source disk (current LSN minus restart_lsn)").register(registry);
        for (String status : WAL_STATUSES) {
            Gauge.builder(SLOT_WAL_STATUS, this, p -> p.walStatusIs(status)).tag("status", status)
                    .description("1 for the slot's current pg_replication_slots.wal_status (lost: the slot cannot stream any more); all 0 without a slot")
                    .register(registry);
        }
        for (TableSpec t : spec.tables()) {
            String table = t.sourceName().id();
            Gauge.builder(SNAPSHOT_ROWS_ESTIMATED, this, p -> p.estimatedRows.getOrDefault(table, Double.NaN)).tag("table", table)
                    .description("the source's row estimate (pg_class.reltuples; NaN before the first ANALYZE)").register(registry);
            Gauge.builder(SNAPSHOT_PROGRESS, this, p -> p.progress(table)).tag("table", table)
                    .description("snapshot rows read / estimated rows, 0..1; 1 once the snapshot is done").register(registry);
            TimeGauge.builder(SNAPSHOT_ETA, this, TimeUnit.SECONDS, p -> p.eta(table)).tag("table", table)
                    .description("estimated time until the table's snapshot is read, at the recent read rate (0 once done, NaN while unknown)").register(registry);
        }
    }

    /** Registers the gauges without polling the source (they read NaN): for a source that must not be polled, and tests. */
    public static SourceProbe idle(PipelineSpec spec, ChangeEventProducer producer, MeterRegistry registry) {
        return new SourceProbe(spec, producer, registry);
    }

    public static SourceProbe start(PipelineSpec spec, ChangeEventProducer producer, MeterRegistry registry, Duration every) {
        SourceProbe probe = new SourceProbe(spec, producer, registry);
        probe.timer.scheduleWithFixedDelay(probe::poll, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        return probe;
    }

    double lsnLag() {
        long read = producer.lastLsn();
        return read <= 0 ? Double.NaN : Math.max(0, walInsertLsn - read);
    }

    double progress(String table) {
        if (producer.snapshotDone()) {
            return 1;
        }
        double estimate = estimatedRows.getOrDefault(table, Double.NaN);
        // Rows inserted during the snapshot can take the count past the estimate: cap below "done".
        return estimate > 0 ? Math.min(0.999, producer.snapshotRowsRead(table) / estimate) : Double.NaN;
    }

    double walStatusIs(String status) {
        String current = walStatus;
        return current == null ? Double.NaN : current.equals(status) ? 1 : 0;
    }

    double eta(String table) {
        if (producer.snapshotDone()) {
            return 0;
        }
        double estimate = estimatedRows.getOrDefault(table, Double.NaN);
        double rate = snapshotRate.getOrDefault(table, Double.NaN);
        if (!(estimate > 0) || !(rate > 0)) {
            return Double.NaN;
        }
        return Math.max(0, estimate - producer.snapshotRowsRead(table)) / rate;
    }

    /** Rows read per second by the snapshot, smoothed over polls (needs no database, so it runs even when the source is away). */
    private void sampleSnapshotRate() {
        long now = System.nanoTime();
        for (TableSpec t : spec.tables()) {
            String table = t.sourceName().id();
            long read = producer.snapshotRowsRead(table);
            long[] last = lastRead.put(table, new long[] {read, now});
            if (last != null && now > last[1]) {
                double rate = (read - last[0]) / ((now - last[1]) / 1e9);
                snapshotRate.merge(table, rate, (old, latest) -> old + RATE_WEIGHT * (latest - old));
            }
        }
    }

    private void poll() {
        sampleSnapshotRate();
        try {
            if (connection == null || connection.isClosed()) {
                connection = spec.source().open();
            }
            try (PreparedStatement ps = connection.prepareStatement(
                    "SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn, "
                            + "(SELECT pg_current_wal_lsn() - restart_lsn FROM pg_replication_slots WHERE slot_name = ?), "
                            + "(SELECT coalesce(wal_status, '') FROM pg_replication_slots WHERE slot_name = ?)")) {
                ps.setString(1, spec.slotName());
                ps.setString(2, spec.slotName());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    walInsertLsn = rs.getDouble(1);
                    double retained = rs.getDouble(2);
                    slotRetained = rs.wasNull() ? Double.NaN : retained;
                    String status = rs.getString(3);
                    walStatus = status == null ? "" : status;
                }
            }
            try (PreparedStatement ps = connection.prepareStatement("SELECT reltuples FROM pg_class WHERE oid = to_regclass(?)")) {
                for (TableSpec t : spec.tables()) {
                    ps.setString(1, t.sourceName().quoted());
                    try (ResultSet rs = ps.executeQuery()) {
                        double estimate = rs.next() ? rs.getDouble(1) : -1;
                        estimatedRows.put(t.sourceName().id(), estimate < 0 ? Double.NaN : estimate);
                    }
                }
            }
            reportedFailure = false;
        } catch (SQLException | RuntimeException e) {
            walInsertLsn = Double.NaN;
            slotRetained = Double.NaN;
            walStatus = null;
            if (!reportedFailure) {
                LOG.warn("source metrics unavailable: {}", Redaction.redact(String.valueOf(e.getMessage())));
                reportedFailure = true;
            }
            closeConnection();
        }
    }

    private void closeConnection() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException ignored) {
            // broken already
        }
        connection = null;
    }

    @Override
    public void close() throws InterruptedException {
        timer.shutdownNow();
        timer.awaitTermination(5, TimeUnit.SECONDS);
        closeConnection();
    }
}
