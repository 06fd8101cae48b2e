package io.pgbackfill.core.transform;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.event.ChangeEvent;
import io.pgbackfill.core.event.RowChange;
import io.pgbackfill.core.spec.SpecLoader;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** When two source rows could meet in one target key, every change says which source row it is. */
class SourceKeyTrackingTest {
    static final TableSchema SRC = TableTransformTest.schema("public.src", List.of("tenant", "id"), "tenant:integer!", "id:bigint!",
            "code:text!", "pad:character(4)!", "v:text");

    static TableTransform compile(String dstPk, String dstCols, String columns) {
        TableSchema dst = TableTransformTest.schema("public.dst", List.of(dstPk.split(",")), dstCols.split(" "));
        String yaml = "name: keys\nsource: {jdbcUrl: x}\ntables:\n  - source: public.src\n    target: public.dst\n    key: [" + dstPk + "]\n    columns: {" + columns + "}\n";
        return MigrationPlan.compile(SpecLoader.parse(yaml, "k.yaml"), "k.yaml", Map.of("public.src", SRC), Map.of("public.dst", dst), true)
                .tables().get(0);
    }

    @Test
    void aCopiedSourceKeyNeedsNoTracking() {
        assertThat(compile("tenant,id", "tenant:integer! id:bigint! v:text", "tenant: tenant, id: id, v: v").tracksSourceKey()).isFalse();
        // widening integers and text into varchar keep distinct values distinct (too long is rejected, not cut)
        assertThat(compile("tenant,id", "tenant:bigint! id:bigint! v:text", "tenant: tenant, id: id, v: v").tracksSourceKey()).isFalse();
    }

    @Test
    void aComputedNarrowedPaddedOrPartialKeyIsTracked() {
        assertThat(compile("id", "id:bigint! v:text", "id: id, v: v").tracksSourceKey()).as("part of the source key").isTrue();
        assertThat(compile("tenant,id", "tenant:integer! id:bigint!", "tenant: tenant, id: id / 10").tracksSourceKey()).as("computed").isTrue();
        assertThat(compile("tenant,id", "tenant:integer! id:text!", "tenant: tenant, id: string(id)").tracksSourceKey()).isTrue();
        assertThat(compile("tenant,id", "tenant:integer! id:bigint!", "tenant: id, id: tenant").tracksSourceKey()).as("swapped is still a copy").isFalse();
    }

    @Test
    void trackedChangesCarryTheSourceKeyUntrackedOnesDoNot() throws Exception {
        TableTransform tracked = compile("tenant,id", "tenant:integer! id:bigint!", "tenant: tenant, id: id / 10");
        Map<String, Object> key = new LinkedHashMap<>();
        key.put("tenant", 1L);
        key.put("id", 42L);
        Map<String, Object> after = new LinkedHashMap<>(key);
        after.put("code", "c");
        after.put("pad", "p");
        after.put("v", "x");
        RowChange up = tracked.apply(new ChangeEvent("c", "public.src", 10, 0, false, key, after, null, null)).get(0);
        assertThat(up.sourceKey()).isEqualTo("{\"tenant\":1,\"id\":42}");
        assertThat(up.key()).containsEntry("id", "4");
        RowChange del = tracked.apply(new ChangeEvent("d", "public.src", 11, 0, false, key, null, null, null)).get(0);
        assertThat(del.isDelete()).isTrue();
        assertThat(del.sourceKey()).isEqualTo(up.sourceKey());

        TableTransform copy = compile("tenant,id", "tenant:integer! id:bigint!", "tenant: tenant, id: id");
        assertThat(copy.apply(new ChangeEvent("c", "public.src", 10, 0, false, key, after, null, null)).get(0).sourceKey()).isNull();
    }
}
