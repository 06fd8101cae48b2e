package io.pgbackfill.ops.bench;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.pipeline.HeapWatch;
import io.pgbackfill.ops.pipeline.Pipeline;
import io.pgbackfill.ops.pipeline.ProgressLine;
import io.pgbackfill.sink.SinkConfig;
import java.sql.Connection;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * pgbackfill end to end, the way the demo runs it (same spec, same {@link Pipeline} stages) but with no
 * writer: snapshot -> Kafka -> transform -> sink. Timed from the pipeline's start until the sink has
 * written every row of the table (read from the sink's own counter, so timing costs the database
 * nothing) and the target holds them; then the catch-up fence confirms nothing is in flight, and the
 * target is checked. DemoRun itself is not called: its time includes its verification passes.
 */
final class PgbackfillApproach implements Approach {
    static final String PIPELINE = "bench-copy";
    private static final Duration TIMEOUT = Duration.ofMinutes(30);

    @Override
    public String key() {
        return "pgbackfill";
    }

    @Override
    public String label() {
        return "pgbackfill (snapshot -> Kafka -> transform -> sink)";
    }

    @Override
    public ApproachResult run(BenchContext ctx) throws Exception {
        try (Connection c = ctx.connect()) {
            BenchDatabase.execute(c, "TRUNCATE users_v2");
        }
        PipelineSpec spec = BenchSpecs.usersSplit(ctx.infra(), ctx.database(), PIPELINE, ctx.options());
        MigrationPlan plan = MigrationPlan.connect(spec, BenchSpecs.ORIGIN);
        long expected = ctx.sourceRows();
        double seconds;
        long peakHeap;
        Map<String, Double> cpuSeconds;
        Map<String, Double> serverCpuSeconds;
        BenchTopics.prepare(spec, Duration.ofSeconds(30)); // before the clock starts: topics exist before any migration
        try (HeapWatch heap = new HeapWatch();
             Pipeline pipeline = new Pipeline(plan, ctx.workDir().resolve(PIPELINE), SinkConfig.from(spec.sink()));
             ThreadCpu cpu = ThreadCpu.start()) {
            ServerCpu serverCpu = ServerCpu.start();
            long t0 = System.nanoTime();
            pipeline.start();
            ProgressLine progress = new ProgressLine(pipeline, "public.users", expected, ctx.out());
            long nextPrint = System.nanoTime() + 5_000_000_000L;
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            try (Connection c = ctx.connect()) {
                while (true) {
                    failIfStopped(pipeline);
                    // The sink's counter says when to look; the target's own count says when it is there.
                    boolean written = pipeline.sink().rowsWritten() >= expected;
                    if (written && BenchDatabase.count(c, "users_v2") >= expected) {
                        break;
                    }
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the target did not reach " + expected + " rows within " + TIMEOUT.toMinutes() + " min");
                    }
                    if (System.nanoTime() > nextPrint) {
                        progress.print(null);
                        nextPrint = System.nanoTime() + 5_000_000_000L;
                    }
                    Thread.sleep(written ? 100 : 10);
                }
            }
            seconds = (System.nanoTime() - t0) / 1e9;
            cpuSeconds = cpu.since(); // before the pipeline closes: an ended thread's CPU can no longer be read
            serverCpuSeconds = serverCpu.since();
            CatchUp.await(spec, true, Duration.ofMinutes(10), () -> pipeline.failure() == null);
            peakHeap = heap.peakBytes();
        }
        long mismatches;
        long v0 = System.nanoTime();
        try (Connection c = ctx.connect()) {
            BenchDatabase.dropSlot(c, spec.slotName());
            v0 = System.nanoTime();
            mismatches = TransformOracle.transformMismatches(c, "users", null, "users_v2");
        }
        double verifySeconds = (System.nanoTime() - v0) / 1e9;
        Map<String, Object> extras = new LinkedHashMap<>();
        extras.put("peakHeapBytes", peakHeap);
        extras.put("partitions", ctx.options().partitions());
        extras.put("cpuSeconds", cpuSeconds);
        extras.put("serverCpuSeconds", serverCpuSeconds);
        return ApproachResult.verified(this, expected, seconds, verifySeconds, mismatches,
                "online: CDC keeps the target in sync afterwards; peak heap " + (peakHeap >> 20) + " MiB; JVM CPU "
                        + cpuSeconds.get("total") + " s until the target held every row (incl. the in-process broker): "
                        + cpuSeconds + "; " + ServerCpu.describe(serverCpuSeconds), extras);
    }

    private static void failIfStopped(Pipeline pipeline) {
        if (pipeline.failure() != null) {
            throw new IllegalStateException("pipeline failed: " + pipeline.failure().getMessage(), pipeline.failure());
        }
    }
}
