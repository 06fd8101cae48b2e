package io.pgbackfill.ops.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StageBreakdownTest {

    @Test
    void readsTheIdFromRawAndRowsKeysAndTheCommitTimeFromTheEvent() {
        assertThat(StageTracer.firstNumber("{\"id\":7}".getBytes(StandardCharsets.UTF_8))).isEqualTo(7);
        assertThat(StageTracer.firstNumber("{\"id\":\"123456\"}".getBytes(StandardCharsets.UTF_8))).isEqualTo(123456);
        assertThat(StageTracer.firstNumber("{\"code\":\"x\"}".getBytes(StandardCharsets.UTF_8))).isEqualTo(-1);
        assertThat(StageTracer.tsMs("{\"op\":\"u\",\"table\":\"public.users\",\"lsn\":99,\"tsMs\":1764680000123,\"key\":{\"id\":7}}"
                .getBytes(StandardCharsets.UTF_8))).isEqualTo(1764680000123L);
    }

    @Test
    void splitsEachLagIntoItsStagesAndNamesTheStageOfTheTail() {
        List<LagSample> samples = new ArrayList<>();
        for (int i = 0; i < 99; i++) {
            samples.add(sample(10, 12, 60, 100)); // 100 ms: 10 to Debezium, 2 into Kafka, 48 transform, 40 sink
        }
        samples.add(sample(10, 12, 60, 900)); // the slow one: 840 ms in the sink
        samples.add(new LagSample(1, 50, false)); // stages unknown: left out

        StageBreakdown b = StageBreakdown.of(samples);

        assertThat(b.samples()).isEqualTo(100);
        assertThat(b.stages()).extracting(StageBreakdown.Stage::p50).containsExactly(10.0, 2.0, 48.0, 40.0);
        assertThat(b.stages().get(3).tailMean()).isEqualTo(840.0);
        assertThat(b.stages().get(2).tailMean()).isEqualTo(48.0);
        assertThat(b.describe("  ")).contains("transformed -> visible in target");
    }

    private static LagSample sample(double produced, double inRaw, double transformed, double visible) {
        return new LagSample(1, visible, false, new StageTracer.Stages(produced - 1, produced, inRaw, transformed, visible));
    }
}
