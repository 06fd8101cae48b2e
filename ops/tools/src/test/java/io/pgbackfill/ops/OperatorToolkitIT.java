package io.pgbackfill.ops;

import io.pgbackfill.embedded.InfrastructureExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.embedded.EmbeddedInfrastructure;
import io.pgbackfill.embedded.EmbeddedPostgresServer;
import io.pgbackfill.ops.demo.DemoData;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.status.PipelineStatus;
import io.pgbackfill.producer.ChangeEventProducer;
import io.pgbackfill.producer.ProducerConfig;
import io.pgbackfill.sink.RowSink;
import io.pgbackfill.sink.SinkConfig;
import io.pgbackfill.transformer.TransformerApp;
import io.pgbackfill.transformer.TransformerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** preflight, status, verify, cutover and teardown, each through the real CLI against real PostgreSQL and Kafka. */
@ExtendWith(InfrastructureExtension.class)
class OperatorToolkitIT {
    @InfrastructureExtension.Started
    static EmbeddedInfrastructure infra;

    static Path specFile(String name, String url, String table, String extra) throws Exception {
        Path f = Files.createTempFile(name, ".yaml");
        Files.writeString(f, """
                name: %s
                source: {jdbcUrl: "%s", user: postgres}
                kafka: {bootstrapServers: "%s", partitions: 2}
                snapshot: {chunkSize: 1000}
                cutover: {lockTimeoutMs: 1000}
                %s
                %s""".formatted(name, url, infra.kafkaBootstrapServers(), UsersSplitSpec.tables(table), extra == null ? "" : extra));
        return f;
    }

    @Test
    void preflightFailsWithoutLogicalWalAndOnATableWithoutAKey() throws Exception {
        try (EmbeddedPostgresServer replica = EmbeddedPostgresServer.start("replica"); Connection c = replica.connect("postgres")) {
            DemoData.createTables(c);
            CliRun r = CliRun.of("preflight", specFile("pf-wal", replica.jdbcUrl("postgres"), "users", null).toString());
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.output()).containsPattern("FAIL\\s+wal_level\\s+replica").contains("ALTER SYSTEM SET wal_level = logical");
        }
        String url = infra.jdbcUrl("pf_key");
        try (Connection c = infra.connect("pf_key"); Statement st = c.createStatement()) {
            DemoData.createTables(c);
            st.execute("CREATE TABLE nokey (id bigint, name text, email text, created_at timestamptz)");
        }
        CliRun r = CliRun.of("preflight", specFile("pf-key", url, "nokey", null).toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.output()).containsPattern("FAIL\\s+key of public.nokey").contains("no primary key");
        CliRun ok = CliRun.of("preflight", specFile("pf-ok", url, "users", null).toString());
        assertThat(ok.exitCode()).as(ok.output()).isZero();
    }

    @Test
    void statusVerifyCutoverAndTeardownOnARunningPipeline() throws Exception {
        String url = infra.jdbcUrl("ops");
        try (Connection c = infra.connect("ops")) {
            DemoData.createTables(c);
            DemoData.seed(c, 3000);
        }
        Path file = specFile("ops-it", url, "users", null);
        PipelineSpec spec = SpecLoader.load(file);
        MigrationPlan plan = MigrationPlan.connect(spec, file.toString());
        Path state = Files.createTempDirectory("ops-it");
        ChangeEventProducer producer = new ChangeEventProducer(ProducerConfig.of(spec, state.resolve("producer")));
        TransformerApp transformer = new TransformerApp(plan, TransformerConfig.of(state.resolve("streams")));
        RowSink sink = new RowSink(spec, SinkConfig.from(spec.sink()));
        try {
            sink.start();
            transformer.start();
            producer.start();
            await().atMost(Duration.ofMinutes(2)).until(producer::snapshotDone);
            CatchUp.await(spec, true, Duration.ofMinutes(1), () -> true);

            // status: lag while the sink is down, none once it is back
            sink.close();
            try (Connection c = infra.connect("ops"); Statement st = c.createStatement()) {
                st.execute("UPDATE users SET email = upper(email) WHERE id <= 200");
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> PipelineStatus.read(spec, state).groups().get(1).total() > 0);
            CliRun lagging = CliRun.of("status", file.toString(), "--state-dir", state.toString());
            assertThat(lagging.output()).containsPattern("sink\\s+pgbackfill-ops-it-sink: lag [1-9]");
            CliRun refused = CliRun.of("cutover", file.toString());
            assertThat(refused.exitCode()).isEqualTo(1);
            assertThat(refused.output()).contains("cutover refused").contains("lag: the target did not catch up");
            sink = new RowSink(spec, SinkConfig.from(spec.sink()));
            sink.start();
            CatchUp.await(spec, true, Duration.ofMinutes(1), () -> true);
            // Heartbeat watermarks keep flowing: a status taken between two of them shows lag 0.
            CliRun caughtUp = await().atMost(Duration.ofSeconds(60)).until(() -> CliRun.of("status", file.toString(), "--state-dir", state.toString()),
                    r -> r.output().matches("(?s).*sink\\s+pgbackfill-ops-it-sink: lag 0.*"));
            assertThat(caughtUp.exitCode()).isZero();
            assertThat(caughtUp.output()).containsPattern("sink\\s+pgbackfill-ops-it-sink: lag 0").contains("DONE");

            // verify: a row changed by hand in the target is found, by key
            try (Connection c = infra.connect("ops"); Statement st = c.createStatement()) {
                st.execute("UPDATE users_v2 SET first_name = 'tampered' WHERE id = 42");
            }
            CliRun tampered = CliRun.of("verify", file.toString(), "--no-recheck", "--chunk", "500");
            assertThat(tampered.exitCode()).isEqualTo(1);
            assertThat(tampered.output()).contains("different public.users_v2 id=42");
            try (Connection c = infra.connect("ops"); Statement st = c.createStatement()) {
                st.execute("UPDATE users SET name = name || '' WHERE id = 42"); // the source re-sends the row
            }
            CliRun clean = CliRun.of("verify", file.toString(), "--chunk", "500");
            assertThat(clean.exitCode()).as(clean.output()).isZero();

            // cutover under a concurrent writer: no write acknowledged before the swap is lost
            AtomicBoolean writing = new AtomicBoolean(true);
            AtomicLong committed = new AtomicLong();
            Thread writer = new Thread(() -> write("ops", writing, committed));
            writer.start();
            await().until(() -> committed.get() > 50);
            CliRun cut = CliRun.of("cutover", file.toString());
            writing.set(false);
            writer.join();
            assertThat(cut.exitCode()).as(cut.output()).isZero();
            Matcher pause = Pattern.compile("write pause (\\d+) ms").matcher(cut.output());
            assertThat(pause.find()).isTrue();
            System.out.println("measured cutover write pause under a concurrent writer: " + pause.group(1) + " ms");
        } finally {
            producer.close();
            transformer.close();
            sink.close();
        }
        try (Connection c = infra.connect("ops"); Statement st = c.createStatement()) {
            ResultSet rs = st.executeQuery("SELECT count(*) FROM ((SELECT id, CASE WHEN position(' ' in name) = 0 THEN name ELSE split_part(name, ' ', 1) END, "
                    + "CASE WHEN position(' ' in name) = 0 THEN NULL ELSE substr(name, position(' ' in name) + 1) END, lower(email), created_at FROM users_old "
                    + "EXCEPT SELECT id, first_name, last_name, email, created_at FROM users) UNION ALL (SELECT id, first_name, last_name, email, created_at FROM users "
                    + "EXCEPT SELECT id, CASE WHEN position(' ' in name) = 0 THEN name ELSE split_part(name, ' ', 1) END, "
                    + "CASE WHEN position(' ' in name) = 0 THEN NULL ELSE substr(name, position(' ' in name) + 1) END, lower(email), created_at FROM users_old)) d");
            rs.next();
            long differing = rs.getLong(1);
            java.util.List<String> rows = new java.util.ArrayList<>();
            ResultSet d = st.executeQuery("SELECT 'old', id, name, email FROM users_old WHERE id IN (SELECT id FROM users_old EXCEPT SELECT id FROM users) "
                    + "UNION ALL SELECT 'new', id, first_name || '|' || coalesce(last_name, ''), email FROM users WHERE id IN (SELECT id FROM users EXCEPT SELECT id FROM users_old) LIMIT 10");
            while (d.next()) {
                rows.add(d.getString(1) + " " + d.getString(2) + " " + d.getString(3) + " " + d.getString(4));
            }
            assertThat(differing).as("rows of the new users table differing from the transform of users_old: %s", rows).isZero();
            rs = st.executeQuery("SELECT column_default FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'id'");
            rs.next();
            assertThat(rs.getString(1)).contains("users_id_seq");
        }

        // teardown: no slot left behind, and a second run has nothing to do
        CliRun td = CliRun.of("teardown", file.toString(), "--kafka");
        assertThat(td.exitCode()).as(td.output()).isZero();
        assertThat(td.output()).contains("replication slot pgbackfill_ops_it").contains("publication");
        try (Connection c = infra.connect("ops"); Statement st = c.createStatement()) {
            ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_replication_slots");
            rs.next();
            assertThat(rs.getLong(1)).isZero();
        }
        assertThat(CliRun.of("teardown", file.toString()).output()).contains("nothing to remove");
    }

    /** Inserts and updates users until told to stop; after the swap its statements fail (new schema) and it keeps trying. */
    static void write(String db, AtomicBoolean writing, AtomicLong committed) {
        SplittableRandom r = new SplittableRandom(5);
        try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
            while (writing.get()) {
                try {
                    if (r.nextBoolean()) {
                        st.execute("INSERT INTO users (name, email, created_at) VALUES ('Writer " + r.nextInt(1000) + " X', 'W@X.COM', now())");
                    } else {
                        st.execute("UPDATE users SET name = 'Upd " + r.nextInt(1000) + "' WHERE id = " + (1 + r.nextInt(3000)));
                    }
                    committed.incrementAndGet();
                } catch (java.sql.SQLException e) {
                    // after the cutover the old statements no longer fit the new table: the app would deploy its new version here
                }
                Thread.sleep(5);
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
