package io.pgbackfill.ops.rehearse;

import java.util.Locale;

/** Numbers as an operator reads them: 1.2 MiB, 3.10%, 4.2 s, 1.3 µs. */
final class Human {
    private Human() {
    }

    static String bytes(long b) {
        if (b < 1024) {
            return b + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = b;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
    }

    /** A share (0..1) as a percentage with enough digits to tell 0.004% from 0. */
    static String share(double s) {
        return percentNumber(100 * s) + "%";
    }

    static String percentNumber(double p) {
        if (p == 0) {
            return "0";
        }
        if (p >= 10) {
            return String.format(Locale.ROOT, "%.1f", p);
        }
        if (p >= 0.01) {
            return String.format(Locale.ROOT, "%.2f", p);
        }
        return String.format(Locale.ROOT, "%.4f", p);
    }

    static String seconds(double s) {
        if (s < 60) {
            return String.format(Locale.ROOT, "%.1f s", s);
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%d min %02d s", (long) s / 60, (long) s % 60);
        }
        return String.format(Locale.ROOT, "%d h %02d min", (long) s / 3600, (long) s % 3600 / 60);
    }

    static String micros(double us) {
        return String.format(Locale.ROOT, us < 10 ? "%.2f µs" : "%.1f µs", us);
    }

    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
