package io.pgbackfill.ops.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/** Lag samples grouped by the second they were written in: p50, p99 and max per second, for charts and the JSON. */
final class LagTimeline {
    /** One second of writes: lags in milliseconds. */
    record Point(double second, int samples, double p50, double p99, double max) {
    }

    private LagTimeline() {
    }

    static List<Point> perSecond(List<LagSample> samples) {
        TreeMap<Long, List<LagSample>> bySecond = new TreeMap<>();
        for (LagSample s : samples) {
            bySecond.computeIfAbsent((long) Math.floor(s.writtenAtSeconds()), k -> new ArrayList<>()).add(s);
        }
        List<Point> out = new ArrayList<>();
        bySecond.forEach((second, group) -> {
            LagStats st = LagStats.of(group);
            out.add(new Point(second, st.samples(), st.p50(), st.p99(), st.max()));
        });
        return out;
    }
}
