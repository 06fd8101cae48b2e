package io.pgbackfill.ops.bench;

import java.util.List;

/** Percentiles of a set of lags (nearest rank), in milliseconds. */
record LagStats(int samples, double p50, double p95, double p99, double max) {

    static LagStats of(List<LagSample> samples) {
        double[] lags = samples.stream().mapToDouble(LagSample::lagMillis).sorted().toArray();
        if (lags.length == 0) {
            return new LagStats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        return new LagStats(lags.length, rank(lags, 0.50), rank(lags, 0.95), rank(lags, 0.99), lags[lags.length - 1]);
    }

    private static double rank(double[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
