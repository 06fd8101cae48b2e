package io.pgbackfill.ops.rehearse;

import io.pgbackfill.core.memory.MemoryBudget;
import java.util.Locale;

/**
 * The pipeline's peak heap, predicted from the sampled record sizes and the settings in force (docs/rehearse.md).
 * Each stage holds up to its byte budget of records, or fewer when its row counts fill first, each about
 * {@link MemoryBudget#COPIES} times over (fetched, decoded, encoded, buffered to send); the largest record passes
 * through a stage alone but {@link #LARGE_COPIES} times over (its JSON bytes, the parser's characters at two bytes
 * each, the decoded text, the encoded output, the producer's copy). With several stages in one JVM they add up.
 *
 * @param heapBytes          the heap the pipeline runs with
 * @param stagesPerJvm       stages in one JVM (3 for {@code backfill up}, 1 for the services)
 * @param budget             the byte budget of each stage in force
 * @param averageRecordBytes the sampled rows' average event size (the larger of raw event and row change)
 * @param largestRecordBytes the sampled rows' largest event
 * @param sinkBatchRows      {@code sink.batchSize}
 * @param heldPerStageBytes  records one stage holds at the peak: its budget, or its largest row count of such rows
 * @param peakBytes          predicted peak heap of one JVM
 */
public record MemoryEstimate(long heapBytes, int stagesPerJvm, long stageBudgetBytes, boolean budgetFromSpec, long averageRecordBytes,
                             long largestRecordBytes, int sinkBatchRows, long heldPerStageBytes, long peakBytes) {
    /** Copies of the largest record a stage holds at once while it passes. */
    public static final int LARGE_COPIES = 6;
    /** The largest row count any stage uses when rows are small (Debezium's queue: 4 batches of 2048). */
    static final int MOST_ROWS = 8192;

    public static MemoryEstimate of(MemoryBudget budget, int sinkBatchRows, long averageRecordBytes, long largestRecordBytes) {
        long held = Math.min(budget.stageBytes(), Math.max(MOST_ROWS, sinkBatchRows) * Math.max(0, averageRecordBytes));
        long perStage = MemoryBudget.COPIES * held + LARGE_COPIES * largestRecordBytes;
        long peak = MemoryBudget.BASE_BYTES + (long) budget.stages() * perStage;
        return new MemoryEstimate(budget.heapBytes(), budget.stages(), budget.stageBytes(), budget.fromSpec(), averageRecordBytes,
                largestRecordBytes, sinkBatchRows, held, peak);
    }

    /**
     * The smallest heap (in steps of 64 MiB) this would fit in. A derived budget grows with the heap, so this is more
     * than {@link #peakBytes}: the budget's share stays half of what is above the base.
     */
    public long neededHeapBytes() {
        long step = 64 * MemoryBudget.MIB;
        for (long h = heapBytes; h < (1L << 42); h += step) {
            MemoryBudget b = budgetFromSpec ? new MemoryBudget(h, stagesPerJvm, stageBudgetBytes, true)
                    : MemoryBudget.derive(io.pgbackfill.core.spec.MemorySpec.DEFAULT, h, stagesPerJvm);
            if (of(b, sinkBatchRows, averageRecordBytes, largestRecordBytes).fits()) {
                return h;
            }
        }
        return 1L << 42;
    }

    public boolean fits() {
        return peakBytes <= heapBytes;
    }

    /** Why it does not fit, and the setting to change; null when it fits. */
    public String problem() {
        if (fits()) {
            return null;
        }
        long mib = MemoryBudget.MIB;
        String head = String.format(Locale.ROOT, "predicted peak heap %s exceeds the heap of %s (%d %s in one JVM, records up to %s, %s held per stage)",
                Human.bytes(peakBytes), Human.bytes(heapBytes), stagesPerJvm, stagesPerJvm == 1 ? "stage" : "stages",
                Human.bytes(largestRecordBytes), Human.bytes(heldPerStageBytes));
        long forLargest = MemoryBudget.BASE_BYTES + (long) stagesPerJvm * LARGE_COPIES * largestRecordBytes;
        long neededMiB = (neededHeapBytes() + mib - 1) / mib;
        if (forLargest * 5 / 4 > heapBytes) {
            // Even one record at a time does not leave room for the budget: only a larger heap (or fewer stages per JVM) helps.
            return head + ": raise the heap to at least -Xmx" + neededMiB + "m"
                    + (stagesPerJvm > 1 ? ", or run producer, transformer and sink as separate services (one stage per JVM)" : "");
        }
        long roomPerStage = (heapBytes - forLargest) / stagesPerJvm / MemoryBudget.COPIES;
        return head + ": lower memory.stageBudgetMiB to " + Math.max(1, roomPerStage / mib) + " (it is " + stageBudgetBytes / mib
                + (budgetFromSpec ? "" : ", derived from the heap") + ") or raise the heap to -Xmx" + neededMiB + "m";
    }
}
