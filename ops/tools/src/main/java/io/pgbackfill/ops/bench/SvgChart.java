package io.pgbackfill.ops.bench;

import io.pgbackfill.ops.text.Html;
import java.util.List;
import java.util.Locale;

/** Inline SVG charts for the HTML report: horizontal bars and line charts, no script, no external files. */
final class SvgChart {
    /** A line: its name in the legend, its colour, its points (x, y). */
    record Series(String name, String color, boolean dashed, List<double[]> points) {
        Series(String name, String color, List<double[]> points) {
            this(name, color, false, points);
        }
    }

    /** A vertical line at {@code x} with a label (e.g. "snapshot done"). */
    record Marker(double x, String label) {
    }

    /** One bar; a NaN value draws no bar, only its text. */
    record Bar(String label, double value, String text, String color) {
    }

    private static final int WIDTH = 900;

    private SvgChart() {
    }

    static String bars(List<Bar> bars) {
        // Room for the longest label at ~7 px a character, and for the value text after the longest bar.
        int labelWidth = 20 + 7 * bars.stream().mapToInt(b -> b.label().length()).max().orElse(20);
        int barArea = WIDTH - labelWidth - 190;
        int rowHeight = 34;
        double max = bars.stream().mapToDouble(Bar::value).filter(v -> !Double.isNaN(v)).max().orElse(1);
        StringBuilder sb = new StringBuilder();
        int height = rowHeight * bars.size() + 10;
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"sans-serif\" font-size=\"13\">", WIDTH, height, WIDTH, height));
        for (int i = 0; i < bars.size(); i++) {
            Bar b = bars.get(i);
            int y = 5 + i * rowHeight;
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", labelWidth - 10, y + 20, Html.escape(b.label())));
            double w = Double.isNaN(b.value()) ? 0 : Math.max(2, b.value() / max * barArea);
            if (w > 0) {
                sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>", labelWidth, y + 5, w,
                        rowHeight - 10, b.color()));
            }
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\">%s</text>", labelWidth + w + 8, y + 20, Html.escape(b.text())));
        }
        return sb.append("</svg>").toString();
    }

    static String lines(String xLabel, String yLabel, List<Series> series, List<Marker> markers) {
        int height = 320;
        int left = 70;
        int right = 20;
        int top = 30;
        int bottom = 45;
        double maxX = 0;
        double maxY = 0;
        for (Series s : series) {
            for (double[] p : s.points()) {
                if (!Double.isNaN(p[1])) {
                    maxX = Math.max(maxX, p[0]);
                    maxY = Math.max(maxY, p[1]);
                }
            }
        }
        for (Marker m : markers) {
            maxX = Math.max(maxX, m.x());
        }
        double stepX = niceStep(maxX <= 0 ? 1 : maxX, 8);
        double stepY = niceStep(maxY <= 0 ? 1 : maxY, 5);
        double spanX = Math.max(stepX, Math.ceil(maxX / stepX) * stepX);
        double spanY = Math.max(stepY, Math.ceil(maxY * 1.05 / stepY) * stepY);
        int plotW = WIDTH - left - right;
        int plotH = height - top - bottom;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"sans-serif\" font-size=\"12\">", WIDTH, height, WIDTH, height));
        for (double y = 0; y <= spanY + 1e-9; y += stepY) {
            double py = top + plotH - y / spanY * plotH;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>", left, py, left + plotW, py));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", left - 6, py + 4, tick(y)));
        }
        for (double x = 0; x <= spanX + 1e-9; x += stepX) {
            double px = left + x / spanX * plotW;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>", px, top, px, top + plotH));
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>", px, top + plotH + 16, tick(x)));
        }
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>", left, top, plotW, plotH));
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>", left + plotW / 2, height - 6, Html.escape(xLabel)));
        sb.append(String.format(Locale.ROOT, "<text x=\"14\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 14 %d)\">%s</text>",
                top + plotH / 2, top + plotH / 2, Html.escape(yLabel)));
        for (Marker m : markers) {
            double px = left + m.x() / spanX * plotW;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#555\" stroke-dasharray=\"4 3\"/>",
                    px, top, px, top + plotH));
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" fill=\"#555\">%s</text>", px + 4, top + 12, Html.escape(m.label())));
        }
        int legendX = left + 10;
        for (Series s : series) {
            StringBuilder path = new StringBuilder();
            for (double[] p : s.points()) {
                if (Double.isNaN(p[1])) {
                    continue;
                }
                path.append(path.length() == 0 ? "M" : " L").append(String.format(Locale.ROOT, "%.1f %.1f",
                        left + p[0] / spanX * plotW, top + plotH - p[1] / spanY * plotH));
            }
            sb.append(String.format(Locale.ROOT, "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"%s/>", path, s.color(),
                    s.dashed() ? " stroke-dasharray=\"5 3\"" : ""));
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"4\" fill=\"%s\"/>", legendX, top - 16, s.color()));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>", legendX + 18, top - 10, Html.escape(s.name())));
            legendX += 30 + s.name().length() * 7;
        }
        return sb.append("</svg>").toString();
    }

    /** 1, 2 or 5 times a power of ten, giving about {@code ticks} steps over {@code range}. */
    static double niceStep(double range, int ticks) {
        double raw = range / ticks;
        double pow = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / pow;
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
    }

    private static String tick(double v) {
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%,d", (long) v) : String.format(Locale.ROOT, "%.2f", v);
    }

}
