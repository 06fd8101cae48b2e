package io.pgbackfill.ops.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How one approach did. {@code seconds} runs from the approach's start until its target held every row;
 * the verification that follows is timed apart ({@code verifySeconds}). A target that does not verify is
 * {@link Status#FAILED}: its time is never reported as a result.
 */
public record ApproachResult(String key, String label, Status status, long rows, double seconds, double verifySeconds,
                             String note, String reason, Map<String, Object> extras) {

    public enum Status { OK, FAILED, NOT_RUN }

    public ApproachResult {
        extras = extras == null ? Map.of() : new LinkedHashMap<>(extras);
    }

    public static ApproachResult verified(Approach a, long rows, double seconds, double verifySeconds, long mismatches, String note,
                                          Map<String, Object> extras) {
        if (mismatches != 0) {
            return new ApproachResult(a.key(), a.label(), Status.FAILED, rows, seconds, verifySeconds, note,
                    mismatches + " rows differ from the expected target", extras);
        }
        return new ApproachResult(a.key(), a.label(), Status.OK, rows, seconds, verifySeconds, note, null, extras);
    }

    public static ApproachResult failed(Approach a, String reason) {
        return new ApproachResult(a.key(), a.label(), Status.FAILED, 0, Double.NaN, Double.NaN, null, reason, null);
    }

    public static ApproachResult notRun(Approach a, String reason) {
        return new ApproachResult(a.key(), a.label(), Status.NOT_RUN, 0, Double.NaN, Double.NaN, null, reason, null);
    }

    public boolean ok() {
        return status == Status.OK;
    }

    /** Rows per second, or NaN when the approach did not produce a verified target. */
    public double rowsPerSecond() {
        return ok() && seconds > 0 ? rows / seconds : Double.NaN;
    }
}
