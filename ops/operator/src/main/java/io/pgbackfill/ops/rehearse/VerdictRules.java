package io.pgbackfill.ops.rehearse;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What blocks a migration, from the findings: more DLQ rows than {@code --max-dlq-share} allows; any
 * duplicate target key (two source rows would become one target row, and nothing would say so); a
 * trial write the target refused outright; an empty sample of a non-empty table (it proves nothing).
 * a predicted peak heap over the heap (the pipeline would run out of memory). WAL beyond max_slot_wal_keep_size and a
 * truncated duplicate check are warnings.
 */
final class VerdictRules {
    private VerdictRules() {
    }

    static RehearsalReport.Verdict judge(List<RehearsalReport.TableReport> tables, RehearsalReport.Wal wal, double maxDlqShare) {
        return judge(tables, wal, maxDlqShare, null);
    }

    /** {@code memory}: the predicted peak heap; over the heap it blocks (the pipeline would run out of memory). */
    static RehearsalReport.Verdict judge(List<RehearsalReport.TableReport> tables, RehearsalReport.Wal wal, double maxDlqShare, MemoryEstimate memory) {
        List<String> blocking = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        if (memory != null && !memory.fits()) {
            blocking.add(memory.problem());
        }
        long walTotal = 0;
        for (RehearsalReport.TableReport t : tables) {
            RehearsalReport.Outcome o = t.outcome();
            if (t.sample().rows() == 0 && t.table().estimatedRows() > 0) {
                blocking.add(t.source() + ": the sample is empty (~" + Human.count(t.table().estimatedRows()) + " rows in the table): raise --sample or --rows");
            }
            if (o.dlq() > 0) {
                String reasons = o.reasons().stream().map(g -> g.title() + " " + Human.share(g.share())).collect(Collectors.joining(", "));
                String finding = Human.share(o.dlqShare()) + " of rows would go to the DLQ: " + reasons;
                if (o.dlqShare() > maxDlqShare) {
                    blocking.add(t.source() + ": " + finding);
                } else {
                    warnings.add(t.source() + ": " + finding + " (within --max-dlq-share " + Human.share(maxDlqShare) + ")");
                }
            }
            if (o.duplicateTargetKeys() > 0) {
                blocking.add(t.source() + ": " + Human.count(o.duplicateTargetKeys()) + " sampled rows map to a target key another row already has ("
                        + t.target() + " would keep one of each pair and silently lose the other)");
            }
            if (o.trialWriteFailure() != null) {
                blocking.add(t.source() + ": the trial write into a copy of " + t.target() + " failed: " + o.trialWriteFailure());
            }
            if (o.keyCapHit()) {
                warnings.add(t.source() + ": the duplicate check kept only the first target keys (cap reached); later duplicates were caught by the trial write, without examples");
            }
            if (t.projection().walBytes() != null) {
                walTotal += t.projection().walBytes();
            }
        }
        if (wal.bytesPerSecond() == null) {
            warnings.add("the source's WAL rate was not measured (--wal-window 0, or a standby): WAL during the snapshot is not projected");
        } else if (wal.keepSizeBytes() != null && walTotal > wal.keepSizeBytes()) {
            warnings.add("~" + Human.bytes(walTotal) + " of WAL is projected during the snapshot, over max_slot_wal_keep_size ("
                    + Human.bytes(wal.keepSizeBytes()) + "): if the pipeline stalls, the slot is invalidated and the snapshot starts over");
        }
        return new RehearsalReport.Verdict(blocking.isEmpty(), List.copyOf(blocking), List.copyOf(warnings));
    }
}
