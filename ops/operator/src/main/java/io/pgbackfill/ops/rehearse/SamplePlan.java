package io.pgbackfill.ops.rehearse;

import java.util.Locale;

/**
 * Which part of a table is read: {@code TABLESAMPLE SYSTEM (percent) REPEATABLE (seed)}, and with {@code --rows}
 * a LIMIT. SYSTEM picks whole pages at random, so a 1% sample reads about 1% of the table's pages instead of
 * scanning it (BERNOULLI would visit every page to pick rows).
 */
public record SamplePlan(double percent, long limit, long seed) {
    /** Over-asks by this factor with {@code --rows}, so the LIMIT, not the luck of the page draw, sets the size. */
    private static final double ROWS_SLACK = 1.15;

    public static SamplePlan of(RehearsalOptions options, long estimatedRows) {
        if (options.samplePercent() != null) {
            return new SamplePlan(options.samplePercent(), -1, options.seed());
        }
        long want = options.sampleRows();
        double percent = estimatedRows <= want ? 100 : Math.min(100, 100.0 * ROWS_SLACK * want / estimatedRows);
        return new SamplePlan(percent, want, options.seed());
    }

    /** The FROM-clause suffix (numbers only, formatted here: nothing from outside is spliced). */
    public String clause() {
        return String.format(Locale.ROOT, "TABLESAMPLE SYSTEM (%.6f) REPEATABLE (%d)", percent, seed) + (limit > 0 ? " LIMIT " + limit : "");
    }

    public String describe() {
        return String.format(Locale.ROOT, "SYSTEM(%s%%) REPEATABLE(%d)%s", Human.percentNumber(percent), seed, limit > 0 ? String.format(Locale.ROOT, " LIMIT %,d", limit) : "");
    }
}
