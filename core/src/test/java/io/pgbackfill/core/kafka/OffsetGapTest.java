package io.pgbackfill.core.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class OffsetGapTest {
    static final TopicPartition P0 = new TopicPartition("rows", 0);
    static final TopicPartition P1 = new TopicPartition("rows", 1);

    @Test
    void aCommittedOffsetBeforeTheLogStartIsAGapAndNamesTheRangeLost() {
        List<OffsetGap> gaps = OffsetGap.find(List.of(P0, P1), Map.of(P0, 10L, P1, 50L), Map.of(P0, 25L, P1, 50L));
        assertThat(gaps).containsExactly(new OffsetGap("rows", 0, 10, 25));
        assertThat(gaps.get(0).lost()).isEqualTo(15);
        assertThat(gaps.get(0).toString()).isEqualTo("topic rows partition 0: offsets 10 to 24 (15 events) were deleted before they were read"
                + " (committed offset 10, the log now starts at 25)");
        assertThat(new OffsetGap.EventsLost("sink", gaps).getMessage()).contains("the sink stopped instead of skipping").contains("backfill resync SPEC");
    }

    @Test
    void noCommitIsAFirstStartOnlyWhileTheLogStillStartsAtZero() {
        assertThat(OffsetGap.find(List.of(P0), Map.of(), Map.of(P0, 0L))).isEmpty();
        assertThat(OffsetGap.find(List.of(P0), Map.of(), Map.of(P0, 7L))).containsExactly(new OffsetGap("rows", 0, -1, 7));
        assertThat(OffsetGap.find(List.of(P0), Map.of(P0, 7L), Map.of(P0, 7L))).as("at the log start: nothing lost").isEmpty();
    }

    @Test
    void topicSettingsFindFiniteRetentionCompactionAndReplicationProblems() {
        TopicSettings good = new TopicSettings("t", 4, 3, -1, -1, "delete", 2);
        assertThat(good.findings(3)).isEmpty();
        TopicSettings bad = new TopicSettings("t", 4, 1, 604_800_000L, -1, "compact", 2);
        assertThat(bad.findings(3)).extracting(TopicSettings.Finding::severity)
                .containsExactly(TopicSettings.Severity.FAIL, TopicSettings.Severity.WARN, TopicSettings.Severity.WARN, TopicSettings.Severity.FAIL);
        assertThat(bad.findings(3).get(1).fix()).contains("--add-config retention.ms=-1,retention.bytes=-1");
        assertThat(new TopicSettings("t", 1, 1, -1, -1, "delete", 1).findings(1)).as("one broker: replication 1 is all there is").isEmpty();
    }
}
