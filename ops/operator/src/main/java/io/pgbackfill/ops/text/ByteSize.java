package io.pgbackfill.ops.text;

import java.util.Locale;

/** A byte count as an operator reads it in status screens and progress lines: 512 B, 3.0 MiB, 5.0 GiB. */
public final class ByteSize {
    private ByteSize() {
    }

    /** Binary units with one decimal; NaN (not known yet) is "?". */
    public static String format(double b) {
        if (Double.isNaN(b)) {
            return "?";
        }
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        while (b >= 1024 && u < units.length - 1) {
            b /= 1024;
            u++;
        }
        return u == 0 ? String.format(Locale.ROOT, "%d B", (long) b) : String.format(Locale.ROOT, "%.1f %s", b, units[u]);
    }
}
