package io.pgbackfill.ops.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * Where the lag of a set of writes went, stage by stage: each stage's share of a write's lag (p50 and p99 over the
 * writes), and the mean of each stage over the slowest 1% of writes (the tail: which stage made them slow).
 *
 * @param samples writes whose every stage was seen
 * @param stages  one row per stage, in pipeline order
 */
record StageBreakdown(int samples, List<Stage> stages) {
    /** One stage: its p50 and p99 over all writes, and its mean over the slowest 1% of writes (by whole lag). */
    record Stage(String name, double p50, double p99, double tailMean) {
    }

    private static final List<String> NAMES = List.of("source commit -> Debezium record sent", "sent -> in Kafka",
            "in Kafka -> transformed (committed)", "transformed -> visible in target");

    static StageBreakdown of(List<LagSample> all) {
        List<StageTracer.Stages> known = all.stream().map(LagSample::stages)
                .filter(s -> !Double.isNaN(s.produced()) && !Double.isNaN(s.transformed())).toList();
        List<ToDoubleFunction<StageTracer.Stages>> parts = List.of(StageTracer.Stages::produced, s -> s.inRaw() - s.produced(),
                s -> s.transformed() - s.inRaw(), s -> s.visible() - s.transformed());
        if (known.isEmpty()) {
            return new StageBreakdown(0, List.of());
        }
        int tailSize = Math.max(1, (int) Math.ceil(known.size() / 100.0));
        List<StageTracer.Stages> tail = known.stream().sorted(java.util.Comparator.comparingDouble(StageTracer.Stages::visible).reversed())
                .limit(tailSize).toList();
        List<Stage> out = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) {
            ToDoubleFunction<StageTracer.Stages> f = parts.get(i);
            double[] v = known.stream().mapToDouble(f).sorted().toArray();
            out.add(new Stage(NAMES.get(i), rank(v, 0.5), rank(v, 0.99), tail.stream().mapToDouble(f).average().orElse(Double.NaN)));
        }
        return new StageBreakdown(known.size(), out);
    }

    private static double rank(double[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    /** The text report's lines, indented. */
    String describe(String indent) {
        if (samples == 0) {
            return indent + "(no write was seen at every stage)\n";
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s%-40s %8s %8s %16s  (%d writes)%n", indent, "stage", "p50 ms", "p99 ms", "slowest 1% mean", samples));
        for (Stage s : stages) {
            sb.append(String.format(Locale.ROOT, "%s%-40s %8.0f %8.0f %16.0f%n", indent, s.name(), s.p50(), s.p99(), s.tailMean()));
        }
        return sb.toString();
    }
}
