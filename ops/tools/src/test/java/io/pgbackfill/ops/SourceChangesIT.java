package io.pgbackfill.ops;

import io.pgbackfill.embedded.InfrastructureExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbackfill.core.Secret;
import io.pgbackfill.core.event.ChangeEvent;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.embedded.EmbeddedInfrastructure;
import io.pgbackfill.ops.dlq.DeadLetterTopic;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.pipeline.Pipeline;
import io.pgbackfill.ops.verify.Verifier;
import io.pgbackfill.sink.SinkConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/**
 * What the source does to its rows and tables while the pipeline runs, each with where it must end: the
 * target equal to the source row for row (exact values), or a stop with an error that names the table and
 * the way on, never a silently wrong target. Issue 8: the classes {@link BadInputIT} does not cover.
 */
@ExtendWith(InfrastructureExtension.class)
class SourceChangesIT {
    @InfrastructureExtension.Started
    static EmbeddedInfrastructure infra;

    /** {@code infinity} and {@code -infinity} in timestamptz, timestamp and date: read by the snapshot and streamed. */
    @Test
    void infiniteTimestampsAndDatesArriveEqualFromTheSnapshotAndFromStreaming() throws Exception {
        String db = "infinity";
        // ms is timestamp(3): Debezium sends it as milliseconds, not microseconds
        sql(db, "CREATE TABLE times (id bigint PRIMARY KEY, tz timestamptz, ts timestamp, d date, note text, ms timestamp(3) DEFAULT 'infinity')",
                "CREATE TABLE times_v2 (id bigint PRIMARY KEY, tz timestamptz, ts timestamp, d date, note text, ms timestamp(3))",
                "INSERT INTO times SELECT g, '2024-05-06 07:08:09.123456+00'::timestamptz + g * interval '1 day', "
                        + "'2024-05-06 07:08:09.654321'::timestamp + g * interval '1 hour', date '2024-05-06' + g, 'n' || g, "
                        + "CASE WHEN g % 2 = 0 THEN timestamp '-infinity' ELSE timestamp '2024-01-01 00:00:00.123' END FROM generate_series(1, 200) g",
                "INSERT INTO times VALUES (1001, 'infinity', 'infinity', 'infinity', 'snapshot +inf'), "
                        + "(1002, '-infinity', '-infinity', '-infinity', 'snapshot -inf'), "
                        + "(1003, 'infinity', '-infinity', '2000-01-01', 'snapshot mixed'), "
                        + "(1004, '9999-12-31 23:59:59.999999+00', '0001-01-01 00:00:00', '0001-01-01', 'snapshot finite edges')");
        PipelineSpec spec = spec(db, "", """
                  - source: public.times
                    target: public.times_v2
                    columns: {id: id, tz: tz, ts: ts, d: d, note: note, ms: ms}
                """);
        try (Pipeline p = start(spec)) {
            sql(db, "INSERT INTO times VALUES (2001, 'infinity', 'infinity', 'infinity', 'streamed +inf'), "
                            + "(2002, '-infinity', '-infinity', '-infinity', 'streamed -inf')",
                    "INSERT INTO times SELECT g, now(), localtimestamp, current_date, 'n' || g, "
                            + "CASE WHEN g % 2 = 0 THEN timestamp '-infinity' ELSE localtimestamp END FROM generate_series(201, 300) g",
                    "UPDATE times SET tz = 'infinity', ts = '-infinity', d = 'infinity', note = 'finite to infinite' WHERE id = 10",
                    "UPDATE times SET tz = '2030-01-02 03:04:05.678901+00', ts = '2030-01-02 03:04:05', d = '2030-01-02', "
                            + "note = 'infinite to finite' WHERE id = 1002",
                    "UPDATE times SET note = 'only the note changed' WHERE id = 1001");
            catchUp(spec, p);
        }
        assertThat(deadLetters(spec)).as("nothing infinite is rejected").isEmpty();
        assertThat(differences(db, "times", "times_v2", "id", "tz", "ts", "d", "note", "ms")).isEmpty();
        assertThat(row(db, "SELECT tz = 'infinity', ts = 'infinity', d = 'infinity', note FROM times_v2 WHERE id = 1001"))
                .containsExactly("t", "t", "t", "only the note changed");
        assertThat(row(db, "SELECT tz = '-infinity', ts = '-infinity', d = '-infinity' FROM times_v2 WHERE id = 1002"))
                .as("was -infinity in the snapshot, then finite").containsExactly("f", "f", "f");
        assertThat(row(db, "SELECT tz::text, ts::text, d::text FROM times_v2 WHERE id = 1002", "UTC"))
                .containsExactly("2030-01-02 03:04:05.678901+00", "2030-01-02 03:04:05", "2030-01-02");
        assertThat(row(db, "SELECT tz::text, ts::text, d::text FROM times_v2 WHERE id = 1003")).containsExactly("infinity", "-infinity", "2000-01-01");
        assertThat(row(db, "SELECT tz::text, ts::text, d::text FROM times_v2 WHERE id = 1004", "UTC"))
                .containsExactly("9999-12-31 23:59:59.999999+00", "0001-01-01 00:00:00", "0001-01-01");
        assertThat(row(db, "SELECT tz::text, ts::text, d::text, ms::text FROM times_v2 WHERE id = 2001")).containsExactly("infinity", "infinity", "infinity", "infinity");
        assertThat(row(db, "SELECT ms::text FROM times_v2 WHERE id = 1")).containsExactly("2024-01-01 00:00:00.123");
        assertThat(row(db, "SELECT ms::text FROM times_v2 WHERE id = 2")).containsExactly("-infinity");
        assertThat(row(db, "SELECT ms::text FROM times_v2 WHERE id = 1001")).containsExactly("infinity");
        assertThat(row(db, "SELECT tz::text, ts::text, d::text FROM times_v2 WHERE id = 2002")).containsExactly("-infinity", "-infinity", "-infinity");
        assertThat(row(db, "SELECT tz::text, ts::text, d::text, note FROM times_v2 WHERE id = 10"))
                .containsExactly("infinity", "-infinity", "infinity", "finite to infinite");
        assertThat(count(db, "times_v2")).isEqualTo(306);
        // verify reads the source through JDBC into the same canonical form as the producer: no mismatch either
        List<Verifier.Report> reports = new Verifier(MigrationPlan.connect(spec, db + ".yaml"), 1000, 0, s -> { }).verify();
        assertThat(reports).allSatisfy(r -> assertThat(r.mismatches()).isEmpty());
        assertThat(reports.get(0).sourceRows()).isEqualTo(306);
    }

    /** {@code UPDATE … SET id = …}: Debezium sends a delete of the old key and an insert of the new one. */
    @Test
    void aPrimaryKeyUpdateMovesTheRowWithAllItsValuesAndLeavesItsNeighbours() throws Exception {
        String db = "keychange";
        sql(db, "CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL, balance numeric(12,2), opened timestamptz)",
                "CREATE TABLE accounts_v2 (id bigint PRIMARY KEY, name text NOT NULL, balance numeric(12,2), opened timestamptz)",
                "INSERT INTO accounts SELECT g, 'acct ' || g, g * 1.25, '2020-01-01 00:00:00+00'::timestamptz + g * interval '1 minute' "
                        + "FROM generate_series(1, 200) g");
        PipelineSpec spec = spec(db, "", """
                  - source: public.accounts
                    target: public.accounts_v2
                    columns: {id: id, name: name, balance: balance, opened: opened}
                """);
        try (Pipeline p = start(spec)) {
            sql(db, "UPDATE accounts SET id = 5000 WHERE id = 7",
                    "UPDATE accounts SET id = 5001, name = 'moved and renamed', balance = 99.99 WHERE id = 8",
                    // there and back again: the old key is deleted, then inserted again later
                    "UPDATE accounts SET id = 6000 WHERE id = 9",
                    "UPDATE accounts SET id = 9, name = 'back home' WHERE id = 6000",
                    // moved, then changed under its new key
                    "UPDATE accounts SET id = 7000 WHERE id = 20",
                    "UPDATE accounts SET balance = 0.01 WHERE id = 7000",
                    // moved, then deleted under its new key
                    "UPDATE accounts SET id = 8000 WHERE id = 21",
                    "DELETE FROM accounts WHERE id = 8000",
                    // many keys in one statement, into a range that overlaps nothing
                    "UPDATE accounts SET id = id + 100000 WHERE id BETWEEN 100 AND 109");
            catchUp(spec, p);
        }
        assertThat(deadLetters(spec)).isEmpty();
        assertThat(differences(db, "accounts", "accounts_v2", "id", "name", "balance", "opened")).isEmpty();
        assertThat(ids(db, "accounts_v2", "id IN (7, 8, 20, 21, 6000, 8000) OR id BETWEEN 100 AND 109")).as("old keys are gone").isEmpty();
        assertThat(row(db, "SELECT name, balance::text, opened::text FROM accounts_v2 WHERE id = 5000", "UTC"))
                .containsExactly("acct 7", "8.75", "2020-01-01 00:07:00+00");
        assertThat(row(db, "SELECT name, balance::text, opened::text FROM accounts_v2 WHERE id = 5001", "UTC"))
                .containsExactly("moved and renamed", "99.99", "2020-01-01 00:08:00+00");
        assertThat(row(db, "SELECT name, balance::text FROM accounts_v2 WHERE id = 9")).containsExactly("back home", "11.25");
        assertThat(row(db, "SELECT name, balance::text FROM accounts_v2 WHERE id = 7000")).containsExactly("acct 20", "0.01");
        assertThat(row(db, "SELECT name, balance::text FROM accounts_v2 WHERE id = 100105")).containsExactly("acct 105", "131.25");
        assertThat(row(db, "SELECT name, balance::text FROM accounts_v2 WHERE id = 6")).as("neighbour").containsExactly("acct 6", "7.50");
        assertThat(row(db, "SELECT name, balance::text FROM accounts_v2 WHERE id = 10")).as("neighbour").containsExactly("acct 10", "12.50");
        assertThat(count(db, "accounts_v2")).isEqualTo(199);
    }

    /**
     * A big text value is stored out of line (TOAST). An UPDATE that does not touch it sends it as "unavailable"
     * (no REPLICA IDENTITY FULL): the target must keep its value, not NULL it, not write the placeholder.
     */
    @Test
    void anUpdateThatLeavesABigToastedValueAloneKeepsItInTheTarget() throws Exception {
        String db = "toast";
        // ~20 kB of md5 hex per row: pglz finds nothing to compress, so it is stored out of line
        String big = "(SELECT string_agg(md5(random()::text || x), '') FROM generate_series(1, 640) x WHERE x > g * 0)";
        sql(db, "CREATE TABLE docs (id bigint PRIMARY KEY, body text, title text, n int)",
                "CREATE TABLE docs_v2 (id bigint PRIMARY KEY, body text NOT NULL, title text, n int)",
                "INSERT INTO docs SELECT g, " + big + ", 'title ' || g, g FROM generate_series(1, 60) g");
        assertThat(row(db, "SELECT min(pg_column_size(body)) > 16000, min(length(body)) FROM docs")).as("stored uncompressed").containsExactly("t", "20480");
        PipelineSpec spec = spec(db, "", """
                  - source: public.docs
                    target: public.docs_v2
                    columns: {id: id, body: body, title: title, n: n}
                """);
        Path state = Files.createTempDirectory(db);
        try (Pipeline p = start(spec, state)) {
            sql(db, "UPDATE docs SET title = 'retitled' WHERE id BETWEEN 1 AND 10",
                    "UPDATE docs SET n = -n WHERE id BETWEEN 5 AND 15",
                    "DELETE FROM docs WHERE id IN (20, 21)",
                    // inserted and updated while streaming: the update may meet its insert in one sink batch
                    "INSERT INTO docs SELECT g, " + big + ", 'new ' || g, g FROM generate_series(101, 110) g",
                    "UPDATE docs SET title = 'new and retitled' WHERE id BETWEEN 101 AND 105",
                    "DELETE FROM docs WHERE id = 110",
                    // the big value itself changes, then something else
                    "UPDATE docs SET body = " + big.replace("g * 0", "id * 0") + " WHERE id = 30",
                    "UPDATE docs SET title = 'body changed before' WHERE id = 30",
                    // a key change does not rewrite the big value either
                    "UPDATE docs SET id = 999 WHERE id = 40",
                    "UPDATE docs SET id = 998, title = 'moved' WHERE id = 41");
            // the new keys of the key changes are read again from the source; catching up includes them
            catchUp(spec, p);
        }
        assertThat(rawEvents(spec)).as("the updates did not carry the big value: the unchanged-TOAST path was taken")
                .filteredOn(e -> "u".equals(e.op()) && e.unchanged() != null && e.unchanged().contains("body")).hasSizeGreaterThanOrEqualTo(15);
        // A key change sends the new key without the big value it did not change (REPLICA IDENTITY is not FULL):
        // the new key is read again from the source, and arrives whole; nothing goes to the DLQ.
        assertThat(rawEvents(spec)).as("the new keys came without the big value").filteredOn(e -> "c".equals(e.op()) && e.unchanged() != null)
                .extracting(e -> e.key().get("id")).containsExactlyInAnyOrder(999L, 998L);
        assertThat(differences(db, "docs", "docs_v2", "id", "body", "title", "n")).isEmpty();
        assertThat(deadLetters(spec)).isEmpty();
        assertThat(row(db, "SELECT length(t.body), t.body = s.body, t.title, t.n FROM docs_v2 t JOIN docs s USING (id) WHERE id = 7"))
                .containsExactly("20480", "t", "retitled", "-7");
        assertThat(row(db, "SELECT length(t.body), t.body = s.body, t.title FROM docs_v2 t JOIN docs s USING (id) WHERE id = 103"))
                .containsExactly("20480", "t", "new and retitled");
        assertThat(ids(db, "docs_v2", "id IN (20, 21, 110)")).as("deleted big rows").isEmpty();
        assertThat(row(db, "SELECT length(body), title FROM docs_v2 WHERE id = 998")).containsExactly("20480", "moved");
        assertThat(count(db, "docs_v2")).isEqualTo(67);
    }

    /**
     * Issue 14, part 4: changes without their unchanged TOAST value for rows the target does not have heal themselves,
     * without REPLICA IDENTITY FULL. The sink asks for the source row again; the producer reads it as a keyed
     * incremental snapshot, in order with the stream. (a) a row the target rejected during the snapshot, fixed later
     * by an update that leaves the big column alone; (b) primary-key changes; (c) rows that start to match the filter.
     * Also: a re-read row deleted on the source before it is read (nothing arrives), and updates after a re-read.
     */
    @Test
    void changesWithoutTheirUnchangedToastValueForRowsTheTargetLacksAreReadAgainFromTheSource() throws Exception {
        String db = "toastreread";
        // ~100 kB of md5 hex per row, stored out of line without compression (STORAGE EXTERNAL)
        String big = "(SELECT string_agg(md5(random()::text || x), '') FROM generate_series(1, 3200) x WHERE x > g * 0)";
        sql(db, "CREATE TABLE docs (id bigint PRIMARY KEY, body text, title text, status text NOT NULL)",
                "ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL",
                "CREATE TABLE docs_v2 (id bigint PRIMARY KEY, body text NOT NULL, title text NOT NULL, status text NOT NULL)",
                "INSERT INTO docs SELECT g, " + big + ", CASE WHEN g IN (5, 6, 7) THEN NULL ELSE 'title ' || g END, "
                        + "CASE WHEN g BETWEEN 30 AND 34 THEN 'draft' ELSE 'published' END FROM generate_series(1, 40) g");
        assertThat(row(db, "SELECT replica_identity FROM (SELECT relreplident::text AS replica_identity FROM pg_class WHERE relname = 'docs') r"))
                .as("REPLICA IDENTITY DEFAULT").containsExactly("d");
        assertThat(row(db, "SELECT pg_relation_size(reltoastrelid) > 40 * 100000, (SELECT min(length(body)) FROM docs) FROM pg_class WHERE relname = 'docs'"))
                .as("the big values are in the TOAST table").containsExactly("t", "102400");
        PipelineSpec spec = spec(db, "", """
                  - source: public.docs
                    target: public.docs_v2
                    filter: status == 'published'
                    columns: {id: id, body: body, title: title, status: status}
                """);
        // the transform of the source: the filter, and row 7, whose NULL title the target refuses (it stays in the DLQ)
        String expected = "(SELECT * FROM docs WHERE status = 'published' AND title IS NOT NULL)";
        try (Pipeline p = start(spec)) {
            assertThat(ids(db, "docs_v2", "id IN (5, 6, 7)")).as("NULL title: rejected during the snapshot").isEmpty();
            sql(db, // (a) the application fixes the rejected rows without touching the big column
                    "UPDATE docs SET title = 'fixed ' || id WHERE id IN (5, 6)",
                    "UPDATE docs SET title = 'fixed again' WHERE id = 6",
                    // (b) key changes: the new key comes without the big value
                    "UPDATE docs SET id = 1000 + id WHERE id IN (10, 11)",
                    "UPDATE docs SET id = 2000, title = 'moved' WHERE id = 12",
                    "UPDATE docs SET title = 'moved, then retitled' WHERE id = 1011",
                    // (c) rows that start to match the filter
                    "UPDATE docs SET status = 'published' WHERE id IN (30, 31, 32)",
                    "UPDATE docs SET status = 'published', title = 'published and retitled' WHERE id = 33",
                    // a key change whose new row is gone before it can be read again: nothing may arrive
                    "UPDATE docs SET id = 3000 WHERE id = 13",
                    "DELETE FROM docs WHERE id = 3000",
                    // a row that matches, stops matching, and an ordinary update of a row the target has
                    "UPDATE docs SET status = 'draft' WHERE id = 14",
                    "UPDATE docs SET title = 'plain update' WHERE id = 15");
            // catching up includes the rows read again: the target is complete when it returns
            catchUp(spec, p);
            assertThat(differences(db, expected, "docs_v2", "id", "body", "title", "status")).isEmpty();
            // a re-read row keeps following the stream: later changes of it apply on top
            sql(db, "UPDATE docs SET title = 'after the re-read' WHERE id IN (5, 1010, 30)", "DELETE FROM docs WHERE id = 31");
            catchUp(spec, p);
            assertThat(differences(db, expected, "docs_v2", "id", "body", "title", "status")).isEmpty();
            assertThat(p.sink().rereadsRequested()).as("rows the target could not complete were asked for again").isGreaterThanOrEqualTo(9);
        }
        List<ChangeEvent> raw = rawEvents(spec);
        assertThat(raw).as("(a) and (c): updates without the big value").filteredOn(e -> "u".equals(e.op()) && e.unchanged() != null
                && e.unchanged().contains("body")).extracting(e -> e.key().get("id")).contains(5L, 6L, 30L, 31L, 32L, 33L);
        assertThat(raw).as("(b): new keys without the big value").filteredOn(e -> "c".equals(e.op()) && e.unchanged() != null)
                .extracting(e -> e.key().get("id")).containsExactlyInAnyOrder(1010L, 1011L, 2000L, 3000L);
        assertThat(raw).as("re-read rows: whole, after the snapshot").filteredOn(e -> "r".equals(e.op()) && e.key().get("id") instanceof Long id
                && (id == 5 || id == 1010 || id == 2000 || id == 30)).allSatisfy(e -> assertThat(e.after().get("body")).asString().hasSize(102400));
        // A read row carries no LSN (0): it only fills a key the target lacks; every streamed change of the key overwrites it.
        assertThat(raw).as("re-read rows are the oldest possible version").filteredOn(e -> "r".equals(e.op()) && Long.valueOf(2000).equals(e.key().get("id")))
                .isNotEmpty().allSatisfy(e -> assertThat(e.lsn()).isZero());
        assertThat(raw).as("the deleted new key was never read").noneMatch(e -> "r".equals(e.op()) && Long.valueOf(3000).equals(e.key().get("id")));
        assertThat(differences(db, expected, "docs_v2", "id", "body", "title", "status")).isEmpty();
        assertThat(row(db, "SELECT length(t.body), t.body = s.body, t.title FROM docs_v2 t JOIN docs s USING (id) WHERE id = 1011"))
                .containsExactly("102400", "t", "moved, then retitled");
        assertThat(ids(db, "docs_v2", "id IN (5, 6, 7, 10, 11, 12, 13, 14, 31, 34, 1010, 1011, 2000, 3000)"))
                .containsExactly(5L, 6L, 1010L, 1011L, 2000L);
        // The DLQ holds the snapshot's rejections only (the transformer refuses NULL for the NOT NULL title): row 7, never
        // fixed, and the first versions of 5 and 6. Nothing about TOAST.
        Map<String, String> letters = deadLetters(spec);
        assertThat(letters).containsOnlyKeys("{\"id\":5}", "{\"id\":6}", "{\"id\":7}");
        assertThat(letters.values()).allSatisfy(l -> assertThat(l).startsWith("NULL into NOT NULL").contains("column title"));
        assertThat(count(db, "docs_v2")).isEqualTo(count(db, expected + " x"));
    }

    /** {@code sink.truncate: refuse} (the default): the sink stops before the TRUNCATE, deletes nothing, says why and what to do. */
    @Test
    void aTruncateIsRefusedByDefaultWithoutTouchingTheTargetAndAppliedAfterARestartWithApply() throws Exception {
        String db = "truncrefuse";
        sql(db, "CREATE TABLE events (id bigint PRIMARY KEY, v text)", "CREATE TABLE events_v2 (id bigint PRIMARY KEY, v text)",
                "INSERT INTO events SELECT g, 'snap ' || g FROM generate_series(1, 150) g");
        PipelineSpec spec = spec(db, "", """
                  - source: public.events
                    target: public.events_v2
                    columns: {id: id, v: v}
                """);
        MigrationPlan plan = MigrationPlan.connect(spec, db + ".yaml");
        Path state = Files.createTempDirectory(db);
        Throwable failure;
        try (Pipeline p = new Pipeline(plan, state, SinkConfig.from(spec.sink()))) {
            p.start();
            awaitSnapshot(p);
            sql(db, "INSERT INTO events SELECT g, 'streamed ' || g FROM generate_series(151, 200) g", "UPDATE events SET v = 'updated' WHERE id = 3");
            catchUp(spec, p);
            sql(db, "CREATE TABLE before_truncate AS SELECT * FROM events");
            sql(db, "TRUNCATE events", "INSERT INTO events SELECT g, 'after ' || g FROM generate_series(1001, 1020) g");
            await().atMost(Duration.ofSeconds(30)).until(() -> p.failure() != null);
            failure = p.failure();
            Thread.sleep(500); // anything wrong would have been written by now
        }
        assertThat(failure).hasMessageContaining("TRUNCATE").hasMessageContaining("public.events_v2")
                .hasMessageContaining("nothing was deleted").hasMessageContaining("sink.truncate: apply");
        assertThat(differences(db, "before_truncate", "events_v2", "id", "v")).as("the target still holds every pre-truncate row").isEmpty();
        assertThat(row(db, "SELECT v FROM events_v2 WHERE id = 3")).containsExactly("updated");
        assertThat(deadLetters(spec)).isEmpty();

        // the way on that the message names: same state, sink.truncate: apply
        SinkConfig apply = new SinkConfig(spec.sink().batchSize(), spec.sink().lingerMs(), spec.sink().copyThreshold(), true, 500);
        try (Pipeline p = new Pipeline(plan, state, apply)) {
            p.start();
            catchUp(spec, p);
        }
        assertThat(differences(db, "events", "events_v2", "id", "v")).isEmpty();
        assertThat(ids(db, "events_v2", "true")).hasSize(20).allMatch(id -> id > 1000);
    }

    /** {@code sink.truncate: apply}: the target is emptied at the TRUNCATE's position; rows written after it stay. */
    @Test
    void aTruncateIsAppliedWhenTheSpecSaysSoAndRowsAfterItArrive() throws Exception {
        String db = "truncapply";
        sql(db, "CREATE TABLE events (id bigint PRIMARY KEY, v text)", "CREATE TABLE events_v2 (id bigint PRIMARY KEY, v text)",
                "INSERT INTO events SELECT g, 'snap ' || g FROM generate_series(1, 150) g");
        PipelineSpec spec = spec(db, "sink: {truncate: apply}\n", """
                  - source: public.events
                    target: public.events_v2
                    columns: {id: id, v: v}
                """);
        try (Pipeline p = start(spec)) {
            sql(db, "INSERT INTO events SELECT g, 'streamed ' || g FROM generate_series(151, 200) g");
            sql(db, "TRUNCATE events", "INSERT INTO events SELECT g, 'after ' || g FROM generate_series(1, 20) g");
            // a TRUNCATE and the rows after it in one transaction
            sql(db, "BEGIN; INSERT INTO events VALUES (500, 'gone'); TRUNCATE events; "
                    + "INSERT INTO events SELECT g, 'same transaction ' || g FROM generate_series(10, 40) g; COMMIT");
            sql(db, "UPDATE events SET v = 'updated after' WHERE id = 12");
            catchUp(spec, p);
            assertThat(p.failure()).isNull();
        }
        assertThat(deadLetters(spec)).isEmpty();
        assertThat(differences(db, "events", "events_v2", "id", "v")).isEmpty();
        assertThat(ids(db, "events_v2", "true")).hasSize(31).allMatch(id -> id >= 10 && id <= 40);
        assertThat(row(db, "SELECT v FROM events_v2 WHERE id = 12")).containsExactly("updated after");
        assertThat(row(db, "SELECT v FROM events_v2 WHERE id = 40")).containsExactly("same transaction 40");
    }

    /**
     * ALTER TABLE ADD COLUMN while streaming (no default, a constant default, a volatile default that rewrites the
     * table). Outcome: the new columns appear in the change events, the spec does not read them, so they are ignored;
     * every row keeps arriving with the mapped columns equal to the source, including updates of the new column only.
     */
    @Test
    void aColumnAddedToTheSourceWhileStreamingIsIgnoredByASpecThatDoesNotReadIt() throws Exception {
        String db = "addcolumn";
        sql(db, "CREATE TABLE people (id bigint PRIMARY KEY, name text, email text)",
                "CREATE TABLE people_v2 (id bigint PRIMARY KEY, name text, email text)",
                "INSERT INTO people SELECT g, 'name ' || g, 'p' || g || '@x.org' FROM generate_series(1, 200) g");
        PipelineSpec spec = spec(db, "", """
                  - source: public.people
                    target: public.people_v2
                    columns: {id: id, name: name, email: "lower(email)"}
                """);
        try (Pipeline p = start(spec)) {
            sql(db, "ALTER TABLE people ADD COLUMN nick text",
                    "INSERT INTO people VALUES (201, 'name 201', 'P201@X.ORG', 'nick 201')",
                    "UPDATE people SET nick = 'only the nick' WHERE id = 1",
                    "UPDATE people SET nick = 'nick 2', name = 'renamed 2' WHERE id = 2");
            catchUp(spec, p);
            sql(db, "ALTER TABLE people ADD COLUMN score int NOT NULL DEFAULT 7",
                    "INSERT INTO people VALUES (202, 'name 202', 'p202@x.org', null, 9)",
                    "UPDATE people SET score = 8, email = 'CHANGED3@X.ORG' WHERE id = 3",
                    "DELETE FROM people WHERE id = 4",
                    "ALTER TABLE people ADD COLUMN seen timestamptz DEFAULT clock_timestamp()",
                    "INSERT INTO people (id, name, email) VALUES (203, 'name 203', 'p203@x.org')",
                    "UPDATE people SET name = 'renamed 5' WHERE id = 5",
                    "UPDATE people SET seen = '2001-01-01' WHERE id = 6");
            catchUp(spec, p);
            assertThat(p.failure()).isNull();
        }
        assertThat(deadLetters(spec)).isEmpty();
        assertThat(differences(db, "(SELECT id, name, lower(email) AS email FROM people)", "people_v2", "id", "name", "email")).isEmpty();
        assertThat(row(db, "SELECT name, email FROM people_v2 WHERE id = 2")).containsExactly("renamed 2", "p2@x.org");
        assertThat(row(db, "SELECT name, email FROM people_v2 WHERE id = 3")).containsExactly("name 3", "changed3@x.org");
        assertThat(row(db, "SELECT name, email FROM people_v2 WHERE id = 201")).containsExactly("name 201", "p201@x.org");
        assertThat(row(db, "SELECT name, email FROM people_v2 WHERE id = 5")).containsExactly("renamed 5", "p5@x.org");
        assertThat(row(db, "SELECT name FROM people_v2 WHERE id = 203")).containsExactly("name 203");
        assertThat(ids(db, "people_v2", "id = 4")).isEmpty();
        assertThat(row(db, "SELECT bool_and(t._pgbackfill_lsn > (SELECT _pgbackfill_lsn FROM people_v2 WHERE id = 7)) FROM people_v2 t WHERE id IN (1, 6)"))
                .as("updates of only a new column still went through (same mapped values, newer row version)").containsExactly("t");
        assertThat(rawEvents(spec)).as("the new columns do show in the change events; the spec just does not read them")
                .anyMatch(e -> e.after() != null && "nick 201".equals(e.after().get("nick")))
                .anyMatch(e -> e.after() != null && Long.valueOf(8).equals(e.after().get("score")));
        assertThat(count(db, "people_v2")).isEqualTo(202);
    }

    // ---- helpers

    private static PipelineSpec spec(String db, String extraYaml, String tablesYaml) throws Exception {
        String url = infra.jdbcUrl(db);
        String yaml = """
                name: %s
                source: {jdbcUrl: "%s", user: %s}
                kafka: {bootstrapServers: "%s", partitions: 2}
                snapshot: {chunkSize: 100}
                %stables:
                %s""".formatted(db, url, infra.user(), infra.kafkaBootstrapServers(), extraYaml, tablesYaml);
        PipelineSpec s = SpecLoader.parse(yaml, db + ".yaml");
        return s.withConnections(ConnectionSpec.of(url, infra.user(), Secret.of(infra.password(), "test")), null);
    }

    /** Starts the pipeline on new state and waits for its snapshot to be in the target. */
    private static Pipeline start(PipelineSpec spec) throws Exception {
        return start(spec, Files.createTempDirectory(spec.pipelineName()));
    }

    /** Starts (or restarts) the pipeline on {@code state} and waits for its snapshot to be in the target. */
    private static Pipeline start(PipelineSpec spec, Path state) throws Exception {
        Pipeline p = new Pipeline(MigrationPlan.connect(spec, spec.pipelineName() + ".yaml"), state, SinkConfig.from(spec.sink()));
        try {
            p.start();
            awaitSnapshot(p);
            CatchUp.await(spec, true, Duration.ofMinutes(1), () -> p.failure() == null);
        } catch (Exception | AssertionError e) {
            p.close();
            throw e;
        }
        return p;
    }

    private static void awaitSnapshot(Pipeline p) {
        await().atMost(Duration.ofMinutes(1)).until(() -> p.producer().snapshotDone() || p.failure() != null);
        assertThat(p.failure()).isNull();
    }

    private static void catchUp(PipelineSpec spec, Pipeline p) throws Exception {
        try {
            CatchUp.await(spec, true, Duration.ofMinutes(1), () -> p.failure() == null);
        } catch (IllegalStateException e) {
            throw new AssertionError(e.getMessage() + "; pipeline failure: " + p.failure(), p.failure());
        }
    }

    private static void sql(String db, String... statements) throws SQLException {
        try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    /** Every change event in the spec's (first) raw topic, from the beginning. */
    private static List<ChangeEvent> rawEvents(PipelineSpec spec) {
        Properties props = new Properties();
        props.put("bootstrap.servers", infra.kafkaBootstrapServers());
        List<ChangeEvent> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            String topic = spec.rawTopic(spec.tables().get(0));
            List<TopicPartition> parts = c.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    out.add(EventCodec.decodeChange(r.value()));
                }
            }
        }
        return out;
    }

    /** Dead letters by key: reason and message. */
    private static Map<String, String> deadLetters(PipelineSpec spec) {
        Map<String, String> out = new LinkedHashMap<>();
        new DeadLetterTopic(spec).forEach(l -> out.put(new String(l.key(), StandardCharsets.UTF_8), l.reason() + ": " + l.message()));
        return out;
    }

    /**
     * Every key whose row differs between source and target on the given columns, or exists on one side only,
     * with the two rows as text: empty when the target equals the source row for row.
     */
    private static List<String> differences(String db, String source, String target, String key, String... columns) throws SQLException {
        String s = "(" + String.join(", ", prefixed("s.", key, columns)) + ")";
        String t = "(" + String.join(", ", prefixed("t.", key, columns)) + ")";
        String q = "SELECT coalesce(s." + key + ", t." + key + ")::text || ': source ' || coalesce(left(" + s + "::text, 200), '-') "
                + "|| ' target ' || coalesce(left(" + t + "::text, 200), '-') FROM " + source + " s FULL JOIN " + target + " t ON s." + key
                + " = t." + key + " WHERE s." + key + " IS NULL OR t." + key + " IS NULL OR " + s + " IS DISTINCT FROM " + t + " ORDER BY 1 LIMIT 20";
        List<String> out = new ArrayList<>();
        try (Connection c = infra.connect(db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(q)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static List<String> prefixed(String prefix, String key, String... columns) {
        List<String> out = new ArrayList<>();
        out.add(prefix + key);
        for (String c : columns) {
            out.add(prefix + c);
        }
        return out;
    }

    private static List<String> row(String db, String query) throws SQLException {
        return row(db, query, null);
    }

    /** The one row of a query, every column as text ({@code t}/{@code f} for booleans); empty if there is none. */
    private static List<String> row(String db, String query, String timeZone) throws SQLException {
        try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
            if (timeZone != null) {
                st.execute("SET TIME ZONE '" + timeZone + "'");
            }
            try (ResultSet rs = st.executeQuery(query)) {
                if (!rs.next()) {
                    return List.of();
                }
                List<String> out = new ArrayList<>();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    Object o = rs.getObject(i);
                    out.add(o instanceof Boolean b ? (b ? "t" : "f") : rs.getString(i));
                }
                assertThat(rs.next()).as("one row from %s", query).isFalse();
                return out;
            }
        }
    }

    private static List<Long> ids(String db, String table, String where) throws SQLException {
        List<Long> out = new ArrayList<>();
        try (Connection c = infra.connect(db); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id FROM " + table + " WHERE " + where + " ORDER BY id")) {
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
        }
        return out;
    }

    private static long count(String db, String table) throws SQLException {
        try (Connection c = infra.connect(db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
