package io.pgbackfill.core.control;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One setting on the control topic, as JSON: {@code {"value":"…","by":"…","reason":"…","atMs":…}}; the throttle report
 * adds {@code check}, {@code current} and {@code threshold}. The record's key is the setting's name (see
 * {@link ControlState}); a tombstone clears the setting.
 *
 * @param by who set it: {@code user@host} for {@code backfill ctl}, {@code producer} for the throttle report,
 *           {@code throttle:<check>} for a pause by a critical threshold
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ControlEntry(String value, String by, String reason, long atMs, String check, Double current, Double threshold) {
    public static ControlEntry of(String value, String by, String reason) {
        return new ControlEntry(value, by, reason, System.currentTimeMillis(), null, null, null);
    }
}
