package io.pgbackfill.ops.rehearse;

/**
 * Time per step of the rows, so the projection rests on measurements, not guesses. The first
 * {@value #WARMUP_ROWS} rows are left out when the sample is large enough: they pay for class loading
 * and a cold JIT, which a snapshot of millions of rows pays once, not per row. Samples too small for
 * that are measured whole (their projection is small anyway).
 */
final class CostMeter {
    static final int WARMUP_ROWS = 1000;

    private static final class Sums {
        long rows;
        long read;
        long transform;
        long events;
        long writeNanos;
        long writeRows;
    }

    private final Sums all = new Sums();
    private final Sums warm = new Sums();
    private long rows;

    void row(long readNanos, long transformNanos, long eventsNanos) {
        rows++;
        add(all, readNanos, transformNanos, eventsNanos);
        if (rows > WARMUP_ROWS) {
            add(warm, readNanos, transformNanos, eventsNanos);
        }
    }

    /** A write batch of {@code batchRows} rows. */
    void write(long nanos, int batchRows) {
        all.writeNanos += nanos;
        all.writeRows += batchRows;
        if (rows > WARMUP_ROWS) {
            warm.writeNanos += nanos;
            warm.writeRows += batchRows;
        }
    }

    /**
     * Microseconds per sampled row for each step. Writing is measured per written row and spread over
     * the sample by the share that was written, so the four parts add up to the cost of one sampled row.
     */
    RehearsalReport.CostPerRow perSampledRow(long rowsWritten, long sampled) {
        Sums s = warm.rows >= WARMUP_ROWS && warm.writeRows > 0 ? warm : all;
        if (s.rows == 0) {
            return new RehearsalReport.CostPerRow(0, 0, 0, 0);
        }
        double writtenShare = sampled == 0 ? 0 : (double) rowsWritten / sampled;
        double write = s.writeRows == 0 ? 0 : (double) s.writeNanos / s.writeRows * writtenShare;
        return new RehearsalReport.CostPerRow(s.read / 1e3 / s.rows, s.transform / 1e3 / s.rows, s.events / 1e3 / s.rows, write / 1e3);
    }

    private static void add(Sums s, long read, long transform, long events) {
        s.rows++;
        s.read += read;
        s.transform += transform;
        s.events += events;
    }
}
