package io.pgbackfill.core.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** docs/spec-reference.md is what SpecOptions renders, and SpecOptions names every key of every section record. */
class SpecReferenceTest {
    private static final Path REFERENCE = Path.of("../docs/spec-reference.md");

    @Test
    void theReferenceIsCurrent() throws Exception {
        String rendered = SpecReference.markdown();
        if (Boolean.getBoolean("spec.reference.write")) {
            Files.writeString(REFERENCE, rendered, StandardCharsets.UTF_8);
        }
        assertThat(Files.readString(REFERENCE, StandardCharsets.UTF_8))
                .as("docs/spec-reference.md is stale: mvn -B -pl core test -Dtest=SpecReferenceTest -Dspec.reference.write=true")
                .isEqualTo(rendered);
    }

    @Test
    void everyKeyOfEverySectionIsInTheRegistry() {
        Map<String, Class<? extends Record>> records = Map.of("kafka", KafkaSpec.class, "snapshot", SnapshotSpec.class, "sink", SinkSpec.class,
                "cutover", CutoverSpec.class, "memory", MemorySpec.class, "throttle", ThrottleSpec.class, "hooks", HooksSpec.class);
        assertThat(SpecOptions.SECTION_ORDER).containsExactlyInAnyOrderElementsOf(records.keySet());
        records.forEach((section, type) -> {
            List<String> keys = Arrays.stream(type.getRecordComponents()).map(RecordComponent::getName).toList();
            assertThat(SpecOptions.SECTIONS.get(section).stream().map(SpecOption::key).toList()).as(section).containsExactlyElementsOf(keys);
        });
    }

    @Test
    void theSectionsTakeTheirDefaultsAndChecksFromTheRegistry() {
        assertThat(SinkSpec.DEFAULT.copyThreshold()).isEqualTo(SpecOptions.SINK_COPY_THRESHOLD.defaultValue()).isEqualTo(10_000);
        assertThat(SinkSpec.DEFAULT.batchSize()).isEqualTo(5000);
        assertThat(KafkaSpec.DEFAULT.partitions()).isEqualTo(4);
        assertThat(CutoverSpec.DEFAULT.lockTimeoutMs()).isEqualTo(2000);
        assertThatThrownBy(() -> new SinkSpec(0, null, null, null)).hasMessage("sink.batchSize must be at least 1");
        assertThatThrownBy(() -> new SinkSpec(null, null, null, "drop")).hasMessage("sink.truncate must be 'refuse' or 'apply'");
        assertThatThrownBy(() -> new SnapshotSpec(null, "lazy")).hasMessage("snapshot.mode must be 'chunked', 'initial', 'incremental' or 'none'");
        assertThatThrownBy(() -> new MemorySpec(5000)).hasMessage("memory.stageBudgetMiB must be between 1 and 4096");
        assertThatThrownBy(() -> new KafkaSpec(null, null, 0)).hasMessage("kafka.partitions must be at least 1");
    }
}
