package io.pgbackfill.ops.rehearse;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * Everything a rehearsal found, as plain data: the text, JSON and HTML reports all render this one
 * value, so they cannot disagree. Shares are fractions (0.031 = 3.1%), durations seconds, sizes bytes.
 */
public record RehearsalReport(String pipeline, String specFile, Wal wal, List<TableReport> tables, Verdict verdict, MemoryEstimate memory) {

    public RehearsalReport(String pipeline, String specFile, Wal wal, List<TableReport> tables, Verdict verdict) {
        this(pipeline, specFile, wal, tables, verdict, null);
    }

    /**
     * The source's WAL write rate, watched over a short window before sampling.
     *
     * @param bytesPerSecond null when the source cannot say (a standby)
     * @param keepSizeBytes  max_slot_wal_keep_size; null = unlimited
     */
    public record Wal(Double bytesPerSecond, double windowSeconds, Long keepSizeBytes) {
    }

    public record TableReport(String source, String target, TableFacts table, Sample sample, Outcome outcome,
                              List<ColumnReport> columns, CostPerRow costPerRow, Projection projection) {
    }

    /**
     * @param fraction         rows sampled / estimated rows (at most 1)
     * @param largeValueShare  share of sampled rows with a value over 2 kB (PostgreSQL TOASTs such rows)
     */
    public record Sample(String method, long rows, double fraction, double seconds, double largeValueShare) {
    }

    /**
     * What would happen to the sampled rows.
     *
     * @param mapped               rows that reach the target
     * @param excluded             rows the spec's filter leaves out
     * @param dlq                  rows that would go to the DLQ (all reasons)
     * @param duplicateTargetKeys  sampled rows whose target key another sampled row already produced: in the
     *                             pipeline the later one silently overwrites the earlier
     * @param duplicateExamples    up to five of them: source key -> target key
     * @param duplicatesInTableLow / High  the same scaled to the table: a pair is sampled with probability
     *                             f (both rows on one page) to f² (on different pages)
     * @param keyCapHit            the duplicate check stopped remembering keys (see {@link KeyHashSet})
     * @param trialWriteFailure    the trial write could not run at all (e.g. no unique index for the upsert)
     */
    public record Outcome(long mapped, long excluded, long dlq, double dlqShare, List<RejectGroup> reasons,
                          long duplicateTargetKeys, double duplicateShare, List<String> duplicateExamples,
                          long duplicatesInTableLow, long duplicatesInTableHigh,
                          boolean keyCapHit, String trialWriteFailure) {
    }

    public record RejectGroup(String reason, String column, long rows, double share, List<String> examples, String message) {
        @JsonProperty
        public String title() {
            return column == null ? reason : reason + " in " + column;
        }
    }

    /** @param lengthHistogram value lengths in powers of two, for text-like columns; null for others */
    public record ColumnReport(String name, String type, long values, double nullShare, long longestChars, long largestBytes,
                               long misfits, long[] lengthHistogram) {
    }

    /**
     * Measured on this machine, in microseconds per sampled row (each step's total time divided by all
     * sampled rows, so they add up): reading (JDBC fetch and conversion), the transform, the event JSON
     * the pipeline encodes and decodes between its stages, and the sink's write path (COPY into a stage,
     * upsert) into a temporary copy of the target.
     */
    public record CostPerRow(double read, double transform, double events, double write) {
        @JsonProperty
        public double total() {
            return read + transform + events + write;
        }
    }

    /**
     * The full table, from the sample.
     *
     * @param duration         start to the target caught up, by {@link DurationModel}: the measured cost per row
     *                         plus the pipeline's own per-record and per-byte cost; a range, with the reasons, when
     *                         the conditions of the measurement leave it open
     * @param eventBytes       the sample's average event size, the model's per-byte input
     * @param cpuShare         the share of a core the rehearsal got ({@link CpuShare}): below 1, its timings include waiting
     * @param targetBytes      the temporary copy's size (heap, TOAST, indexes) scaled to the table
     * @param walBytes         WAL written while the snapshot runs: the source's rate × duration, plus the target
     *                         table's own writes when it lives in the source's cluster; the slot keeps all of it
     *                         whenever the pipeline falls behind. Null when the rate is unknown.
     * @param walIncludesTarget whether {@code walBytes} counts the target's writes (same server as the source)
     */
    public record Projection(DurationModel.Estimate duration, long eventBytes, double cpuShare, long targetBytes, Long walBytes, boolean walIncludesTarget) {
        /** The model's estimate in seconds (what the WAL projection multiplies). */
        @JsonProperty
        public double snapshotSeconds() {
            return duration.seconds();
        }
    }

    /** READY, or what blocks it; warnings do not block. */
    public record Verdict(boolean ready, List<String> blocking, List<String> warnings) {
        @JsonProperty
        public String line() {
            return ready ? "READY" : "NOT READY: " + String.join("; ", blocking);
        }
    }
}
