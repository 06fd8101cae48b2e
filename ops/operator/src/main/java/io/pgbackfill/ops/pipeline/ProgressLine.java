package io.pgbackfill.ops.pipeline;

import java.io.PrintStream;
import java.util.Locale;

/** One progress line every few seconds for a running in-process pipeline: snapshot and per-stage rates. */
public final class ProgressLine {
    private final Pipeline pipeline;
    private final String sourceTable;
    private final long estimatedRows;
    private final PrintStream out;
    private final long startedNanos = System.nanoTime();
    private long lastNanos = System.nanoTime();
    private long lastProduced;
    private long lastTransformed;
    private long lastWritten;

    public ProgressLine(Pipeline pipeline, String sourceTable, long estimatedRows, PrintStream out) {
        this.pipeline = pipeline;
        this.sourceTable = sourceTable;
        this.estimatedRows = estimatedRows;
        this.out = out;
    }

    public void print(String extra) {
        long now = System.nanoTime();
        double secs = Math.max(0.001, (now - lastNanos) / 1e9);
        long produced = pipeline.producer().eventsOut();
        long transformed = pipeline.transformer().eventsIn();
        long written = pipeline.sink().rowsWritten();
        long snap = pipeline.producer().snapshotRowsRead(sourceTable);
        String snapshot = pipeline.producer().snapshotDone() ? "done" : String.format(Locale.ROOT, "%,d/%,d (%d%%)", snap, estimatedRows,
                estimatedRows == 0 ? 0 : Math.min(100, snap * 100 / estimatedRows));
        out.printf(Locale.ROOT, "[%5.1fs] snapshot %s | producer %,.0f ev/s | transformer %,.0f ev/s | sink %,.0f rows/s (%,d written, %d DLQ)%s%n",
                (now - startedNanos) / 1e9, snapshot, (produced - lastProduced) / secs, (transformed - lastTransformed) / secs,
                (written - lastWritten) / secs, written, pipeline.transformer().deadLetters() + pipeline.sink().deadLetters(), extra == null ? "" : " | " + extra);
        lastNanos = now;
        lastProduced = produced;
        lastTransformed = transformed;
        lastWritten = written;
    }
}
