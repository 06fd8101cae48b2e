package io.pgbackfill.core.kafka;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * Events a stage never read and can no longer read: its position on a partition ({@code committed}, or 0 before its
 * first commit) is before the partition's log start, because retention (or deleteRecords) removed them while the stage
 * was stopped or behind. Jumping to the log start would skip those changes silently, so a stage stops instead.
 *
 * @param committed the stage's committed offset, or -1 when it has none (then everything before the log start is lost)
 */
public record OffsetGap(String topic, int partition, long committed, long logStart) {
    /** Where the repair is described; the stage's message names it. */
    public static final String REPAIR = "stop the pipeline and run `backfill resync SPEC` (see ops/runbooks/resync.md): it takes a new "
            + "snapshot, resets the stages' positions and removes from the target what the new snapshot did not deliver";

    /** First offset that was lost. */
    public long from() {
        return Math.max(0, committed);
    }

    /** How many events were deleted unread. */
    public long lost() {
        return logStart - from();
    }

    /**
     * The gaps among {@code partitions}: a committed offset before the log start, or no committed offset on a partition
     * whose log no longer starts at 0. A partition without a committed offset whose log starts at 0 is a first start.
     */
    public static List<OffsetGap> find(Collection<TopicPartition> partitions, Map<TopicPartition, Long> committed, Map<TopicPartition, Long> logStarts) {
        List<OffsetGap> gaps = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            Long start = logStarts.get(tp);
            if (start == null) {
                continue;
            }
            Long c = committed.get(tp);
            long position = c == null ? 0 : c;
            if (position < start) {
                gaps.add(new OffsetGap(tp.topic(), tp.partition(), c == null ? -1 : c, start));
            }
        }
        return gaps;
    }

    @Override
    public String toString() {
        return "topic " + topic + " partition " + partition + ": offsets " + from() + " to " + (logStart - 1) + " (" + lost() + " events) were deleted before they were read"
                + " (" + (committed < 0 ? "no committed offset" : "committed offset " + committed) + ", the log now starts at " + logStart + ")";
    }

    /** Stops a stage that would have to skip events; its message names every gap and the repair. */
    public static final class EventsLost extends IllegalStateException {
        private final transient List<OffsetGap> gaps;

        public EventsLost(String stage, List<OffsetGap> gaps) {
            super("the " + stage + " stopped instead of skipping events that Kafka deleted unread (retention or deleteRecords): "
                    + String.join("; ", gaps.stream().map(OffsetGap::toString).toList())
                    + ". Their changes never reached the target; to repair, " + REPAIR + ".");
            this.gaps = List.copyOf(gaps);
        }

        public List<OffsetGap> gaps() {
            return gaps;
        }
    }
}
