package io.pgbackfill.producer.throttle;

/**
 * The outcome of one round of source-health checks.
 *
 * @param level     {@code clear}, {@code throttled} or {@code critical}
 * @param check     the check that decided it ({@code replicaLag}, {@code slotRetained}, {@code query}), null when clear
 * @param current   its value now (ms, MiB, 1 for a query that said true)
 * @param threshold the threshold it passed
 */
public record ThrottleVerdict(String level, String check, double current, double threshold, String detail) {
    public static final ThrottleVerdict CLEAR = new ThrottleVerdict("clear", null, 0, 0, null);

    public boolean throttles() {
        return !"clear".equals(level);
    }

    public boolean critical() {
        return "critical".equals(level);
    }

    public String describe() {
        if (!throttles()) {
            return "clear";
        }
        return level + " by " + check + (detail != null ? " (" + detail + ")" : String.format(java.util.Locale.ROOT, " (%.0f > %.0f)", current, threshold));
    }
}
