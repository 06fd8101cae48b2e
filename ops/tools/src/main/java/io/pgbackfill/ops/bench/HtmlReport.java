package io.pgbackfill.ops.bench;

import io.pgbackfill.ops.text.Html;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** bench.html: one self-contained page (inline CSS and SVG) with the tables and three kinds of charts. */
final class HtmlReport {
    private static final String PGBACKFILL = "#2b6cb0";
    private static final String OTHER = "#a0aec0";
    private static final String FAILED = "#e53e3e";

    private HtmlReport() {
    }

    static String render(BenchResults r) {
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>pgbackfill bench</title><style>")
                .append("body{font-family:sans-serif;margin:24px;max-width:960px;color:#1a202c}")
                .append("table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #cbd5e0;padding:4px 8px;font-size:13px}")
                .append("th{background:#edf2f7}td.n{text-align:right;font-variant-numeric:tabular-nums}.fail{color:#c53030}.muted{color:#718096}")
                .append("h2{margin-top:28px}</style></head><body>");
        sb.append("<h1>pgbackfill bench</h1>");
        sb.append("<p>").append(Html.escape(Figures.DATE.format(r.startedAt()))).append(" &middot; users table of ")
                .append(Figures.count(r.options().rows())).append(" rows &middot; run took ").append(Figures.seconds(r.totalSeconds())).append(" s</p>");
        sb.append("<p class=\"muted\">").append(Html.escape(Figures.machine(r))).append("</p>");
        sb.append("<p>Same generated table and transform for every approach: <code>name</code> split at the first space into "
                + "<code>first_name</code>/<code>last_name</code>, <code>lower(email)</code>. Seconds run from the approach's start until its "
                + "target holds every row; each target is then verified against an independent SQL statement of the transform "
                + "(EXCEPT both ways, not timed). A target that does not verify is FAILED, not a time.</p>");
        approaches(sb, r);
        sb.append("<h2>Throughput</h2>");
        sb.append(SvgChart.bars(bars(r)));
        if (!r.lagPhases().isEmpty()) {
            lag(sb, r);
        }
        if (!r.problems().isEmpty()) {
            sb.append("<h2>Problems</h2><ul>");
            r.problems().forEach(p -> sb.append("<li class=\"fail\">").append(Html.escape(p)).append("</li>"));
            sb.append("</ul>");
        }
        sb.append("<p><b>").append(r.ok() ? "RESULT: OK" : "RESULT: PROBLEMS").append("</b></p></body></html>\n");
        return sb.toString();
    }

    private static void approaches(StringBuilder sb, BenchResults r) {
        sb.append("<h2>Approaches</h2><table><tr><th>approach</th><th>rows</th><th>seconds</th><th>rows/s</th><th>vs pgbackfill</th>"
                + "<th>result</th><th>notes</th></tr>");
        for (ApproachResult a : r.approaches()) {
            String result = switch (a.status()) {
                case OK -> "OK";
                case FAILED -> "<span class=\"fail\">FAILED: " + Html.escape(a.reason()) + "</span>";
                case NOT_RUN -> "<span class=\"muted\">not run: " + Html.escape(a.reason()) + "</span>";
            };
            sb.append("<tr><td>").append(Html.escape(a.label())).append("</td><td class=\"n\">").append(a.rows() > 0 ? Figures.count(a.rows()) : "-")
                    .append("</td><td class=\"n\">").append(a.ok() ? Figures.seconds(a.seconds()) : "-")
                    .append("</td><td class=\"n\">").append(Figures.rate(a.rowsPerSecond()))
                    .append("</td><td class=\"n\">").append(Figures.ratio(r.ratioToPgbackfill(a)))
                    .append("</td><td>").append(result).append("</td><td>").append(a.note() == null ? "" : Html.escape(a.note())).append("</td></tr>");
        }
        sb.append("</table>");
    }

    private static List<SvgChart.Bar> bars(BenchResults r) {
        List<SvgChart.Bar> bars = new ArrayList<>();
        for (ApproachResult a : r.approaches()) {
            String text = switch (a.status()) {
                case OK -> Figures.rate(a.rowsPerSecond()) + " rows/s (" + Figures.ratio(r.ratioToPgbackfill(a)) + ")";
                case FAILED -> "FAILED";
                case NOT_RUN -> "not run";
            };
            String color = !a.ok() ? FAILED : a.key().equals("pgbackfill") ? PGBACKFILL : OTHER;
            bars.add(new SvgChart.Bar(a.label(), a.rowsPerSecond(), text, color));
        }
        return bars;
    }

    private static void lag(StringBuilder sb, BenchResults r) {
        LagResult first = r.lagPhases().get(0);
        sb.append("<h2>CDC lag and memory</h2>");
        sb.append(String.format(Locale.ROOT, "<p>pgbackfill (same pipeline) on tables of several sizes while a writer makes %,d inserts and updates per "
                + "second, each stamping <code>created_at</code> with <code>clock_timestamp()</code>. A probe looks the tracked writes up in "
                + "<code>users_v2</code> by key every %d ms (less often while a backlog builds up during the snapshot): lag = PostgreSQL's clock "
                + "when the row is first seen there minus the write's stamp. "
                + "&ldquo;Streaming&rdquo; counts writes made from " + LagPhase.SETTLE_SECONDS + " s after the snapshot finished (or from when the "
                + "target had caught up with it, if later); the writes before that are shown apart. Peak heap is the most heap in use (HeapWatch; garbage "
                + "included, so it follows the collector's sizing); live heap is the bytes still reachable at the end of the phase (the JVM's class histogram), "
                + "the pipeline still running (the in-process broker and earlier phases' figures included; the lag samples reduced to statistics); pipeline heap is that "
                + "less the same reading once the pipeline had closed: what the stages themselves hold; peak RSS is VmHWM of this JVM, which also holds the in-process Kafka broker.</p>", first.targetWriteRate(), first.pollMillis()));
        sb.append("<table><tr><th>table rows</th><th>snapshot s</th><th>snapshot rows/s</th><th>writes/s</th><th>streaming p50 / p95 / p99 / max ms (samples)</th>"
                + "<th>first " + LagPhase.SETTLE_SECONDS + " s after the snapshot p50 / p99 ms</th><th>during snapshot p50 / p99 / max ms</th><th>peak heap</th><th>live heap</th><th>pipeline heap</th><th>peak RSS</th><th>result</th></tr>");
        for (LagResult l : r.lagPhases()) {
            sb.append("<tr><td class=\"n\">").append(Figures.count(l.rows())).append("</td><td class=\"n\">").append(Figures.seconds(l.snapshotSeconds()))
                    .append("</td><td class=\"n\">").append(Figures.rate(l.snapshotRowsPerSecond()))
                    .append("</td><td class=\"n\">").append(Figures.rate(l.achievedWriteRate()))
                    .append("</td><td class=\"n\">").append(Figures.millis(l.streaming().p50())).append(" / ").append(Figures.millis(l.streaming().p95()))
                    .append(" / ").append(Figures.millis(l.streaming().p99())).append(" / ").append(Figures.millis(l.streaming().max()))
                    .append(" (").append(l.streaming().samples()).append(")")
                    .append("</td><td class=\"n\">").append(Figures.millis(l.afterSnapshot().p50())).append(" / ").append(Figures.millis(l.afterSnapshot().p99()))
                    .append("</td><td class=\"n\">").append(Figures.millis(l.duringSnapshot().p50())).append(" / ")
                    .append(Figures.millis(l.duringSnapshot().p99())).append(" / ").append(Figures.millis(l.duringSnapshot().max()))
                    .append("</td><td class=\"n\">").append(Figures.mib(l.peakHeapBytes()))
                    .append("</td><td class=\"n\">").append(Figures.mib(l.liveHeapBytes()))
                    .append("</td><td class=\"n\">").append(Figures.mib(l.pipelineHeapBytes()))
                    .append("</td><td class=\"n\">").append(Figures.mib(l.peakRssBytes()))
                    .append("</td><td>").append(l.ok() ? "verified" : "<span class=\"fail\">NOT verified: " + l.mismatches() + " mismatches, "
                            + l.untrackedAtEnd() + " writes never seen</span>").append("</td></tr>");
        }
        sb.append("</table>");
        for (LagResult l : r.lagPhases()) {
            List<SvgChart.Marker> snapshot = List.of(new SvgChart.Marker(l.snapshotSeconds(), "snapshot done"));
            List<double[]> p50 = new ArrayList<>();
            List<double[]> p99 = new ArrayList<>();
            List<double[]> max = new ArrayList<>();
            for (LagTimeline.Point p : l.timeline()) {
                p50.add(new double[] {p.second(), p.p50()});
                p99.add(new double[] {p.second(), p.p99()});
                max.add(new double[] {p.second(), p.max()});
            }
            sb.append("<h3>Lag over time, ").append(Figures.count(l.rows())).append(" rows</h3>");
            sb.append(SvgChart.lines("seconds since the pipeline started (time of the write)", "lag, ms",
                    List.of(new SvgChart.Series("p50 per second", PGBACKFILL, p50), new SvgChart.Series("p99", "#dd6b20", p99),
                            new SvgChart.Series("max", "#e53e3e", true, max)), snapshot));
            List<double[]> heap = new ArrayList<>();
            List<double[]> rss = new ArrayList<>();
            for (MemorySampler.Sample s : l.memory()) {
                heap.add(new double[] {s.seconds(), s.heapUsedBytes() / (double) (1 << 20)});
                rss.add(new double[] {s.seconds(), s.rssBytes() < 0 ? Double.NaN : s.rssBytes() / (double) (1 << 20)});
            }
            sb.append("<h3>Memory over time, ").append(Figures.count(l.rows())).append(" rows</h3>");
            sb.append(SvgChart.lines("seconds since the pipeline started", "MiB",
                    List.of(new SvgChart.Series("heap in use", PGBACKFILL, heap), new SvgChart.Series("RSS (whole JVM)", "#38a169", rss)), snapshot));
        }
    }

}
