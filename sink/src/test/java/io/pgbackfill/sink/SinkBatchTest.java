package io.pgbackfill.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.catalog.ColumnType;
import io.pgbackfill.core.event.RowChange;
import io.pgbackfill.core.sql.TableName;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** Reduction of a batch to one change per key: the newest LSN wins, whatever order the changes arrive in. */
class SinkBatchTest {
    private static final TargetTable USERS = table("users");
    private static final TargetTable ORDERS = table("orders");
    private long nextOffset;

    private static TargetTable table(String name) {
        return new TargetTable(TableName.parse(name), List.of(
                new Column("id", ColumnType.parse("bigint"), true),
                new Column("name", ColumnType.parse("text"), false),
                new Column("bio", ColumnType.parse("text"), false)), List.of("id"));
    }

    private static RowChange upsert(long lsn, long id, String name, String bio, String... unchanged) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", Long.toString(id));
        values.put("name", name);
        values.put("bio", bio);
        return RowChange.upsert(lsn, Map.of("id", Long.toString(id)), values, Set.of(unchanged));
    }

    private void add(SinkBatch b, TargetTable t, RowChange rc) {
        add(b, t, rc, 0);
    }

    private void add(SinkBatch b, TargetTable t, RowChange rc, int partition) {
        b.add(t, new SinkBatch.Entry(rc, null, null, "rows." + t.name().table(), partition, nextOffset++), 1000);
    }

    private static RowChange only(SinkBatch b, TargetTable t) {
        assertThat(b.rows().get(t)).hasSize(1);
        return b.rows().get(t).values().iterator().next().change();
    }

    @Test
    void laterLsnReplacesEarlier() {
        SinkBatch b = new SinkBatch();
        add(b, USERS, upsert(10, 1, "ada", "x"));
        add(b, USERS, upsert(20, 1, "grace", "y"));
        assertThat(only(b, USERS).values()).containsEntry("name", "grace").containsEntry("bio", "y");
        assertThat(only(b, USERS).lsn()).isEqualTo(20);
        assertThat(b.size()).isEqualTo(1);
    }

    @Test
    void olderLsnArrivingLaterIsIgnored() {
        SinkBatch b = new SinkBatch();
        add(b, USERS, upsert(20, 1, "grace", "y"));
        add(b, USERS, upsert(10, 1, "ada", "x"));
        add(b, USERS, RowChange.delete(15, Map.of("id", "1")));
        assertThat(only(b, USERS).lsn()).isEqualTo(20);
        assertThat(only(b, USERS).values()).containsEntry("name", "grace");
    }

    @Test
    void redeliveryOfTheSameChangeIsHarmless() {
        SinkBatch b = new SinkBatch();
        RowChange rc = upsert(10, 1, "ada", "x");
        add(b, USERS, rc);
        add(b, USERS, rc);
        assertThat(only(b, USERS)).isEqualTo(rc);
        assertThat(b.size()).isEqualTo(1);
    }

    @Test
    void deleteAfterUpsertDeletesAndUpsertAfterDeleteRecreates() {
        SinkBatch b = new SinkBatch();
        add(b, USERS, upsert(10, 1, "ada", "x"));
        add(b, USERS, RowChange.delete(20, Map.of("id", "1")));
        assertThat(only(b, USERS).isDelete()).isTrue();
        add(b, USERS, upsert(30, 1, "again", "z", "bio"));
        // A row recreated after a delete has no earlier value to keep: the column stays "unchanged".
        assertThat(only(b, USERS).isUpsert()).isTrue();
        assertThat(only(b, USERS).unchangedOrEmpty()).containsExactly("bio");
    }

    @Test
    void unchangedToastColumnTakesItsValueFromTheEarlierChangeInTheBatch() {
        SinkBatch b = new SinkBatch();
        add(b, USERS, upsert(10, 1, "ada", "long bio"));
        add(b, USERS, upsert(20, 1, "ada lovelace", null, "bio"));
        RowChange merged = only(b, USERS);
        assertThat(merged.lsn()).isEqualTo(20);
        assertThat(merged.values()).containsEntry("name", "ada lovelace").containsEntry("bio", "long bio");
        assertThat(merged.unchangedOrEmpty()).isEmpty();
    }

    @Test
    void anUpdateWithoutItsToastValueAfterAReReadStaysAReReadAndAWholeRowReplacesIt() {
        SinkBatch b = new SinkBatch();
        add(b, USERS, RowChange.reread(10, Map.of("id", "1"), null, "{\"id\":1}"));
        RowChange partial = upsert(20, 1, "renamed", null, "bio");
        add(b, USERS, RowChange.upsert(20, partial.key(), partial.values(), partial.unchanged(), null, "{\"id\":1}"));
        assertThat(only(b, USERS)).isEqualTo(RowChange.reread(20, Map.of("id", "1"), null, "{\"id\":1}"));
        add(b, USERS, upsert(30, 1, "whole", "bio 3"));
        assertThat(only(b, USERS).isUpsert()).isTrue();
        assertThat(only(b, USERS).values()).containsEntry("bio", "bio 3");
    }

    @Test
    void aMergedUpdateKeepsItsSourceKeys() {
        SinkBatch b = new SinkBatch();
        add(b, USERS, RowChange.upsert(10, Map.of("id", "1"), upsert(10, 1, "a", "bio").values(), null, "{\"id\":1}", null));
        add(b, USERS, RowChange.upsert(20, Map.of("id", "1"), upsert(20, 1, "b", null, "bio").values(), java.util.Set.of("bio"), "{\"id\":1}", "{\"id\":1}"));
        assertThat(only(b, USERS).sourceKey()).isEqualTo("{\"id\":1}");
        assertThat(only(b, USERS).unchangedOrEmpty()).isEmpty();
        assertThat(only(b, USERS).rereadKey()).as("whole again: nothing to read").isNull();
    }

    @Test
    void unchangedInBothStaysUnchangedAndAnExplicitValueIsNotOverwritten() {
        SinkBatch b = new SinkBatch();
        add(b, USERS, upsert(10, 1, "a", null, "bio"));
        add(b, USERS, upsert(20, 1, "b", null, "bio"));
        assertThat(only(b, USERS).unchangedOrEmpty()).containsExactly("bio");
        assertThat(only(b, USERS).values()).containsEntry("name", "b");

        SinkBatch c = new SinkBatch();
        add(c, USERS, upsert(10, 1, "a", null, "bio"));
        add(c, USERS, upsert(20, 1, "b", "new bio"));
        assertThat(only(c, USERS).values()).containsEntry("bio", "new bio");
        assertThat(only(c, USERS).unchangedOrEmpty()).isEmpty();
    }

    @Test
    void compositeKeysThatPrintAlikeAreStillDifferentRows() {
        TargetTable pairs = new TargetTable(TableName.parse("pairs"), List.of(
                new Column("a", ColumnType.parse("text"), true),
                new Column("b", ColumnType.parse("text"), true)), List.of("a", "b"));
        Map<String, String> first = orderedKey("a", "x, b=y", "b", "z");
        Map<String, String> second = orderedKey("a", "x", "b", "y, b=z");
        assertThat(first.toString()).isEqualTo(second.toString()); // why toString() cannot be the reduction key
        SinkBatch b = new SinkBatch();
        add(b, pairs, RowChange.upsert(10, first, first, null));
        add(b, pairs, RowChange.upsert(20, second, second, null));
        assertThat(b.size()).isEqualTo(2);
        assertThat(b.rows().get(pairs).values()).extracting(e -> e.change().key()).containsExactly(first, second);
    }

    private static Map<String, String> orderedKey(String k1, String v1, String k2, String v2) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(k1, v1);
        m.put(k2, v2);
        return m;
    }

    @Test
    void tablesAreReducedSeparately() {
        SinkBatch b = new SinkBatch();
        add(b, USERS, upsert(10, 1, "u", null));
        add(b, ORDERS, upsert(11, 1, "o", null));
        assertThat(b.size()).isEqualTo(2);
        assertThat(only(b, USERS).values()).containsEntry("name", "u");
        assertThat(only(b, ORDERS).values()).containsEntry("name", "o");
    }

    @Test
    void watermarksKeepTheHighestPerPartitionAndAreNotRows() {
        SinkBatch b = new SinkBatch();
        add(b, USERS, RowChange.watermark(50, true), 0);
        add(b, USERS, RowChange.watermark(40, false), 0);
        add(b, USERS, RowChange.watermark(30, false), 1);
        assertThat(b.size()).isZero();
        assertThat(b.isEmpty()).isFalse(); // offsets still need committing
        assertThat(b.watermarks().get(USERS)).containsEntry(0, new SinkBatch.Watermark(50, true)).containsEntry(1, new SinkBatch.Watermark(30, false));
    }

    @Test
    void offsetsToCommitAreOnePastTheLastRecordOfEachPartition() {
        SinkBatch b = new SinkBatch();
        b.add(USERS, new SinkBatch.Entry(upsert(1, 1, "a", null), null, null, "t", 0, 7), 1000);
        b.add(USERS, new SinkBatch.Entry(upsert(2, 2, "b", null), null, null, "t", 0, 8), 1000);
        b.add(USERS, new SinkBatch.Entry(upsert(3, 3, "c", null), null, null, "t", 1, 3), 1010);
        assertThat(b.offsets()).containsEntry(new TopicPartition("t", 0), new OffsetAndMetadata(9))
                .containsEntry(new TopicPartition("t", 1), new OffsetAndMetadata(4));
        assertThat(b.ageMs(1050)).isEqualTo(50);
        assertThat(new SinkBatch().ageMs(1050)).isZero();
    }
}
