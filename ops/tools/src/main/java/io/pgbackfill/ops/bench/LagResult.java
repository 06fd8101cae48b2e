package io.pgbackfill.ops.bench;

import java.util.List;

/**
 * What one lag phase measured: pgbackfill on a {@code rows}-row table while a writer changed it.
 *
 * @param caughtUpAfterSeconds how long after the producer finished the snapshot the target had caught up with it
 * @param streaming        lags of writes made from {@value LagPhase#SETTLE_SECONDS} s after the snapshot finished, or from when the target
 *                         caught up with it if that was later: the steady-state CDC lag
 * @param afterSnapshot    lags of writes made between the end of the snapshot and the steady state
 * @param duringSnapshot   lags of writes made while the snapshot was still copying
 * @param startup          those of them made in the pipeline's first {@value LagPhase#STARTUP_SECONDS} s (cold JVM, stages starting)
 * @param afterStartup     the others: made while the snapshot copied, once the pipeline had started
 * @param streamingStages  where the streaming lag went, stage by stage ({@link StageTracer})
 * @param afterSnapshotStages the same for the first {@value LagPhase#SETTLE_SECONDS} s after the snapshot
 * @param startupStages    the same for the writes of {@code startup}
 * @param afterStartupStages the same for the writes of {@code afterStartup}
 * @param peakHeapBytes    peak heap in use over the phase (HeapWatch): garbage included, so it follows the collector's sizing
 * @param liveHeapBytes    bytes still reachable at the end of the phase (class histogram), the pipeline still running: the whole JVM's (the
 *                         in-process broker and earlier phases' leftovers included; the bench's lag samples reduced to statistics first)
 * @param pipelineHeapBytes what the pipeline itself retained: {@code liveHeapBytes} less the live heap after a full GC once the
 *                         pipeline had closed (nothing else changed in between). Flat from small to large tables when no
 *                         stage holds on to rows
 * @param peakRssBytes     peak resident set (VmHWM) over the phase, or since the JVM started when it could not be reset
 * @param mismatches       rows of the target that differ from the transform of the source, after catching up
 * @param timeline         the tracked writes' lags per second of the phase (the raw samples are not kept)
 */
record LagResult(long rows, int targetWriteRate, double achievedWriteRate, long writes, long writeErrors, double snapshotSeconds,
                 double caughtUpAfterSeconds, double phaseSeconds, LagStats streaming, LagStats afterSnapshot, LagStats duringSnapshot,
                 LagStats startup, LagStats afterStartup, StageBreakdown streamingStages, StageBreakdown afterSnapshotStages,
                 StageBreakdown startupStages, StageBreakdown afterStartupStages, int untrackedAtEnd, long pollMillis,
                 long peakHeapBytes, long liveHeapBytes, long pipelineHeapBytes, long maxHeapBytes, long peakRssBytes, boolean rssPeakIsPerPhase, long mismatches,
                 List<LagTimeline.Point> timeline, List<MemorySampler.Sample> memory) {

    /** Snapshot rows per second (the table's rows over the time until the snapshot was done, writer running). */
    double snapshotRowsPerSecond() {
        return snapshotSeconds > 0 ? rows / snapshotSeconds : Double.NaN;
    }

    boolean ok() {
        return mismatches == 0 && untrackedAtEnd == 0;
    }
}
