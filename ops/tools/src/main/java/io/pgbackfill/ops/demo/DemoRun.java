package io.pgbackfill.ops.demo;

import io.pgbackfill.core.Secret;
import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.embedded.Infrastructure;
import io.pgbackfill.ops.cutover.Cutover;
import io.pgbackfill.ops.cutover.CutoverGuard;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.pipeline.HeapWatch;
import io.pgbackfill.ops.pipeline.Pipeline;
import io.pgbackfill.ops.pipeline.ProgressLine;
import io.pgbackfill.ops.verify.Verifier;
import io.pgbackfill.ops.verify.VerifyLog;
import io.pgbackfill.sink.SinkConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The demo backfill, end to end, on whatever {@link Infrastructure} is given: seed {@code users},
 * run producer, transformer and sink while a writer keeps changing the table, stop the writer,
 * wait until the target has caught up, then compare the target with the source row for row,
 * twice: with the spec's own transform (verify) and with an independent SQL statement of it.
 */
public final class DemoRun {
    /** What the demo measured. */
    public record Result(long sourceRows, long targetRows, long mismatches, long oracleMismatches, double seconds, long peakHeapBytes,
                         long snapshotRowsRead, long writerOps, long verifyMillis, Cutover.Outcome cutover) {
        public boolean ok() {
            return mismatches == 0 && oracleMismatches == 0 && (cutover == null || cutover.done());
        }
    }

    /**
     * Demo settings: rows to seed, writer rate, Kafka partitions, where state lives, a spec file (null = the bundled
     * example), and whether to finish with a cutover while a writer runs at {@code cutoverWriteRate} operations/s.
     */
    public record Options(long rows, int writeRate, int partitions, Path stateDir, Path specFile, long seed, boolean cutover, int cutoverWriteRate) {
    }

    private final Infrastructure infra;
    private final Options options;
    private final PrintStream out;

    public DemoRun(Infrastructure infra, Options options, PrintStream out) {
        this.infra = infra;
        this.options = options;
        this.out = out;
    }

    public static PipelineSpec bundledSpec(Path specFile) throws IOException {
        if (specFile != null) {
            return SpecLoader.load(specFile);
        }
        try (InputStream in = DemoRun.class.getResourceAsStream("/examples/users-split.yaml")) {
            return SpecLoader.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "ops/examples/users-split.yaml");
        }
    }

    /** The spec with the demo's connections and broker (the file names placeholders for them). */
    public PipelineSpec spec(String database) throws IOException, SQLException {
        PipelineSpec spec = bundledSpec(options.specFile());
        ConnectionSpec db = ConnectionSpec.of(infra.jdbcUrl(database), infra.user(), Secret.of(infra.password(), "embedded"));
        return spec.withConnections(db, null)
                .withKafka(new io.pgbackfill.core.spec.KafkaSpec(infra.kafkaBootstrapServers(), spec.kafka().topicPrefix(), options.partitions()));
    }

    public Result run() throws Exception {
        String database = "app";
        PipelineSpec spec = spec(database);
        long t0 = System.nanoTime();
        try (Connection c = infra.connect(database)) {
            DemoData.createTables(c);
            out.printf(Locale.ROOT, "seeding %,d users...%n", options.rows());
            DemoData.seed(c, options.rows());
        }
        out.printf(Locale.ROOT, "seeded in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        MigrationPlan plan = MigrationPlan.connect(spec, "ops/examples/users-split.yaml");
        out.print(plan.describe());
        Files.createDirectories(options.stateDir());
        String url = infra.jdbcUrl(database);
        try (HeapWatch heap = new HeapWatch();
             Pipeline pipeline = new Pipeline(plan, options.stateDir(), SinkConfig.from(spec.sink()));
             DemoWriter writer = new DemoWriter(() -> open(url), options.writeRate(), options.seed())) {
            long started = System.nanoTime();
            pipeline.start();
            writer.start();
            ProgressLine progress = new ProgressLine(pipeline, "public.users", options.rows(), out);
            long lastPrint = System.nanoTime();
            while (!pipeline.producer().snapshotDone()) {
                if (pipeline.failure() != null) {
                    throw new IllegalStateException("pipeline failed", pipeline.failure());
                }
                Thread.sleep(100);
                if (System.nanoTime() - lastPrint > 2_000_000_000L) {
                    progress.print("writer " + writer.operations() + " ops");
                    lastPrint = System.nanoTime();
                }
            }
            writer.close();
            out.println("snapshot done; writer stopped (" + writer.summary() + "); waiting for every stage to catch up...");
            CatchUp.await(spec, true, Duration.ofMinutes(10), () -> pipeline.failure() == null);
            double seconds = (System.nanoTime() - started) / 1e9;
            progress.print("caught up");
            long v0 = System.nanoTime();
            List<Verifier.Report> reports = new Verifier(plan, 10_000, 0, out::println).verify();
            long verifyMillis = (System.nanoTime() - v0) / 1_000_000;
            long mismatches = 0;
            for (Verifier.Report r : reports) {
                mismatches += r.mismatches().size();
                r.mismatches().stream().limit(20).forEach(m -> out.println("  MISMATCH " + m));
            }
            long oracle;
            long sourceRows;
            long targetRows;
            long o0 = System.nanoTime();
            try (Connection c = infra.connect(database)) {
                oracle = DemoData.oracleMismatches(c);
                out.printf(Locale.ROOT, "verify %.1f s, independent SQL check %.1f s%n", verifyMillis / 1000.0, (System.nanoTime() - o0) / 1e9);
                sourceRows = DemoData.count(c, "users");
                targetRows = DemoData.count(c, "users_v2");
            }
            double total = (System.nanoTime() - started) / 1e9;
            Cutover.Outcome cut = options.cutover() && mismatches == 0 && oracle == 0 ? cutover(plan, url) : null;
            return new Result(sourceRows, targetRows, mismatches, oracle, total, heap.peakBytes(),
                    pipeline.producer().snapshotRowsRead("public.users"), writer.operations(), verifyMillis, cut);
        }
    }

    /**
     * The end of a migration, as an operator runs it, while the application writes: a verify that re-checks at a point
     * in time, the guard (dead letters accepted: the demo makes none), and the cutover, whose write pause it reports.
     */
    private Cutover.Outcome cutover(MigrationPlan plan, String url) throws Exception {
        PipelineSpec spec = plan.spec();
        out.printf(Locale.ROOT, "cutover: writer at %,d operations/s; verify under writes first...%n", options.cutoverWriteRate());
        try (DemoWriter writer = new DemoWriter(() -> open(url), options.cutoverWriteRate(), options.seed() + 1)) {
            writer.start();
            long mark = CatchUp.await(spec, false, Duration.ofMinutes(5), () -> true);
            List<Verifier.Report> reports = new Verifier(plan, 10_000, 0, out::println, Verifier.DEFAULT_PARALLELISM, Verifier.Settling.whilePipelineRuns()).verify();
            long bad = reports.stream().mapToLong(r -> r.mismatches().size()).sum();
            VerifyLog.record(spec, bad == 0, mark, bad);
            out.println(bad == 0 ? "verify under writes: CLEAN" : "verify under writes: " + bad + " MISMATCHES");
            CutoverGuard.Verdict verdict = CutoverGuard.check(spec, "ops/examples/users-split.yaml", Duration.ofSeconds(10), true, out);
            if (!verdict.go()) {
                verdict.refusals().forEach(r -> out.println("cutover refused: " + r));
                return new Cutover.Outcome(false, 0, verdict.refusals());
            }
            Cutover.Outcome o = new Cutover(plan, out, Duration.ofSeconds(30), null, Duration.ofSeconds(300)).run(mark, verdict.deadLetters(), true);
            out.printf(Locale.ROOT, "cutover: %s, write pause %d ms with the writer at %,d operations/s on %,d rows%n", o.done() ? "DONE" : "NOT DONE",
                    o.pauseMillis(), options.cutoverWriteRate(), options.rows());
            return o;
        }
    }

    private Connection open(String url) {
        try {
            return DriverManager.getConnection(url, infra.user(), infra.password());
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Secret none() {
        return Secret.none();
    }
}
