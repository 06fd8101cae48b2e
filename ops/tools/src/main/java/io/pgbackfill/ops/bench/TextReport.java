package io.pgbackfill.ops.bench;

import java.util.Locale;

/** The plain-text table the command prints and bench.txt holds. */
final class TextReport {
    private TextReport() {
    }

    static String render(BenchResults r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "pgbackfill bench, %s: users table of %s rows, run took %.0f s%n", Figures.DATE.format(r.startedAt()),
                Figures.count(r.options().rows()), r.totalSeconds()));
        sb.append("machine: ").append(Figures.machine(r)).append('\n');
        sb.append("transform: name split at the first space into first_name/last_name, lower(email); seconds = start until the target")
                .append(" holds every row; each target verified afterwards with SQL EXCEPT (not timed)\n");
        sb.append("pgbackfill snapshot mode: ").append(r.options().snapshotMode() == null ? io.pgbackfill.core.spec.SnapshotSpec.DEFAULT.mode()
                : r.options().snapshotMode()).append("\n\n");
        int w = r.approaches().stream().mapToInt(a -> a.label().length()).max().orElse(20) + 2;
        String row = "%-" + w + "s %10s %9s %11s %14s  %s%n";
        sb.append(String.format(Locale.ROOT, row, "approach", "rows", "seconds", "rows/s", "vs pgbackfill", "result"));
        sb.append("-".repeat(w + 10 + 9 + 11 + 14 + 14)).append('\n');
        for (ApproachResult a : r.approaches()) {
            boolean ran = a.status() != ApproachResult.Status.NOT_RUN;
            String result = switch (a.status()) {
                case OK -> "OK";
                case FAILED -> "FAILED: " + a.reason();
                case NOT_RUN -> "not run: " + a.reason();
            };
            sb.append(String.format(Locale.ROOT, row, a.label(), ran && a.rows() > 0 ? Figures.count(a.rows()) : "-",
                    a.ok() ? Figures.seconds(a.seconds()) : "-", Figures.rate(a.rowsPerSecond()), Figures.ratio(r.ratioToPgbackfill(a)), result));
        }
        sb.append('\n');
        for (ApproachResult a : r.approaches()) {
            if (a.note() != null) {
                sb.append("  ").append(a.key()).append(": ").append(a.note()).append('\n');
            }
        }
        if (!r.lagPhases().isEmpty()) {
            LagResult first = r.lagPhases().get(0);
            sb.append(String.format(Locale.ROOT, "%nCDC lag and memory: pgbackfill with a writer at %,d writes/s (inserts + updates); lag = source commit"
                    + " -> row visible in users_v2 (streaming: to within %d ms)%n", first.targetWriteRate(), first.pollMillis()));
            String lagRow = "%12s %10s %10s %9s %24s %20s %24s %10s %10s %13s %10s  %s%n";
            sb.append(String.format(Locale.ROOT, lagRow, "table rows", "snapshot s", "snap rows/s", "writes/s", "streaming p50/95/99/max",
                    "first " + LagPhase.SETTLE_SECONDS + " s p50/99", "in snapshot p50/99/max", "peak heap", "live heap", "pipeline heap", "peak RSS", "result"));
            for (LagResult l : r.lagPhases()) {
                sb.append(String.format(Locale.ROOT, lagRow, Figures.count(l.rows()), Figures.seconds(l.snapshotSeconds()), Figures.rate(l.snapshotRowsPerSecond()),
                        Figures.rate(l.achievedWriteRate()),
                        Figures.millis(l.streaming().p50()) + "/" + Figures.millis(l.streaming().p95()) + "/" + Figures.millis(l.streaming().p99()) + "/"
                                + Figures.millis(l.streaming().max()) + " ms",
                        Figures.millis(l.afterSnapshot().p50()) + "/" + Figures.millis(l.afterSnapshot().p99()) + " ms",
                        Figures.millis(l.duringSnapshot().p50()) + "/" + Figures.millis(l.duringSnapshot().p99()) + "/"
                                + Figures.millis(l.duringSnapshot().max()) + " ms",
                        Figures.mib(l.peakHeapBytes()), Figures.mib(l.liveHeapBytes()), Figures.mib(l.pipelineHeapBytes()), Figures.mib(l.peakRssBytes()),
                        l.ok() ? "verified" : "NOT verified: " + l.mismatches() + " mismatches, " + l.untrackedAtEnd() + " writes never seen"));
            }
            sb.append("  streaming = writes from " + LagPhase.SETTLE_SECONDS + " s after the snapshot on, or from when the target had caught up with it"
                    + " if later; first " + LagPhase.SETTLE_SECONDS + " s = writes from the snapshot's end until then; one row per --lag-rows size: the scaling rows\n");
            sb.append("  peak heap = most heap in use (garbage included); live heap = bytes still reachable at the end (the JVM's class histogram), pipeline running (the")
                    .append(" in-process broker and earlier phases' figures included; its tracer and probe closed, its lag samples reduced to statistics); pipeline heap = live heap less the same")
                    .append(" reading once the pipeline had closed: what the stages hold; RSS = whole JVM (in-process Kafka broker included)\n");
            for (LagResult l : r.lagPhases()) {
                sb.append(String.format(Locale.ROOT, "  %,d rows: the target had the snapshot %.1f s after the producer had read it%n", l.rows(),
                        l.caughtUpAfterSeconds()));
                sb.append(String.format(Locale.ROOT, "  where the streaming lag went, %,d rows (lag p99 %s ms):%n", l.rows(), Figures.millis(l.streaming().p99())))
                        .append(l.streamingStages().describe("    "));
                sb.append(String.format(Locale.ROOT, "  and in the first %d s after the snapshot, or until caught up (lag p99 %s ms):%n", LagPhase.SETTLE_SECONDS,
                        Figures.millis(l.afterSnapshot().p99()))).append(l.afterSnapshotStages().describe("    "));
                sb.append(String.format(Locale.ROOT, "  changes made during the snapshot, %,d rows: in the pipeline's first %d s (start-up) p50/p99 %s/%s ms,"
                                + " after it p50/p99/max %s/%s/%s ms%n", l.rows(), LagPhase.STARTUP_SECONDS,
                        Figures.millis(l.startup().p50()), Figures.millis(l.startup().p99()), Figures.millis(l.afterStartup().p50()),
                        Figures.millis(l.afterStartup().p99()), Figures.millis(l.afterStartup().max())));
                sb.append("  where they went, start-up:\n").append(l.startupStages().describe("    "));
                sb.append("  and after it:\n").append(l.afterStartupStages().describe("    "));
            }
            if (r.lagPhases().stream().anyMatch(l -> !l.rssPeakIsPerPhase())) {
                sb.append("  (peak RSS is since JVM start: /proc/self/clear_refs could not be written)\n");
            }
        }
        for (String p : r.problems()) {
            sb.append("PROBLEM: ").append(p).append('\n');
        }
        sb.append(r.ok() ? "RESULT: OK\n" : "RESULT: PROBLEMS\n");
        return sb.toString();
    }
}
