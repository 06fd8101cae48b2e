package io.pgbackfill.core.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.spec.MemorySpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecException;
import io.pgbackfill.core.spec.SpecLoader;
import org.junit.jupiter.api.Test;

class MemoryBudgetTest {
    static final long MIB = MemoryBudget.MIB;
    static final String SPEC = """
            name: docs
            source:
              jdbcUrl: jdbc:postgresql://h/db
              passwordEnv: PW
            tables:
              - source: public.docs
                target: public.docs_v2
                columns:
                  id: id
            """;

    @Test
    void theBudgetIsDerivedFromTheHeapAndSharedByTheStagesOfOneJvm() {
        assertThat(MemoryBudget.derive(MemorySpec.DEFAULT, 512 * MIB, 1).stageBytes()).isEqualTo(52 * MIB);
        assertThat(MemoryBudget.derive(MemorySpec.DEFAULT, 1024 * MIB, 3).stageBytes()).isEqualTo((1024 - 96) * MIB / 24);
        assertThat(MemoryBudget.derive(MemorySpec.DEFAULT, 128 * MIB, 3).stageBytes()).as("floor").isEqualTo(4 * MIB);
        assertThat(MemoryBudget.derive(MemorySpec.DEFAULT, 64L * 1024 * MIB, 1).stageBytes()).as("ceiling").isEqualTo(256 * MIB);
        MemoryBudget set = MemoryBudget.derive(new MemorySpec(20), 512 * MIB, 3);
        assertThat(set.stageBytes()).isEqualTo(20 * MIB);
        assertThat(set.describe()).contains("memory.stageBudgetMiB");
        assertThat(MemoryBudget.derive(MemorySpec.DEFAULT, 512 * MIB, 1).describe()).contains("derived from the heap of 512 MiB");
    }

    @Test
    void rowCountsKeepTheirDefaultsForSmallRowsAndShrinkForLargeOnes() {
        MemoryBudget b = MemoryBudget.derive(new MemorySpec(40), 1024 * MIB, 3);
        assertThat(b.rows(200, 20_000)).isEqualTo(20_000);
        assertThat(b.rows(MIB, 20_000)).isEqualTo(40);
        assertThat(b.rows(100 * MIB, 20_000)).as("a row over the budget still goes, alone").isEqualTo(1);
    }

    @Test
    void kafkaLimitsLetTheLargestRecordThroughButBufferNoMoreThanNeeded() {
        MemoryBudget small = MemoryBudget.derive(MemorySpec.DEFAULT, 256 * MIB, 3);
        assertThat(small.producerBufferBytes()).isGreaterThan(KafkaTopics.MAX_RECORD_BYTES).isLessThan(2L * KafkaTopics.MAX_RECORD_BYTES);
        assertThat(small.producerBatchBytes()).isBetween(16 * 1024, 256 * 1024);
        assertThat(small.fetchMaxBytes()).isEqualTo((int) Math.max(MIB, small.stageBytes() / 2));
        assertThat(small.partitionFetchBytes(4)).isEqualTo(small.fetchMaxBytes() / 4);
        MemoryBudget big = MemoryBudget.derive(new MemorySpec(200), 4096 * MIB, 1);
        assertThat(big.producerBufferBytes()).isEqualTo(200 * MIB);
        assertThat(big.producerBatchBytes()).isEqualTo(256 * 1024);
    }

    @Test
    void theSpecKeyIsOptionalAndChecked() {
        PipelineSpec none = SpecLoader.parse(SPEC, "m.yaml");
        assertThat(none.memory().stageBudgetMiB()).isNull();
        PipelineSpec set = SpecLoader.parse(SPEC + "memory: {stageBudgetMiB: 24}\n", "m.yaml");
        assertThat(set.memory().stageBudgetMiB()).isEqualTo(24);
        assertThat(set.withSink(set.sink()).memory().stageBudgetMiB()).as("kept by the with-ers").isEqualTo(24);
        assertThatThrownBy(() -> SpecLoader.parse(SPEC + "memory: {stageBudgetMiB: 0}\n", "m.yaml")).isInstanceOf(SpecException.class)
                .hasMessageContaining("memory.stageBudgetMiB");
        assertThatThrownBy(() -> SpecLoader.parse(SPEC + "memory: {budget: 3}\n", "m.yaml")).isInstanceOf(SpecException.class)
                .hasMessageContaining("unknown key 'budget'");
    }

    @Test
    void anOutOfMemoryErrorAnywhereInTheCauseChainIsRecognised() {
        assertThat(HeapExhausted.isCause(new IllegalStateException("x", new RuntimeException(new OutOfMemoryError("GC overhead limit exceeded"))))).isTrue();
        assertThat(HeapExhausted.isCause(new IllegalStateException("x"))).isFalse();
        String m = new HeapExhausted("producer", MemoryBudget.derive(MemorySpec.DEFAULT, 1024 * MIB, 3), new OutOfMemoryError()).getMessage();
        assertThat(m).startsWith("out of memory in the producer").contains("-Xmx").contains("memory.stageBudgetMiB").doesNotContain("restart the producer to resume");
    }
}
