package io.pgbackfill.sink.bench;

/**
 * One measured path. {@code wallSeconds}: from start (consumer group join included) to the last row
 * committed. {@code steadyRowsPerSecond}: rows after the first committed batch over the time after it,
 * so group join and connection setup do not count against short runs.
 */
record BenchResult(String path, int batchSize, long rows, double wallSeconds, double steadyRowsPerSecond) {

    double ratioTo(BenchResult baseline) {
        return steadyRowsPerSecond / baseline.steadyRowsPerSecond;
    }
}
