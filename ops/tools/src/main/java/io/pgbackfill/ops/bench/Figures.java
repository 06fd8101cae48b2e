package io.pgbackfill.ops.bench;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** How numbers read in the reports: the text table, the HTML and BENCHMARKS.md say them the same way. */
final class Figures {
    static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);

    private Figures() {
    }

    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    static String rate(double perSecond) {
        return Double.isNaN(perSecond) ? "-" : String.format(Locale.ROOT, "%,.0f", perSecond);
    }

    static String seconds(double s) {
        return Double.isNaN(s) ? "-" : String.format(Locale.ROOT, s < 10 ? "%.2f" : "%.1f", s);
    }

    static String ratio(double r) {
        if (Double.isNaN(r) || Double.isInfinite(r)) {
            return "-";
        }
        return String.format(Locale.ROOT, r < 0.1 ? "%.3fx" : r < 10 ? "%.2fx" : "%.1fx", r);
    }

    static String millis(double ms) {
        return Double.isNaN(ms) ? "-" : String.format(Locale.ROOT, "%,.0f", ms);
    }

    static String mib(long bytes) {
        return bytes < 0 ? "-" : String.format(Locale.ROOT, "%,d MiB", bytes >> 20);
    }

    static String gib(long bytes) {
        return bytes < 0 ? "-" : String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }

    static String status(ApproachResult r) {
        return switch (r.status()) {
            case OK -> "OK";
            case FAILED -> "FAILED";
            case NOT_RUN -> "not run";
        };
    }

    static String machine(BenchResults r) {
        MachineInfo m = r.machine();
        return m.cores() + " cores (" + m.cpu() + "), " + gib(m.memoryBytes()) + " RAM; " + m.os() + "; " + m.java() + "; " + m.postgres()
                + " (" + m.infrastructure() + "); load average (1/5/15 min) " + m.loadAverage() + " at start, " + r.loadAverageAtEnd() + " at end";
    }
}
