package io.pgbackfill.ops.status;

import io.pgbackfill.ops.text.ByteSize;
import java.util.Locale;

/** The one-screen text form of {@link PipelineStatus}; with a previous sample it adds rates and an ETA. */
public final class StatusScreen {
    private StatusScreen() {
    }

    public static String render(PipelineStatus s, PipelineStatus previous) {
        StringBuilder sb = new StringBuilder();
        double secs = previous == null ? 0 : Math.max(0.001, (s.takenAtMs() - previous.takenAtMs()) / 1000.0);
        sb.append("SNAPSHOT\n");
        s.snapshot().forEach((table, snap) -> {
            String read = snap.rowsRead() < 0 ? "?" : String.format(Locale.ROOT, "%,d", snap.rowsRead());
            String pct = snap.estimatedRows() > 0 && snap.rowsRead() >= 0 ? String.format(Locale.ROOT, " (%d%%)", Math.min(100, snap.rowsRead() * 100 / snap.estimatedRows())) : "";
            String rate = "";
            if (previous != null && previous.snapshot().containsKey(table) && snap.rowsRead() >= 0 && !snap.done()) {
                double r = (snap.rowsRead() - previous.snapshot().get(table).rowsRead()) / secs;
                long left = Math.max(0, snap.estimatedRows() - snap.rowsRead());
                rate = String.format(Locale.ROOT, ", %,.0f rows/s, ETA %s", r, r > 0 ? duration((long) (left / r)) : "-");
            }
            sb.append(String.format(Locale.ROOT, "  %-30s %s, read %s of ~%,d%s%s; target has ~%,d rows%n", table, snap.done() ? "DONE" : "RUNNING",
                    read, snap.estimatedRows(), pct, rate, snap.targetRows()));
        });
        PipelineStatus.Slot slot = s.slot();
        sb.append("REPLICATION SLOT\n");
        sb.append(slot.exists() ? String.format(Locale.ROOT, "  %s %s, lag %s, retained WAL %s%s%n", slot.name(), slot.active() ? "active" : "INACTIVE",
                ByteSize.format(slot.lagBytes()), ByteSize.format(slot.retainedBytes()), slot.walStatus().isEmpty() ? "" : ", wal_status " + slot.walStatus())
                : "  " + slot.name() + " does not exist (not started, or torn down)\n");
        if ("lost".equals(slot.walStatus())) {
            sb.append("  LOST: the source removed WAL this slot needed; changes since cannot be streamed. ").append(io.pgbackfill.producer.SlotState.RESYNC).append('\n');
        }
        if (s.sinkWatermarkLag() != null) {
            sb.append(String.format(Locale.ROOT, "  target is behind the source by %s of WAL (sink watermarks)%n", ByteSize.format(s.sinkWatermarkLag())));
        }
        sb.append("CONSUMER GROUPS (lag = end offset - committed, read_committed)\n");
        for (PipelineStatus.GroupLag g : s.groups()) {
            String rate = "";
            if (previous != null) {
                previous.groups().stream().filter(p -> p.group().equals(g.group())).findFirst()
                        .ifPresent(p -> sb.append(""));
                long before = previous.groups().stream().filter(p -> p.group().equals(g.group())).mapToLong(PipelineStatus.GroupLag::committed).sum();
                rate = String.format(Locale.ROOT, ", %,.0f events/s", (g.committed() - before) / secs);
            }
            sb.append(String.format(Locale.ROOT, "  %-11s %s: lag %,d%s%n", g.stage(), g.group(), g.total(), rate));
            for (PipelineStatus.PartitionLag p : g.partitions()) {
                sb.append(String.format(Locale.ROOT, "      %s[%d] committed %,d end %,d lag %,d%n", p.topic(), p.partition(), p.committed(), p.end(), p.lag()));
            }
        }
        sb.append("TOPICS\n");
        if (s.topics().isEmpty()) {
            sb.append("  none yet (created with retention.ms=-1, retention.bytes=-1 when the stages start)\n");
        }
        s.topics().values().forEach(t -> {
            sb.append("  ").append(t.topic()).append(": ").append(t.summary()).append('\n');
            t.findings(s.brokers()).forEach(f -> sb.append("    ").append(f.severity()).append(' ').append(f.problem()).append("\n      fix: ").append(f.fix()).append('\n'));
        });
        sb.append("DEAD LETTERS\n");
        s.deadLetters().forEach((t, n) -> sb.append(String.format(Locale.ROOT, "  %s: %,d%s%n", t, n, n > 0 ? "  (backfill dlq show SPEC)" : "")));
        sb.append("LONG-RUNNING QUERIES ON THE SOURCE (> 30 s)\n");
        if (s.longQueries().isEmpty()) {
            sb.append("  none\n");
        }
        s.longQueries().forEach(q -> sb.append("  ").append(q).append('\n'));
        return sb.toString();
    }

    static String duration(long s) {
        return s < 120 ? s + "s" : s < 7200 ? (s / 60) + "m" + (s % 60) + "s" : (s / 3600) + "h" + (s % 3600 / 60) + "m";
    }
}
