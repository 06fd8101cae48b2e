package io.pgbackfill.ops.bench;

import io.pgbackfill.embedded.Infrastructure;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The bench, in order: the lag phases first (in a JVM that has done nothing else yet, so their RSS
 * figures are not inflated by the heap earlier approaches grew), then one seeded {@code users} table
 * and the five approaches on it, each into a fresh target on a settled server (checkpoint, autovacuum idle), each verified. An approach that throws is
 * reported FAILED with its reason and the run goes on.
 */
public final class BenchRun {
    static final String DATABASE = "bench";

    private final Infrastructure infra;
    private final BenchOptions options;
    private final PrintStream out;

    public BenchRun(Infrastructure infra, BenchOptions options, PrintStream out) {
        this.infra = infra;
        this.options = options;
        this.out = out;
    }

    /** The approaches, in the order they run and are reported. */
    static List<Approach> approaches() {
        return List.of(new RowByRowApproach(), new InPlaceUpdateApproach(), new OfflineInsertSelectApproach(),
                new PgbackfillApproach(), new DebeziumSnapshotApproach(), new KafkaConnectApproach());
    }

    public BenchResults run() throws Exception {
        Path workDir = Files.createTempDirectory("pgbackfill-bench");
        try {
            return run(workDir);
        } finally {
            deleteRecursively(workDir);
        }
    }

    private BenchResults run(Path workDir) throws Exception {
        Instant startedAt = Instant.now();
        long t0 = System.nanoTime();
        List<String> problems = new ArrayList<>();
        MachineInfo machine;
        try (Connection c = infra.connect(DATABASE)) {
            machine = MachineInfo.of(c, infra.kind());
        }
        List<LagResult> lag = new ArrayList<>();
        if (options.lagPhase()) {
            for (long rows : options.lagRows()) {
                out.printf(Locale.ROOT, "%n== lag phase: pgbackfill on %,d rows with a writer at %,d writes/s ==%n", rows, options.writeRate());
                try {
                    LagResult r = new LagPhase(infra, options, workDir, out).run(rows);
                    out.printf(Locale.ROOT, "  streaming lag p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d samples); heap peak %d MiB, live %d MiB (the pipeline's %d MiB);"
                                    + " peak RSS %d MiB; %s%n",
                            r.streaming().p50(), r.streaming().p99(), r.streaming().max(), r.streaming().samples(),
                            r.peakHeapBytes() >> 20, r.liveHeapBytes() >> 20, r.pipelineHeapBytes() >> 20, r.peakRssBytes() >> 20, r.ok() ? "verified" : "NOT VERIFIED (" + r.mismatches() + " mismatches)");
                    lag.add(r);
                } catch (Exception | LinkageError e) {
                    problems.add("lag phase at " + rows + " rows failed: " + e.getMessage());
                    out.println("  FAILED: " + e.getMessage());
                    e.printStackTrace(); // the reason is in the trace; the report keeps the message
                }
            }
        }
        out.printf(Locale.ROOT, "%n== seeding %,d users for the approaches ==%n", options.rows());
        long s0 = System.nanoTime();
        BenchDatabase.seed(infra, DATABASE, options.rows());
        long sourceRows;
        try (Connection c = infra.connect(DATABASE)) {
            sourceRows = BenchDatabase.count(c, "users");
        }
        out.printf(Locale.ROOT, "  seeded in %.1f s%n", (System.nanoTime() - s0) / 1e9);
        BenchContext ctx = new BenchContext(infra, DATABASE, sourceRows, options, workDir, out);
        List<ApproachResult> results = new ArrayList<>();
        List<Approach> approaches = approaches();
        for (int i = 0; i < approaches.size(); i++) {
            Approach a = approaches.get(i);
            out.printf(Locale.ROOT, "%n== approach %d/%d: %s ==%n", i + 1, approaches.size(), a.label());
            ApproachResult r;
            try {
                boolean runIt = options.only().isEmpty() || options.only().contains(a.key());
                if (runIt) {
                    BenchDatabase.settle(infra, DATABASE);
                }
                r = runIt ? a.run(ctx) : ApproachResult.notRun(a, "not in --only");
            } catch (Exception | LinkageError e) {
                // A LinkageError too: one approach missing a class (a jar rebuilt under a running bench) must not cost the others.
                r = ApproachResult.failed(a, e.getClass().getSimpleName() + ": " + e.getMessage());
                e.printStackTrace(); // the reason is in the trace; the report keeps the message
            }
            out.println("  " + describe(r));
            results.add(r);
        }
        return new BenchResults(startedAt, (System.nanoTime() - t0) / 1e9, machine, MachineInfo.readLoadAverage(), options, results, lag, problems);
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static String describe(ApproachResult r) {
        return switch (r.status()) {
            case OK -> String.format(Locale.ROOT, "OK: %,d rows in %.2f s = %,.0f rows/s (verify %.1f s)", r.rows(), r.seconds(), r.rowsPerSecond(),
                    r.verifySeconds());
            case FAILED -> "FAILED: " + r.reason();
            case NOT_RUN -> "not run: " + r.reason();
        };
    }
}
