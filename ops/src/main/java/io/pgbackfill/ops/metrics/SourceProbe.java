package io.pgbackfill.ops.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.producer.ChangeEventProducer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
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
    private static final Logger LOG = LoggerFactory.getLogger(SourceProbe.class);

    private final PipelineSpec spec;
    private final ChangeEventProducer producer;
    private final ScheduledExecutorService timer;
    private final Map<String, Double> estimatedRows = new ConcurrentHashMap<>();
    private volatile double walInsertLsn = Double.NaN;
    private volatile double slotRetained = Double.NaN;
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
                .description("WAL the replication slot keeps on the source disk (current LSN minus confirmed_flush_lsn)").register(registry);
        for (TableSpec t : spec.tables()) {
            String table = t.sourceName().id();
            Gauge.builder(SNAPSHOT_ROWS_ESTIMATED, this, p -> p.estimatedRows.getOrDefault(table, Double.NaN)).tag("table", table)
                    .description("the source's row estimate (pg_class.reltuples; NaN before the first ANALYZE)").register(registry);
            Gauge.builder(SNAPSHOT_PROGRESS, this, p -> p.progress(table)).tag("table", table)
                    .description("snapshot rows read / estimated rows, 0..1; 1 once the snapshot is done").register(registry);
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

    private void poll() {
        try {
            if (connection == null || connection.isClosed()) {
                connection = spec.source().open();
            }
            try (PreparedStatement ps = connection.prepareStatement(
                    "SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn, "
                            + "(SELECT pg_current_wal_lsn() - confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = ?)")) {
                ps.setString(1, spec.slotName());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    walInsertLsn = rs.getDouble(1);
                    double retained = rs.getDouble(2);
                    slotRetained = rs.wasNull() ? Double.NaN : retained;
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
