package io.pgbackfill.ops.metrics;

import io.pgbackfill.core.Redaction;

/**
 * What {@code /health} answers: {@code up} becomes HTTP 200, anything else 503. A stage is up once it has
 * started and for as long as it runs without a failure; orchestrators restart it when it is not.
 */
public record Health(boolean up, String detail) {

    public static Health starting() {
        return new Health(false, "starting");
    }

    public static Health running() {
        return new Health(true, "running");
    }

    public static Health down(String why) {
        return new Health(false, why);
    }

    /** Up unless the stage reported a failure (the message is redacted: health answers are unauthenticated). */
    public static Health of(Throwable failure) {
        return failure == null ? running() : down("failed: " + Redaction.redact(String.valueOf(failure.getMessage())));
    }
}
