package io.pgbackfill.ops.control;

import io.pgbackfill.core.control.ControlEntry;
import io.pgbackfill.core.control.ControlState;
import io.pgbackfill.core.spec.PipelineSpec;
import java.time.Instant;
import java.util.Locale;

/** The CONTROL section of {@code status} and what {@code backfill ctl} prints. */
public final class ControlScreen {
    private ControlScreen() {
    }

    public static String render(ControlState s, PipelineSpec spec) {
        StringBuilder sb = new StringBuilder("CONTROL\n");
        sb.append("  state: ").append(state(s)).append('\n');
        s.throttled().ifPresent(t -> sb.append("  throttled by ").append(t.check())
                .append(t.current() == null ? "" : String.format(Locale.ROOT, ": %.0f%s vs threshold %.0f%s", t.current(), unit(t.check()), t.threshold(), unit(t.check())))
                .append(t.reason() == null ? "" : " (" + t.reason() + ")").append(", since ").append(Instant.ofEpochMilli(t.atMs())).append('\n'));
        Long rate = s.rateLimit(spec.throttle().rowsPerSecond());
        sb.append("  snapshot rate limit: ").append(rate == null ? "none" : String.format(Locale.ROOT, "%,d rows/s", rate))
                .append(source(s.get(ControlState.RATE_LIMIT).orElse(null), spec.throttle().rowsPerSecond() != null)).append('\n');
        sb.append("  snapshot chunk size: ").append(String.format(Locale.ROOT, "%,d rows", s.chunkSize(spec.snapshot().chunkSize())))
                .append(source(s.get(ControlState.CHUNK_SIZE).orElse(null), true)).append('\n');
        s.cutover().ifPresent(c -> sb.append("  cutover ").append(c.value()).append(" by ").append(c.by()).append(c.reason() == null ? "" : " (" + c.reason() + ")")
                .append(" at ").append(Instant.ofEpochMilli(c.atMs())).append('\n'));
        return sb.toString();
    }

    /** running, or paused with who and why, or throttled. */
    public static String state(ControlState s) {
        if (s.paused()) {
            ControlEntry p = s.pause().orElseThrow();
            return "PAUSED by " + p.by() + (p.reason() == null ? "" : " (" + p.reason() + ")") + " at " + Instant.ofEpochMilli(p.atMs())
                    + "; resume: backfill ctl SPEC resume";
        }
        return s.throttled().map(t -> "THROTTLED (" + t.value() + ")").orElse("running");
    }

    private static String source(ControlEntry e, boolean specHasIt) {
        if (e != null) {
            return " (set by " + e.by() + " at " + Instant.ofEpochMilli(e.atMs()) + ")";
        }
        return specHasIt ? " (spec)" : "";
    }

    private static String unit(String check) {
        return switch (check == null ? "" : check) {
            case "replicaLag" -> " ms";
            case "slotRetained" -> " MiB";
            default -> "";
        };
    }
}
