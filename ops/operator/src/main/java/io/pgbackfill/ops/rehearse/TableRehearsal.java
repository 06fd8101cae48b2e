package io.pgbackfill.ops.rehearse;

import io.pgbackfill.core.catalog.ColumnType;
import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.transform.RowRejected;
import io.pgbackfill.core.transform.TableTransform;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One table's rehearsal: stream the sample, run every row through the spec's {@link TableTransform}
 * (the transformer's own code), tally what would go to the DLQ and why, look for target keys two rows
 * share, profile each target column, and trial-write what maps. Memory stays constant whatever the
 * sample size: counters, five examples per reason, one write batch, and the key hashes (capped).
 */
final class TableRehearsal {
    /** PostgreSQL moves a row's large values out of line (TOAST) once the row passes about 2 kB. */
    static final int LARGE_VALUE_BYTES = 2048;
    private static final long PROGRESS_EVERY_NANOS = 2_000_000_000L;

    private final TableTransform transform;
    private final TableSchema schema;
    private final RehearsalOptions options;
    private final Consumer<String> progress;

    private final Map<String, ColumnProfile> profiles = new LinkedHashMap<>();
    private final RejectTally rejects = new RejectTally();
    private final KeyHashSet keys;
    private final List<String> duplicateExamples = new ArrayList<>();
    private final EventRoundTrip events;
    private long excluded;
    private long duplicates;
    private long largeValueRows;
    private final CostMeter meter = new CostMeter();
    private long lastProgress = System.nanoTime();
    private long seen;

    TableRehearsal(TableTransform transform, TableSchema schema, RehearsalOptions options, Consumer<String> progress) {
        this.transform = transform;
        this.schema = schema;
        this.options = options;
        this.progress = progress;
        this.keys = new KeyHashSet(options.keyHashCap());
        this.events = new EventRoundTrip(transform.source().id());
        transform.columns().forEach(c -> profiles.put(c.name(), new ColumnProfile(c.column())));
    }

    RehearsalReport.TableReport run(Connection source, Connection target, RehearsalReport.Wal wal, boolean targetSharesSourceWal)
            throws SQLException {
        TableFacts facts = TableFacts.read(source, transform.source(), options.seed());
        SamplePlan plan = SamplePlan.of(options, facts.estimatedRows());
        double shareBefore = CpuShare.measure(Rehearsal.CPU_SHARE_MILLIS);
        long started = System.nanoTime();
        long sampled;
        TrialWriter.Result written;
        try (TrialWriter writer = new TrialWriter(target, transform,
                (key, message) -> rejects.add(RowRejected.Reason.DATABASE_REJECTED, null, message, key), meter)) {
            int fetch = SampleReader.fetchSize(facts.totalBytes() / Math.max(1, facts.estimatedRows()));
            sampled = new SampleReader(schema, plan, options.rowsPerSecond(), fetch).read(source, (row, key, readNanos) -> row(row, key, readNanos, writer));
            written = writer.finish();
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        // Before and after the sample: the load moves, and the timings span the whole sample.
        double cpuShare = (shareBefore + CpuShare.measure(Rehearsal.CPU_SHARE_MILLIS)) / 2;
        // Beyond the key cap (or a hash collision) a duplicate reaches the trial write, where the upsert merges it.
        duplicates += Math.max(0, written.rowsWritten() - written.rowsInTable());
        long mapped = sampled - excluded - rejects.total() - duplicates;
        double fraction = facts.estimatedRows() == 0 ? 1 : Math.min(1, (double) sampled / facts.estimatedRows());

        RehearsalReport.Sample sample = new RehearsalReport.Sample(plan.describe(), sampled, fraction, seconds, share(largeValueRows, sampled));
        RehearsalReport.Outcome outcome = new RehearsalReport.Outcome(mapped, excluded, rejects.total(), share(rejects.total(), sampled),
                rejects.groups(sampled), duplicates, share(duplicates, sampled), List.copyOf(duplicateExamples),
                fraction == 0 ? 0 : Math.round(duplicates / fraction), fraction == 0 ? 0 : Math.round(duplicates / (fraction * fraction)),
                keys.capHit(), written.failure());
        RehearsalReport.CostPerRow cost = meter.perSampledRow(written.rowsWritten(), sampled);
        long eventBytes = events.sizes().average();
        DurationModel.Estimate duration = DurationModel.CALIBRATED.project(new DurationModel.Conditions(facts.estimatedRows(), cost.total(),
                eventBytes, sampled, Runtime.getRuntime().availableProcessors(), cpuShare, options.stagesPerJvm()));
        double snapshotSeconds = duration.seconds();
        // Bytes per row the temporary copy holds, times the rows the table would map.
        long targetBytes = written.rowsInTable() == 0 ? 0
                : Math.round((double) written.bytes() / written.rowsInTable() * facts.estimatedRows() * mapped / sampled);
        Long walBytes = wal.bytesPerSecond() == null ? null
                : Math.round(wal.bytesPerSecond() * snapshotSeconds) + (targetSharesSourceWal ? targetBytes : 0);
        return new RehearsalReport.TableReport(transform.source().id(), transform.target().id(), facts, sample, outcome, columns(),
                cost, new RehearsalReport.Projection(duration, eventBytes, cpuShare, targetBytes, walBytes, targetSharesSourceWal));
    }

    private void row(Map<String, Object> row, String sourceKey, long readNanos, TrialWriter writer) throws SQLException {
        seen++;
        if (System.nanoTime() - lastProgress > PROGRESS_EVERY_NANOS) {
            progress.accept(String.format(java.util.Locale.ROOT, "rehearse %s: %,d rows sampled", transform.source(), seen));
            lastProgress = System.nanoTime();
        }
        if (hasLargeValue(row)) {
            largeValueRows++;
        }
        long t0 = System.nanoTime();
        TableTransform.Mapped m;
        try {
            m = transform.map(row, Set.of());
        } catch (RowRejected e) {
            meter.row(readNanos, System.nanoTime() - t0, 0);
            rejects.add(e.reason(), e.column(), e.getMessage(), sourceKey);
            if (!"filter".equals(e.column())) {
                RejectedRowProbe.profile(transform, row, profiles);
            }
            return;
        }
        long transformNanos = System.nanoTime() - t0;
        if (!m.included()) {
            meter.row(readNanos, transformNanos, 0);
            excluded++;
            return;
        }
        for (var p : profiles.entrySet()) {
            p.getValue().observe(m.values().get(p.getKey()));
        }
        Map<String, String> targetKey = new LinkedHashMap<>();
        for (String k : transform.keyColumnNames()) {
            targetKey.put(k, m.values().get(k));
        }
        if (!keys.add(new ArrayList<>(targetKey.values()))) {
            meter.row(readNanos, transformNanos, 0);
            duplicates++;
            if (duplicateExamples.size() < RejectTally.EXAMPLES) {
                duplicateExamples.add(sourceKey + " -> " + keyText(targetKey));
            }
            return;
        }
        Map<String, Object> key = new LinkedHashMap<>();
        schema.primaryKey().forEach(k -> key.put(k, row.get(k)));
        meter.row(readNanos, transformNanos, events.nanos(key, row, targetKey, m.values()));
        writer.add(m.values(), sourceKey);
    }

    private static boolean hasLargeValue(Map<String, Object> row) {
        for (Object v : row.values()) {
            // Every char is at least one UTF-8 byte and at most three: only check bytes when it could matter.
            if (v instanceof String s && s.length() * 3L > LARGE_VALUE_BYTES
                    && (s.length() > LARGE_VALUE_BYTES || ColumnProfile.utf8Length(s) > LARGE_VALUE_BYTES)) {
                return true;
            }
        }
        return false;
    }

    /** Sizes of the events the mapped sample rows became (after {@link #run}). */
    EventSizes eventSizes() {
        return events.sizes();
    }

    private List<RehearsalReport.ColumnReport> columns() {
        List<RehearsalReport.ColumnReport> out = new ArrayList<>();
        for (ColumnProfile p : profiles.values()) {
            ColumnType type = p.column().type();
            boolean textLike = type.isTextual() || type.kind() == ColumnType.Kind.JSON || type.kind() == ColumnType.Kind.JSONB;
            out.add(new RehearsalReport.ColumnReport(p.column().name(), type.sql(), p.values(), p.nullShare(), p.longestChars(),
                    p.largestBytes(), p.misfits(), textLike ? p.lengthHistogram() : null));
        }
        return out;
    }

    private static String keyText(Map<String, String> key) {
        StringBuilder sb = new StringBuilder();
        key.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ",").append(k).append('=').append(v));
        return sb.toString();
    }

    private static double share(long n, long of) {
        return of == 0 ? 0 : (double) n / of;
    }
}
