package io.pgbackfill.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbackfill.core.event.RowChange;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link BatchWriter} against a real PostgreSQL. Most cases run three ways: every upsert through COPY
 * (threshold 1), big parts through COPY and bisected halves through arrays (threshold 100), and every
 * upsert through the array statement (threshold above any batch).
 */
class BatchWriterIT {
    private static final int ALL_COPY = 1;
    private static final int MIXED = 100;
    private static final int ALL_ARRAYS = 1_000_000;
    private static TargetDatabase db;
    private long offset;

    @BeforeAll
    static void up() throws Exception {
        db = TargetDatabase.start("batch_writer_it");
    }

    @AfterAll
    static void down() throws Exception {
        if (db != null) {
            db.close();
        }
    }

    private static BatchWriter writer(int copyThreshold) {
        return new BatchWriter("batch-writer-it", new SinkConfig(5000, 50, copyThreshold, true, 100));
    }

    private List<BatchWriter.Rejected> write(BatchWriter w, TargetTable t, RowChange... changes) throws Exception {
        return write(w, t, List.of(changes));
    }

    private List<BatchWriter.Rejected> write(BatchWriter w, TargetTable t, List<RowChange> changes) throws Exception {
        return outcome(w, t, changes).rejected();
    }

    private BatchWriter.Outcome outcome(BatchWriter w, TargetTable t, List<RowChange> changes) throws Exception {
        SinkBatch batch = new SinkBatch();
        for (RowChange rc : changes) {
            batch.add(t, new SinkBatch.Entry(rc, null, null, "rows", 0, offset++), 0);
        }
        try (Connection c = db.connect()) {
            return w.write(c, batch);
        }
    }

    /** An update without its unchanged TOAST value, as the transformer sends it: with the source key to read again. */
    private static RowChange partial(long lsn, Map<String, String> values, String... unchanged) {
        return RowChange.upsert(lsn, Map.of("id", values.get("id")), values, Set.of(unchanged), null, "{\"id\":" + values.get("id") + "}");
    }

    private static RowChange upsert(long lsn, Map<String, String> values, String... unchanged) {
        return RowChange.upsert(lsn, Map.of("id", values.get("id")), values, Set.of(unchanged));
    }

    /** Column/value pairs in order; a null value is SQL NULL. */
    private static Map<String, String> row(String... pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }

    /** Random letters: pglz cannot compress them, so 100 KB of it is stored out of line (real TOAST). */
    private static String incompressible(int length, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append((char) ('a' + rnd.nextInt(26)));
        }
        return sb.toString();
    }

    private static String docsTable(int copyThreshold, String suffix) throws Exception {
        String name = "docs_" + suffix + "_" + copyThreshold;
        // bio NOT NULL, as real TOASTed columns often are: PostgreSQL checks NOT NULL on the proposed row
        // of an INSERT … ON CONFLICT before it finds the conflict.
        db.execute("CREATE TABLE " + name + " (id bigint PRIMARY KEY, title text NOT NULL, bio text NOT NULL)");
        return name;
    }

    @ParameterizedTest(name = "copyThreshold={0}")
    @ValueSource(ints = {ALL_COPY, ALL_ARRAYS})
    void unchangedToastColumnKeepsTheLargeValueAlreadyInTheTarget(int copyThreshold) throws Exception {
        String name = docsTable(copyThreshold, "kept");
        TargetTable t = db.prepare(name);
        String bio = incompressible(100_000, 1);
        BatchWriter w = writer(copyThreshold);
        assertThat(write(w, t, upsert(10, row("id", "1", "title", "first", "bio", bio)))).isEmpty();
        assertThat(db.value("SELECT pg_relation_size(reltoastrelid) >= 100000 FROM pg_class WHERE relname = '" + name + "'")).as("bio is stored out of line (pg_column_toast_chunk_id is PostgreSQL 17+)").isEqualTo("t");

        assertThat(write(w, t, upsert(20, row("id", "1", "title", "second", "bio", null), "bio"))).isEmpty();

        assertThat(db.rows("SELECT title, bio, _pgbackfill_lsn FROM " + name)).containsExactly(List.of("second", bio, "20"));
    }

    @ParameterizedTest(name = "copyThreshold={0}")
    @ValueSource(ints = {ALL_COPY, ALL_ARRAYS})
    void aChangeWithoutItsToastValueForARowTheTargetLacksIsReadAgainNotWrittenWithNull(int copyThreshold) throws Exception {
        String name = "docs_missing_" + copyThreshold;
        db.execute("CREATE TABLE " + name + " (id bigint PRIMARY KEY, title text, bio text)"); // NULL allowed: nothing would stop it
        TargetTable t = db.prepare(name);
        BatchWriter w = writer(copyThreshold);
        write(w, t, upsert(10, row("id", "1", "title", "held", "bio", "kept")));

        BatchWriter.Outcome out = outcome(w, t, List.of(
                partial(20, row("id", "1", "title", "held, updated", "bio", null), "bio"),
                partial(21, row("id", "2", "title", "never seen", "bio", null), "bio"), // e.g. it just started to match the filter
                upsert(22, row("id", "3", "title", "whole", "bio", "b3"))));

        assertThat(out.rejected()).isEmpty();
        assertThat(out.rereads()).extracting(e -> e.change().rereadKey()).containsExactly("{\"id\":2}");
        assertThat(db.rows("SELECT id::text, title, bio FROM " + name + " ORDER BY id"))
                .containsExactly(List.of("1", "held, updated", "kept"), List.of("3", "whole", "b3"));
        // a replayed older change of a held row is neither written nor read again: it is just older
        BatchWriter.Outcome replay = outcome(w, t, List.of(partial(15, row("id", "1", "title", "older", "bio", null), "bio")));
        assertThat(replay.rejected()).isEmpty();
        assertThat(replay.rereads()).isEmpty();
        assertThat(db.value("SELECT title FROM " + name + " WHERE id = 1")).isEqualTo("held, updated");
        // without a source key (an older transformer wrote it) there is nothing to read again: the DLQ, saying why
        List<BatchWriter.Rejected> rejected = write(w, t, upsert(23, row("id", "4", "title", "old format", "bio", null), "bio"));
        assertThat(rejected).extracting(r -> r.entry().change().key().get("id"), BatchWriter.Rejected::reason)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("4", io.pgbackfill.core.transform.RowRejected.Reason.TOAST_UNAVAILABLE));
        assertThat(rejected.get(0).message()).contains("source key");
        assertThat(db.value("SELECT count(*) FROM " + name + " WHERE id IN (2, 4)")).isEqualTo("0");
    }

    /** A re-read (a new key without its unchanged TOAST value): the target's older row goes, guarded; the source row is read again. */
    @ParameterizedTest(name = "copyThreshold={0}")
    @ValueSource(ints = {ALL_COPY, ALL_ARRAYS})
    void aRereadRemovesTheOlderTargetRowAndAsksForTheSourceRow(int copyThreshold) throws Exception {
        String name = "docs_reread_" + copyThreshold;
        db.execute("CREATE TABLE " + name + " (id bigint PRIMARY KEY, title text, bio text)");
        TargetTable t = db.prepare(name);
        BatchWriter w = writer(copyThreshold);
        write(w, t, upsert(10, row("id", "1", "title", "stale", "bio", "old")), upsert(50, row("id", "2", "title", "newer", "bio", "b2")));

        BatchWriter.Outcome out = outcome(w, t, List.of(
                RowChange.reread(30, Map.of("id", "1"), null, "{\"id\":1}"),
                RowChange.reread(40, Map.of("id", "2"), null, "{\"id\":2}"), // a replay: the target has a newer version
                // an update right after a re-read in one batch has nothing to take its unchanged value from: still a re-read
                RowChange.reread(31, Map.of("id", "3"), null, "{\"id\":3}"),
                partial(32, row("id", "3", "title", "moved, then updated", "bio", null), "bio")));

        assertThat(out.rejected()).isEmpty();
        assertThat(out.rereads()).extracting(e -> e.change().rereadKey()).containsExactlyInAnyOrder("{\"id\":1}", "{\"id\":2}", "{\"id\":3}");
        assertThat(out.rereads()).filteredOn(e -> "{\"id\":3}".equals(e.change().rereadKey())).singleElement()
                .satisfies(e -> assertThat(e.change().lsn()).isEqualTo(32));
        assertThat(db.rows("SELECT id::text, title, bio FROM " + name + " ORDER BY id")).containsExactly(List.of("2", "newer", "b2"));
    }

    @ParameterizedTest(name = "copyThreshold={0}")
    @ValueSource(ints = {ALL_COPY, ALL_ARRAYS})
    void unchangedToastColumnTakesTheValueOfAnInsertInTheSameBatch(int copyThreshold) throws Exception {
        String name = docsTable(copyThreshold, "merged");
        TargetTable t = db.prepare(name);
        String bio = incompressible(100_000, 2);

        List<BatchWriter.Rejected> rejected = write(writer(copyThreshold), t,
                upsert(10, row("id", "1", "title", "first", "bio", bio)),
                upsert(20, row("id", "1", "title", "second", "bio", null), "bio"));

        assertThat(rejected).isEmpty();
        assertThat(db.rows("SELECT title, bio, _pgbackfill_lsn FROM " + name)).containsExactly(List.of("second", bio, "20"));
    }

    @ParameterizedTest(name = "copyThreshold={0}")
    @ValueSource(ints = {ALL_COPY, MIXED, ALL_ARRAYS})
    void rowsTheTargetRejectsAreIsolatedAndTheOtherRowsCommit(int copyThreshold) throws Exception {
        String name = "accounts_" + copyThreshold;
        db.execute("CREATE TABLE " + name + " (id bigint PRIMARY KEY, code varchar(5) NOT NULL, "
                + "qty int CONSTRAINT qty_not_negative CHECK (qty >= 0))");
        TargetTable t = db.prepare(name);
        List<RowChange> changes = new ArrayList<>();
        for (int id = 1; id <= 1000; id++) {
            String code = switch (id) {
                case 137 -> "toolong";
                case 501 -> null;
                default -> "c" + (id % 1000);
            };
            String qty = id == 888 ? "-1" : Integer.toString(id);
            changes.add(upsert(id, row("id", Integer.toString(id), "code", code, "qty", qty)));
        }
        changes.add(RowChange.watermark(2000, false)); // the batch's progress commits with its good rows

        List<BatchWriter.Rejected> rejected = write(writer(copyThreshold), t, changes);

        Map<String, BatchWriter.Rejected> byId = new HashMap<>();
        rejected.forEach(r -> byId.put(r.entry().change().key().get("id"), r));
        assertThat(byId).containsOnlyKeys("137", "501", "888");
        assertThat(byId.get("137").sqlState()).isEqualTo("22001");
        assertThat(byId.get("137").message()).contains("value too long for type character varying(5)");
        assertThat(byId.get("501").sqlState()).isEqualTo("23502");
        assertThat(byId.get("501").message()).contains("\"code\"");
        assertThat(byId.get("888").sqlState()).isEqualTo("23514");
        assertThat(byId.get("888").message()).contains("qty_not_negative");
        assertThat(db.value("SELECT count(*) FROM " + name)).isEqualTo("997");
        assertThat(db.value("SELECT count(*) FROM " + name + " WHERE id IN (137, 501, 888)")).isEqualTo("0");
        assertThat(db.value("SELECT sum(qty) FROM " + name)).isEqualTo(Long.toString(500_500L - 137 - 501 - 888));
        assertThat(db.value("SELECT lsn FROM " + BatchWriter.PROGRESS_TABLE + " WHERE target_table = 'public." + name + "'")).isEqualTo("2000");
    }

    @ParameterizedTest(name = "copyThreshold={0}")
    @ValueSource(ints = {ALL_COPY, ALL_ARRAYS})
    void valuesAreAssignedNotCastSoTooLongIsAnErrorAndNothingIsCut(int copyThreshold) throws Exception {
        String name = "codes_" + copyThreshold;
        db.execute("CREATE TABLE " + name + " (id int PRIMARY KEY, c char(5), v varchar(5), b bit(3), n numeric(5,2))");
        TargetTable t = db.prepare(name);

        List<BatchWriter.Rejected> rejected = write(writer(copyThreshold), t,
                upsert(1, row("id", "1", "c", "abc", "v", "abcde", "b", "101", "n", "123.456")),
                upsert(2, row("id", "2", "c", "abcdef", "v", "a", "b", "101", "n", "1")),
                upsert(3, row("id", "3", "c", "a", "v", "abcdef", "b", "101", "n", "1")),
                upsert(4, row("id", "4", "c", "a", "v", "a", "b", "10", "n", "1")),
                upsert(5, row("id", "5", "c", "a", "v", "a", "b", "101", "n", "1234.5")));

        Map<String, String> stateById = new HashMap<>();
        rejected.forEach(r -> stateById.put(r.entry().change().key().get("id"), r.sqlState()));
        assertThat(stateById).containsExactlyInAnyOrderEntriesOf(Map.of("2", "22001", "3", "22001", "4", "22026", "5", "22003"));
        // char(5) pads; numeric(5,2) rounds as any INSERT would.
        assertThat(db.rows("SELECT c, v, b::text, n::text FROM " + name)).containsExactly(List.of("abc  ", "abcde", "101", "123.46"));
    }

    /**
     * Large parts of new keys go in with one COPY into the target; a part that meets a key the target holds falls back
     * to the guarded upsert (the newer row stays, the rest is written), and the next part skips the attempt.
     */
    @Test
    void newKeysAreCopiedStraightInAndAKnownKeyFallsBackToTheGuardedUpsert() throws Exception {
        String name = "filled";
        db.execute("CREATE TABLE " + name + " (id bigint PRIMARY KEY, v text, at timestamptz)");
        TargetTable t = db.prepare(name);
        BatchWriter w = writer(ALL_COPY);
        List<RowChange> fresh = new ArrayList<>();
        for (int id = 1; id <= 300; id++) {
            fresh.add(upsert(0, row("id", Integer.toString(id), "v", id == 7 ? null : "snap\t\u00e9\uD83D\uDE00 " + id, "at", "2024-01-01T00:00:00Z")));
        }
        write(w, t, fresh);
        assertThat(w.directCopies()).isEqualTo(1);
        assertThat(w.directFallbacks()).isZero();
        assertThat(db.value("SELECT count(*) FROM " + name + " WHERE _pgbackfill_lsn = 0")).isEqualTo("300");
        assertThat(db.value("SELECT v FROM " + name + " WHERE id = 300")).isEqualTo("snap\t\u00e9\uD83D\uDE00 300");
        assertThat(db.value("SELECT coalesce(v, 'NULL') FROM " + name + " WHERE id = 7")).isEqualTo("NULL");

        // A streamed update of a row the target holds: the attempt gives way to the upsert, which applies it.
        write(w, t, upsert(50, row("id", "5", "v", "streamed", "at", null)));
        assertThat(w.directFallbacks()).isEqualTo(1);
        // The next part skips the attempt; the guard keeps the newer version of 5 against the snapshot's.
        write(w, t, upsert(0, row("id", "5", "v", "snap again", "at", null)), upsert(0, row("id", "301", "v", "new", "at", null)));
        assertThat(w.directCopies()).as("the part after a fallback skips the attempt").isEqualTo(1);
        write(w, t, upsert(60, row("id", "302", "v", "x", "at", null)));
        assertThat(w.directCopies()).isEqualTo(2);
        // Tried again, and given way again: nothing of the failed attempt stays.
        write(w, t, upsert(0, row("id", "303", "v", "y", "at", null)), upsert(0, row("id", "5", "v", "snap once more", "at", null)));
        assertThat(w.directFallbacks()).isEqualTo(2);
        assertThat(db.rows("SELECT id::text, v, _pgbackfill_lsn::text FROM " + name + " WHERE id IN (5, 301, 302, 303) ORDER BY id::bigint"))
                .containsExactly(List.of("5", "streamed", "50"), List.of("301", "new", "0"), List.of("302", "x", "60"), List.of("303", "y", "0"));
        assertThat(db.value("SELECT count(*) FROM " + name)).isEqualTo("303");
    }

    /**
     * Without a unique index on its key a table would take a second row for a key it holds, so the COPY is never tried
     * there: the upsert runs and refuses the table as before. A deferred key is not checked by the COPY either.
     */
    @Test
    void aKeyWithoutAnImmediateUniqueIndexIsNeverCopiedStraightIn() throws Exception {
        db.execute("CREATE TABLE keyless (id bigint, v text)");
        db.execute("CREATE TABLE deferred (id bigint, v text, CONSTRAINT deferred_pk PRIMARY KEY (id) DEFERRABLE INITIALLY DEFERRED)");
        db.execute("CREATE TABLE partial (id bigint, v text)");
        db.execute("CREATE UNIQUE INDEX partial_id ON partial (id) WHERE id > 0");
        db.execute("CREATE TABLE composite (a int, b int, v text, PRIMARY KEY (b, a))");
        try (Connection c = db.connect()) {
            assertThat(TargetTable.keyIsUnique(c, io.pgbackfill.core.sql.TableName.parse("keyless"), List.of("id"))).isFalse();
            assertThat(TargetTable.keyIsUnique(c, io.pgbackfill.core.sql.TableName.parse("deferred"), List.of("id"))).isFalse();
            assertThat(TargetTable.keyIsUnique(c, io.pgbackfill.core.sql.TableName.parse("partial"), List.of("id"))).isFalse();
            assertThat(TargetTable.keyIsUnique(c, io.pgbackfill.core.sql.TableName.parse("composite"), List.of("a", "b"))).isTrue();
            assertThat(TargetTable.keyIsUnique(c, io.pgbackfill.core.sql.TableName.parse("composite"), List.of("a"))).isFalse();
        }
        TargetTable keyless;
        try (Connection c = db.connect()) {
            var schema = io.pgbackfill.core.catalog.TableSchema.read(c, io.pgbackfill.core.sql.TableName.parse("keyless")).orElseThrow();
            keyless = new TargetTable(schema.name(), List.copyOf(schema.columns().values()), List.of("id"),
                    TargetTable.keyIsUnique(c, schema.name(), List.of("id")));
            BatchWriter.prepare(c, List.of(keyless));
        }
        BatchWriter w = writer(ALL_COPY);
        List<RowChange> fresh = new ArrayList<>();
        for (int id = 1; id <= 1000; id++) {
            fresh.add(upsert(0, row("id", Integer.toString(id), "v", "x")));
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> write(w, keyless, fresh)).hasMessageContaining("ON CONFLICT");
        assertThat(w.directCopies()).isZero();
        assertThat(db.value("SELECT count(*) FROM keyless")).isEqualTo("0");
    }

    @ParameterizedTest(name = "copyThreshold={0}")
    @ValueSource(ints = {ALL_COPY, ALL_ARRAYS})
    void replayingOlderChangesAfterNewerOnesChangesNothing(int copyThreshold) throws Exception {
        String name = "replayed_" + copyThreshold;
        db.execute("CREATE TABLE " + name + " (id bigint PRIMARY KEY, v text)");
        TargetTable t = db.prepare(name);
        BatchWriter w = writer(copyThreshold);
        write(w, t, upsert(10, row("id", "1", "v", "a")), upsert(10, row("id", "2", "v", "a")));
        write(w, t, upsert(30, row("id", "1", "v", "c")), RowChange.delete(30, Map.of("id", "2")), upsert(30, row("id", "3", "v", "c")));

        write(w, t, upsert(20, row("id", "1", "v", "b")), upsert(20, row("id", "3", "v", "b")), RowChange.delete(20, Map.of("id", "1")));

        assertThat(db.rows("SELECT id::text, v, _pgbackfill_lsn::text FROM " + name + " ORDER BY id"))
                .containsExactly(List.of("1", "c", "30"), List.of("3", "c", "30"));
    }

    @Test
    void truncateRemovesOnlyRowsOlderThanItsLsn() throws Exception {
        db.execute("CREATE TABLE events (id bigint PRIMARY KEY, v text)", "INSERT INTO events VALUES (0, 'there before the sink')");
        TargetTable t = db.prepare("events");
        BatchWriter w = writer(ALL_ARRAYS);
        write(w, t, upsert(10, row("id", "1", "v", "a")), upsert(20, row("id", "2", "v", "b")),
                upsert(25, row("id", "3", "v", "c")), upsert(30, row("id", "4", "v", "d")));

        try (Connection c = db.connect()) {
            w.truncate(c, t, 25);
        }

        // Rows written at or after the truncate's LSN came after it in the source and stay.
        assertThat(db.rows("SELECT id::text FROM events ORDER BY id")).containsExactly(List.of("3"), List.of("4"));
    }

    /** A change of a table whose target key ({@code bucket = id / 10}) is computed from the source key. */
    private static RowChange bucket(String op, long lsn, long sourceId, String v) {
        String src = "{\"id\":" + sourceId + "}";
        Map<String, String> key = Map.of("bucket", Long.toString(sourceId / 10));
        return op.equals("d") ? RowChange.delete(lsn, key, src)
                : RowChange.upsert(lsn, key, row("bucket", key.get("bucket"), "v", v), Set.of(), src);
    }

    @ParameterizedTest(name = "copyThreshold={0}")
    @ValueSource(ints = {ALL_COPY, ALL_ARRAYS})
    void aSecondSourceRowForOneTargetKeyIsReportedNeverMergedAndReplaysChangeNothing(int copyThreshold) throws Exception {
        String name = "buckets_" + copyThreshold;
        db.execute("CREATE TABLE " + name + " (bucket bigint PRIMARY KEY, v text)");
        TargetTable t = db.prepare(name);
        BatchWriter w = writer(copyThreshold);
        // in one batch: 11 and 12 meet in bucket 1 (12 is later: reported), 20 is alone in bucket 2
        List<BatchWriter.Rejected> first = write(w, t, bucket("u", 10, 11, "a"), bucket("u", 12, 12, "b"), bucket("u", 11, 20, "c"));
        assertThat(first).extracting(r -> r.entry().change().sourceKey(), BatchWriter.Rejected::reason)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("{\"id\":12}", io.pgbackfill.core.transform.RowRejected.Reason.DUPLICATE_TARGET_KEY));
        assertThat(first.get(0).message()).contains("{\"id\":11} already holds");
        // in a later batch: 13 also wants bucket 1 and is reported; 12's delete must not remove 11's row;
        // 11's own update still applies
        List<BatchWriter.Rejected> second = write(w, t, bucket("u", 20, 13, "d"), bucket("d", 21, 12, null), bucket("u", 22, 11, "a2"));
        assertThat(second).extracting(r -> r.entry().change().sourceKey()).containsExactly("{\"id\":13}");
        // replaying both batches changes nothing and reports the same rows again
        assertThat(write(w, t, bucket("u", 10, 11, "a"), bucket("u", 12, 12, "b"), bucket("u", 11, 20, "c"))).hasSize(1);
        assertThat(write(w, t, bucket("u", 20, 13, "d"), bucket("d", 21, 12, null), bucket("u", 22, 11, "a2"))).hasSize(1);
        assertThat(db.rows("SELECT bucket::text, v, _pgbackfill_source_key FROM " + name + " ORDER BY bucket"))
                .containsExactly(List.of("1", "a2", "{\"id\":11}"), List.of("2", "c", "{\"id\":20}"));
        // once 11 is deleted, bucket 1 is free: 12 comes back in (a DLQ replay would do this)
        write(w, t, bucket("d", 30, 11, null));
        assertThat(write(w, t, bucket("u", 31, 12, "b2"))).isEmpty();
        assertThat(db.rows("SELECT bucket::text, v, _pgbackfill_source_key FROM " + name + " ORDER BY bucket"))
                .containsExactly(List.of("1", "b2", "{\"id\":12}"), List.of("2", "c", "{\"id\":20}"));
    }
}
