package io.pgbackfill.ops.bench;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.embedded.Infrastructure;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.pipeline.HeapWatch;
import io.pgbackfill.ops.pipeline.Pipeline;
import io.pgbackfill.ops.pipeline.ProgressLine;
import io.pgbackfill.sink.SinkConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * CDC lag and memory of pgbackfill on a table of a given size, in a database of its own: seed it, start
 * the pipeline together with a {@link StampingWriter} at a fixed rate, let the snapshot finish and reach the target,
 * keep writing for a steady-state window, stop the writer, wait for the target to catch up, and check it.
 * Lags come from the {@link VisibilityProbe}; peak heap from {@link HeapWatch}; RSS from /proc.
 */
final class LagPhase {
    /** Aim for about this many tracked writes per second, whatever the write rate. */
    private static final int TRACKED_PER_SECOND = 200;
    private static final long POLL_MILLIS = 20;
    private static final Duration SNAPSHOT_TIMEOUT = Duration.ofMinutes(30);
    /**
     * Writes in this many seconds after the snapshot (or until the target has caught up with it, if that takes longer)
     * are reported apart from the steady state: the pipeline settles.
     */
    static final int SETTLE_SECONDS = 10;
    /**
     * Writes in this many seconds after the pipeline started are its start-up: classes load, the JIT compiles, the stages
     * join their groups, and a cold pipeline moves a few thousand events a second. Their lag is reported apart from the
     * rest of the snapshot's (it does not depend on the table's size; the rest would grow with it if the snapshot were not paced).
     */
    static final int STARTUP_SECONDS = 15;

    private final Infrastructure infra;
    private final BenchOptions options;
    private final Path workDir;
    private final PrintStream out;

    LagPhase(Infrastructure infra, BenchOptions options, Path workDir, PrintStream out) {
        this.infra = infra;
        this.options = options;
        this.workDir = workDir;
        this.out = out;
    }

    LagResult run(long rows) throws Exception {
        String database = "bench_lag_" + rows;
        String pipelineName = "bench-lag-" + rows;
        BenchDatabase.seed(infra, database, rows);
        PipelineSpec spec = BenchSpecs.usersSplit(infra, database, pipelineName, options);
        MigrationPlan plan = MigrationPlan.connect(spec, BenchSpecs.ORIGIN);
        long phaseStartMicros;
        try (Connection c = infra.connect(database)) {
            phaseStartMicros = DbClock.nowMicros(c);
        }
        // Each phase reports its own peaks: start from a collected heap and a fresh RSS high-water mark.
        System.gc();
        boolean rssReset = ProcessMemory.resetPeakRss();
        int trackEvery = Math.max(1, options.writeRate() / TRACKED_PER_SECOND);
        long t0 = System.nanoTime();
        // The tracer reads the topics from their end: they must exist before it (and the pipeline) starts.
        BenchTopics.prepare(spec, Duration.ofSeconds(30));
        Run run = withPipeline(rows, database, spec, plan, pipelineName, phaseStartMicros, trackEvery, t0);
        // Out of withPipeline's frame, nothing of the pipeline is reachable any more: what it held is the difference.
        long pipelineHeap = run.liveHeap() - liveHeapAfterFullGc();
        Lags lags = run.lags();
        double phaseSeconds = (System.nanoTime() - t0) / 1e9;
        long mismatches;
        try (Connection c = infra.connect(database)) {
            BenchDatabase.dropSlot(c, spec.slotName());
            mismatches = TransformOracle.transformMismatches(c, "users", null, "users_v2");
        }
        return new LagResult(rows, options.writeRate(), lags.achievedRate(), lags.writes(), lags.writeErrors(), lags.snapshotSeconds(),
                lags.caughtUpAfterSeconds(), phaseSeconds, lags.streaming(), lags.afterSnapshot(), lags.duringSnapshot(), lags.startup(),
                lags.afterStartup(), lags.streamingStages(), lags.afterSnapshotStages(), lags.startupStages(), lags.afterStartupStages(),
                lags.untracked(), POLL_MILLIS, run.peakHeap(), run.liveHeap(), pipelineHeap, run.maxHeap(),
                run.peakRss(), rssReset, mismatches, lags.timeline(), run.memory());
    }

    /** What the instruments saw of one phase. */
    private record Observed(double snapshotSeconds, double snapshotDoneAtSeconds, double caughtUpAfterSeconds, long writes, long writeErrors,
                            double achievedRate, int untracked, List<LagSample> samples) {
    }

    /**
     * What one phase's tracked writes showed, reduced to statistics: the raw samples (some 200 a second, ~100 bytes
     * each) are dropped before the live heap is read, so that a longer phase's instruments do not count as the pipeline's.
     */
    private record Lags(double snapshotSeconds, double caughtUpAfterSeconds, long writes, long writeErrors, double achievedRate, int untracked,
                        LagStats streaming, LagStats afterSnapshot, LagStats duringSnapshot, LagStats startup, LagStats afterStartup,
                        StageBreakdown streamingStages, StageBreakdown afterSnapshotStages, StageBreakdown startupStages,
                        StageBreakdown afterStartupStages, List<LagTimeline.Point> timeline) {
        static Lags of(Observed o) {
            List<LagSample> samples = o.samples();
            double settled = o.snapshotDoneAtSeconds() + Math.max(SETTLE_SECONDS, o.caughtUpAfterSeconds());
            List<LagSample> streaming = samples.stream().filter(s -> !s.duringSnapshot() && s.writtenAtSeconds() >= settled).toList();
            List<LagSample> afterSnapshot = samples.stream().filter(s -> !s.duringSnapshot() && s.writtenAtSeconds() < settled).toList();
            List<LagSample> duringSnapshot = samples.stream().filter(LagSample::duringSnapshot).toList();
            List<LagSample> startup = duringSnapshot.stream().filter(s -> s.writtenAtSeconds() < STARTUP_SECONDS).toList();
            List<LagSample> afterStartup = duringSnapshot.stream().filter(s -> s.writtenAtSeconds() >= STARTUP_SECONDS).toList();
            return new Lags(o.snapshotSeconds(), o.caughtUpAfterSeconds(), o.writes(), o.writeErrors(), o.achievedRate(), o.untracked(),
                    LagStats.of(streaming), LagStats.of(afterSnapshot), LagStats.of(duringSnapshot), LagStats.of(startup), LagStats.of(afterStartup),
                    StageBreakdown.of(streaming), StageBreakdown.of(afterSnapshot), StageBreakdown.of(startup), StageBreakdown.of(afterStartup),
                    LagTimeline.perSecond(samples));
        }
    }

    /** One phase's lags and the memory readings around them. */
    private record Run(Lags lags, long peakHeap, long liveHeap, long maxHeap, long peakRss, List<MemorySampler.Sample> memory) {
    }

    /**
     * Runs the pipeline through the phase; its live heap is read once {@link #observe} has returned (its instruments,
     * the tracer's Kafka consumers among them, no longer reachable) and its samples are reduced to {@link Lags},
     * the pipeline still running.
     */
    private Run withPipeline(long rows, String database, PipelineSpec spec, MigrationPlan plan, String pipelineName, long phaseStartMicros,
                             int trackEvery, long t0) throws Exception {
        try (HeapWatch heap = new HeapWatch();
             MemorySampler memory = new MemorySampler(250);
             Pipeline pipeline = new Pipeline(plan, workDir.resolve(pipelineName), SinkConfig.from(spec.sink()))) {
            Lags lags = Lags.of(observe(pipeline, rows, database, spec, phaseStartMicros, trackEvery, t0));
            long peakHeap = heap.peakBytes();
            List<MemorySampler.Sample> memorySamples = memory.samples();
            long liveHeap = liveHeapAfterFullGc();
            return new Run(lags, peakHeap, liveHeap, heap.maxHeapBytes(), ProcessMemory.peakRssBytes(), memorySamples);
        }
    }

    /** The writer, the probe and the tracer around the running pipeline: snapshot, catch-up, steady state, drain. */
    private Observed observe(Pipeline pipeline, long rows, String database, PipelineSpec spec, long phaseStartMicros, int trackEvery, long t0)
            throws Exception {
        double snapshotSeconds;
        double snapshotDoneAtSeconds;
        double caughtUpAfterSeconds;
        try (StageTracer tracer = new StageTracer(spec);
             VisibilityProbe probe = new VisibilityProbe(() -> infra.connect(database), POLL_MILLIS, phaseStartMicros, tracer);
             StampingWriter writer = new StampingWriter(() -> infra.connect(database), options.writeRate(), trackEvery, probe::track, 42)) {
            pipeline.start();
            tracer.start();
            probe.start();
            writer.start();
            ProgressLine progress = new ProgressLine(pipeline, "public.users", rows, out);
            long nextPrint = System.nanoTime() + 5_000_000_000L;
            long deadline = System.nanoTime() + SNAPSHOT_TIMEOUT.toNanos();
            while (!pipeline.producer().snapshotDone()) {
                failIfStopped(pipeline, probe, tracer);
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the snapshot of " + rows + " rows did not finish within " + SNAPSHOT_TIMEOUT.toMinutes() + " min");
                }
                if (System.nanoTime() > nextPrint) {
                    progress.print(String.format(Locale.ROOT, "writer %,d writes", writer.writes()));
                    nextPrint = System.nanoTime() + 5_000_000_000L;
                }
                Thread.sleep(50);
            }
            snapshotSeconds = (System.nanoTime() - t0) / 1e9;
            try (Connection c = infra.connect(database)) {
                long doneMicros = DbClock.nowMicros(c);
                probe.snapshotDoneAt(doneMicros);
                snapshotDoneAtSeconds = (doneMicros - phaseStartMicros) / 1e6;
            }
            out.printf(Locale.ROOT, "  snapshot read in %.1f s; waiting until the target has it...%n", snapshotSeconds);
            // The producer is done reading long before the target has every row (the initial scan outruns the transform
            // and the sink, and changes made during it wait in the slot): until the target has caught up, writes queue
            // behind that backlog. The steady state starts once it has, and no earlier than SETTLE_SECONDS after the snapshot.
            CatchUp.await(spec, true, SNAPSHOT_TIMEOUT, () -> pipeline.failure() == null);
            try (Connection c = infra.connect(database)) {
                caughtUpAfterSeconds = (DbClock.nowMicros(c) - phaseStartMicros) / 1e6 - snapshotDoneAtSeconds;
            }
            double settleSeconds = Math.max(SETTLE_SECONDS, caughtUpAfterSeconds);
            out.printf(Locale.ROOT, "  target caught up %.1f s after the snapshot was read; writing on until %.1f s after it, then %d s of steady streaming...%n",
                    caughtUpAfterSeconds, settleSeconds, options.lagSeconds());
            long steadyEnd = System.nanoTime() + (long) ((settleSeconds - caughtUpAfterSeconds + options.lagSeconds()) * 1e9);
            while (System.nanoTime() < steadyEnd) {
                failIfStopped(pipeline, probe, tracer);
                Thread.sleep(100);
            }
            writer.close();
            CatchUp.await(spec, true, Duration.ofMinutes(10), () -> pipeline.failure() == null);
            probe.awaitDrained(Duration.ofSeconds(30));
            return new Observed(snapshotSeconds, snapshotDoneAtSeconds, caughtUpAfterSeconds, writer.writes(), writer.errors(),
                    writer.achievedRate(), probe.pendingCount(), probe.samples());
        }
    }

    /**
     * Bytes of the objects still reachable, counted by the JVM's class histogram (a full collection, then a walk of the
     * heap), taken once the target has caught up so that its pause lands in no lag sample. Not the heap "used" after
     * {@code System.gc()}, which can count dead objects a full collection of ParallelGC left in place (a dense prefix of
     * the old generation is not compacted). Falls back to that on a JVM without the diagnostic command.
     */
    static long liveHeapAfterFullGc() {
        try {
            var server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
            Object out = server.invoke(new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                    new Object[] {new String[0]}, new String[] {String[].class.getName()});
            String text = String.valueOf(out).stripTrailing();
            String last = text.substring(text.lastIndexOf('\n') + 1).trim();
            if (last.startsWith("Total")) {
                String[] f = last.split("\\s+");
                return Long.parseLong(f[f.length - 1]);
            }
        } catch (Exception | LinkageError e) {
            // no diagnostic command here: the heap in use after a full collection instead
        }
        System.gc();
        return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static void failIfStopped(Pipeline pipeline, VisibilityProbe probe, StageTracer tracer) {
        if (pipeline.failure() != null) {
            throw new IllegalStateException("pipeline failed: " + pipeline.failure().getMessage(), pipeline.failure());
        }
        if (probe.failure() != null) {
            throw new IllegalStateException("lag probe failed: " + probe.failure().getMessage(), probe.failure());
        }
        if (tracer.failure() != null) {
            throw new IllegalStateException("stage tracer failed: " + tracer.failure().getMessage(), tracer.failure());
        }
    }
}
