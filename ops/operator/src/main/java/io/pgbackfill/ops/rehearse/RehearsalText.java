package io.pgbackfill.ops.rehearse;

import java.util.Locale;

/** The report for a terminal: one screen for a table, the verdict last (where the eye lands). */
public final class RehearsalText {
    private RehearsalText() {
    }

    public static String render(RehearsalReport r) {
        StringBuilder sb = new StringBuilder();
        sb.append("rehearse ").append(r.pipeline()).append(" (").append(r.specFile()).append(")\n");
        RehearsalReport.Wal wal = r.wal();
        sb.append("source WAL ").append(wal.bytesPerSecond() == null ? "rate unknown"
                        : Human.bytes(Math.round(wal.bytesPerSecond())) + "/s over " + String.format(Locale.ROOT, "%.1f s", wal.windowSeconds()))
                .append(", max_slot_wal_keep_size ").append(wal.keepSizeBytes() == null ? "unlimited" : Human.bytes(wal.keepSizeBytes())).append('\n');
        for (RehearsalReport.TableReport t : r.tables()) {
            table(sb, t);
        }
        if (r.memory() != null) {
            MemoryEstimate m = r.memory();
            sb.append(String.format(Locale.ROOT, "%nmemory      predicted peak heap %s of %s (%d %s per JVM; events ~%s on average, up to %s; %s held per stage, budget %s)%n",
                    Human.bytes(m.peakBytes()), Human.bytes(m.heapBytes()), m.stagesPerJvm(), m.stagesPerJvm() == 1 ? "stage" : "stages",
                    Human.bytes(m.averageRecordBytes()), Human.bytes(m.largestRecordBytes()), Human.bytes(m.heldPerStageBytes()),
                    Human.bytes(m.stageBudgetBytes())));
        }
        sb.append('\n');
        RehearsalReport.Verdict v = r.verdict();
        sb.append("verdict: ").append(v.ready() ? "READY" : "NOT READY").append('\n');
        v.blocking().forEach(b -> sb.append("  - ").append(b).append('\n'));
        v.warnings().forEach(w -> sb.append("  note: ").append(w).append('\n'));
        return sb.toString();
    }

    private static void table(StringBuilder sb, RehearsalReport.TableReport t) {
        TableFacts f = t.table();
        RehearsalReport.Sample s = t.sample();
        RehearsalReport.Outcome o = t.outcome();
        sb.append('\n').append(t.source()).append(" -> ").append(t.target()).append('\n');
        sb.append(String.format(Locale.ROOT, "  table      ~%s rows (%s), %s on disk, TOAST %s of it%n",
                Human.count(f.estimatedRows()), f.estimatedBy(), Human.bytes(f.totalBytes()), Human.share(f.toastShare())));
        sb.append(String.format(Locale.ROOT, "  sample     %s%n             %s rows (%s of the table) in %s; %s with a value > 2 kB%n",
                s.method(), Human.count(s.rows()), Human.share(s.fraction()), Human.seconds(s.seconds()), Human.share(s.largeValueShare())));
        sb.append(String.format(Locale.ROOT, "  outcome    %s map (%s), %s excluded by the filter%n             %s to the DLQ (%s), %s duplicate target keys%n",
                Human.count(o.mapped()), Human.share(s.rows() == 0 ? 0 : (double) o.mapped() / s.rows()), Human.count(o.excluded()),
                Human.count(o.dlq()), Human.share(o.dlqShare()), Human.count(o.duplicateTargetKeys())));
        for (RehearsalReport.RejectGroup g : o.reasons()) {
            sb.append(String.format(Locale.ROOT, "    %-34s %7s %9s rows  e.g. %s%n", g.title(), Human.share(g.share()), Human.count(g.rows()),
                    String.join(", ", g.examples())));
        }
        if (o.duplicateTargetKeys() > 0) {
            String scaled = o.duplicatesInTableLow() == o.duplicatesInTableHigh() ? "" : String.format(Locale.ROOT, " (table: ~%s to ~%s)",
                    Human.count(o.duplicatesInTableLow()), Human.count(o.duplicatesInTableHigh()));
            sb.append(String.format(Locale.ROOT, "    %-34s %7s %9s rows  e.g. %s%s%n", "duplicate target key", Human.share(o.duplicateShare()),
                    Human.count(o.duplicateTargetKeys()), String.join(", ", o.duplicateExamples()), scaled));
        }
        int nameWidth = Math.max(6, t.columns().stream().mapToInt(c -> c.name().length()).max().orElse(6));
        int typeWidth = Math.max(4, t.columns().stream().mapToInt(c -> c.type().length()).max().orElse(4));
        String row = "  %-" + nameWidth + "s  %-" + typeWidth + "s  %7s  %9s  %9s  %7s%n";
        sb.append(String.format(Locale.ROOT, row, "column", "type", "NULL", "longest", "largest", "misfits"));
        for (RehearsalReport.ColumnReport c : t.columns()) {
            sb.append(String.format(Locale.ROOT, row, c.name(), c.type(), Human.share(c.nullShare()), Human.count(c.longestChars()),
                    Human.bytes(c.largestBytes()), Human.count(c.misfits())));
        }
        RehearsalReport.CostPerRow cost = t.costPerRow();
        sb.append(String.format(Locale.ROOT, "  cost/row   read %s + transform %s + events %s + write %s = %s%n", Human.micros(cost.read()),
                Human.micros(cost.transform()), Human.micros(cost.events()), Human.micros(cost.write()), Human.micros(cost.total())));
        RehearsalReport.Projection p = t.projection();
        sb.append(String.format(Locale.ROOT, "  projected  caught up after %s on this machine (timings at %.0f%% of a core)%n", duration(p), p.cpuShare() * 100));
        for (String why : p.duration().reasons()) {
            sb.append("             a range: ").append(why).append(String.format(Locale.ROOT, "%n"));
        }
        sb.append(String.format(Locale.ROOT, "             target %s; WAL during the snapshot %s%s%n", Human.bytes(p.targetBytes()),
                p.walBytes() == null ? "unknown" : Human.bytes(p.walBytes()),
                p.walBytes() != null && p.walIncludesTarget() ? " (incl. the new table's: same server)" : ""));
    }

    /** "31 s (22-40 s)": the model's estimate, then the range it may fall in. */
    static String duration(RehearsalReport.Projection p) {
        DurationModel.Estimate d = p.duration();
        return Human.seconds(d.seconds()) + " (" + Human.seconds(d.lowSeconds()) + " to " + Human.seconds(d.highSeconds()) + ")";
    }
}
