package io.pgbackfill.ops.rehearse;

import io.pgbackfill.ops.text.Html;
import java.util.List;
import java.util.Locale;

/**
 * The report as one self-contained HTML file (no scripts, no external files): per table, the DLQ
 * reasons as bars, the column profiles, and for each text column the distribution of value lengths
 * in powers of two, as inline SVG. Meant to be attached to a change request.
 */
public final class RehearsalHtml {
    private static final int BAR_WIDTH = 420;

    private RehearsalHtml() {
    }

    public static String render(RehearsalReport r) {
        StringBuilder sb = new StringBuilder(16_384);
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>rehearse ").append(Html.escape(r.pipeline())).append("</title>\n")
                .append("<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:70em;color:#222}"
                        + "table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:right}"
                        + "td:first-child,th:first-child{text-align:left}.ready{color:#186a1e}.blocked{color:#a31515}"
                        + "svg text{font:11px system-ui,sans-serif}h2{margin-top:1.6em}.small{color:#666;font-size:12px}</style></head><body>\n");
        RehearsalReport.Verdict v = r.verdict();
        sb.append("<h1>rehearse ").append(Html.escape(r.pipeline())).append("</h1>\n<p class=\"small\">").append(Html.escape(r.specFile())).append("</p>\n");
        sb.append("<p class=\"").append(v.ready() ? "ready" : "blocked").append("\"><b>").append(v.ready() ? "READY" : "NOT READY").append("</b></p>\n");
        if (!v.blocking().isEmpty()) {
            sb.append("<ul>");
            v.blocking().forEach(b -> sb.append("<li class=\"blocked\">").append(Html.escape(b)).append("</li>"));
            sb.append("</ul>\n");
        }
        if (!v.warnings().isEmpty()) {
            sb.append("<ul>");
            v.warnings().forEach(w -> sb.append("<li>").append(Html.escape(w)).append("</li>"));
            sb.append("</ul>\n");
        }
        if (r.memory() != null) {
            MemoryEstimate m = r.memory();
            sb.append("<p>memory: predicted peak heap ").append(Html.escape(Human.bytes(m.peakBytes()))).append(" of ").append(Html.escape(Human.bytes(m.heapBytes())))
                    .append(" (").append(m.stagesPerJvm()).append(m.stagesPerJvm() == 1 ? " stage" : " stages").append(" per JVM; events up to ")
                    .append(Html.escape(Human.bytes(m.largestRecordBytes()))).append(")</p>\n");
        }
        for (RehearsalReport.TableReport t : r.tables()) {
            table(sb, t);
        }
        return sb.append("</body></html>\n").toString();
    }

    private static void table(StringBuilder sb, RehearsalReport.TableReport t) {
        RehearsalReport.Sample s = t.sample();
        RehearsalReport.Outcome o = t.outcome();
        RehearsalReport.Projection p = t.projection();
        RehearsalReport.CostPerRow c = t.costPerRow();
        sb.append("<h2>").append(Html.escape(t.source())).append(" &rarr; ").append(Html.escape(t.target())).append("</h2>\n<table>");
        row(sb, "estimated rows", Human.count(t.table().estimatedRows()) + " (" + t.table().estimatedBy() + ")");
        row(sb, "size on disk", Human.bytes(t.table().totalBytes()) + ", TOAST " + Human.share(t.table().toastShare()));
        row(sb, "sample", s.method() + ": " + Human.count(s.rows()) + " rows (" + Human.share(s.fraction()) + ") in " + Human.seconds(s.seconds()));
        row(sb, "rows with a value > 2 kB", Human.share(s.largeValueShare()));
        row(sb, "map", Human.count(o.mapped()));
        row(sb, "excluded by the filter", Human.count(o.excluded()));
        row(sb, "to the DLQ", Human.count(o.dlq()) + " (" + Human.share(o.dlqShare()) + ")");
        row(sb, "duplicate target keys", Human.count(o.duplicateTargetKeys()));
        row(sb, "cost per row", String.format(Locale.ROOT, "read %s, transform %s, events %s, write %s = %s", Human.micros(c.read()),
                Human.micros(c.transform()), Human.micros(c.events()), Human.micros(c.write()), Human.micros(c.total())));
        row(sb, "projected duration (start to caught up)", RehearsalText.duration(p) + " on this machine"
                + (p.duration().reasons().isEmpty() ? "" : ": a range, because " + String.join("; ", p.duration().reasons())));
        row(sb, "projected target size", Human.bytes(p.targetBytes()));
        row(sb, "projected WAL during the snapshot", p.walBytes() == null ? "unknown"
                : Human.bytes(p.walBytes()) + (p.walIncludesTarget() ? " (incl. the new table's: same server)" : ""));
        sb.append("</table>\n");
        if (!o.reasons().isEmpty() || o.duplicateTargetKeys() > 0) {
            sb.append("<h3>Would not arrive as they are</h3>\n");
            reasonBars(sb, o);
        }
        sb.append("<h3>Target columns</h3>\n<table><tr><th>column</th><th>type</th><th>NULL</th><th>longest (chars)</th><th>largest</th><th>do not fit</th></tr>");
        for (RehearsalReport.ColumnReport col : t.columns()) {
            sb.append("<tr><td>").append(Html.escape(col.name())).append("</td><td>").append(Html.escape(col.type())).append("</td><td>")
                    .append(Human.share(col.nullShare())).append("</td><td>").append(Human.count(col.longestChars())).append("</td><td>")
                    .append(Human.bytes(col.largestBytes())).append("</td><td>").append(Human.count(col.misfits())).append("</td></tr>");
        }
        sb.append("</table>\n");
        for (RehearsalReport.ColumnReport col : t.columns()) {
            if (col.lengthHistogram() != null && col.values() > 0) {
                sb.append("<h4>").append(Html.escape(col.name())).append(": value lengths (characters) <span class=\"small\">bar heights on a log scale</span></h4>\n");
                histogram(sb, col.lengthHistogram());
            }
        }
    }

    private static void reasonBars(StringBuilder sb, RehearsalReport.Outcome o) {
        record Bar(String label, double share, long rows, List<String> examples) {
        }
        List<Bar> bars = new java.util.ArrayList<>();
        o.reasons().forEach(g -> bars.add(new Bar(g.title(), g.share(), g.rows(), g.examples())));
        if (o.duplicateTargetKeys() > 0) {
            bars.add(new Bar("duplicate target key", o.duplicateShare(), o.duplicateTargetKeys(), o.duplicateExamples()));
        }
        double max = bars.stream().mapToDouble(Bar::share).max().orElse(1);
        int labelWidth = 260;
        int h = 24;
        sb.append(String.format(Locale.ROOT, "<svg width=\"%d\" height=\"%d\" role=\"img\">", labelWidth + BAR_WIDTH + 160, bars.size() * h + 4));
        for (int i = 0; i < bars.size(); i++) {
            Bar b = bars.get(i);
            int w = max == 0 ? 0 : (int) Math.max(1, Math.round(BAR_WIDTH * b.share() / max));
            int y = i * h;
            sb.append(String.format(Locale.ROOT, "<text x=\"0\" y=\"%d\">%s</text>", y + 16, Html.escape(b.label())));
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"18\" fill=\"#c0392b\"><title>%s</title></rect>",
                    labelWidth, y + 3, w, Html.escape("e.g. " + String.join(", ", b.examples()))));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s (%s rows)</text>", labelWidth + w + 6, y + 16,
                    Human.share(b.share()), Human.count(b.rows())));
        }
        sb.append("</svg>\n<table><tr><th>reason</th><th>example source keys</th></tr>");
        bars.forEach(b -> sb.append("<tr><td>").append(Html.escape(b.label())).append("</td><td style=\"text-align:left\">")
                .append(Html.escape(String.join(", ", b.examples()))).append("</td></tr>"));
        sb.append("</table>\n");
    }

    /** Buckets: 0 = empty, k = 2^(k-1) .. 2^k - 1 characters; only the range that holds values is drawn. */
    private static void histogram(StringBuilder sb, long[] buckets) {
        int first = 0;
        int last = buckets.length - 1;
        while (first < last && buckets[first] == 0) {
            first++;
        }
        while (last > first && buckets[last] == 0) {
            last--;
        }
        long max = 1;
        for (long b : buckets) {
            max = Math.max(max, b);
        }
        int n = last - first + 1;
        int colWidth = 46;
        int height = 120;
        sb.append(String.format(Locale.ROOT, "<svg width=\"%d\" height=\"%d\" role=\"img\">", n * colWidth + 10, height + 40));
        for (int i = 0; i < n; i++) {
            long count = buckets[first + i];
            // Log scale: one 2 MB value among a million short ones must still show.
            int barHeight = count == 0 ? 0 : (int) Math.max(2, Math.round(height * Math.log1p(count) / Math.log1p(max)));
            int x = i * colWidth + 5;
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#2e6da4\"><title>%s values</title></rect>",
                    x, height - barHeight, colWidth - 6, barHeight, Human.count(count)));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>", x, height + 14, Html.escape(bucketLabel(first + i))));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" class=\"small\">%s</text>", x, height + 30, Human.count(count)));
        }
        sb.append("</svg>\n");
    }

    static String bucketLabel(int k) {
        if (k == 0) {
            return "0";
        }
        return "≥" + shortCount(1L << (k - 1));
    }

    private static String shortCount(long n) {
        if (n >= 1 << 20) {
            return (n >> 20) + "M";
        }
        if (n >= 1 << 10) {
            return (n >> 10) + "k";
        }
        return Long.toString(n);
    }

    private static void row(StringBuilder sb, String label, String value) {
        sb.append("<tr><td>").append(Html.escape(label)).append("</td><td>").append(Html.escape(value)).append("</td></tr>");
    }

}
