package io.pgbackfill.ops.rehearse;

import io.pgbackfill.embedded.InfrastructureExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.embedded.EmbeddedInfrastructure;
import io.pgbackfill.ops.demo.DemoData;
import io.pgbackfill.ops.pipeline.CatchUp;
import io.pgbackfill.ops.pipeline.Pipeline;
import io.pgbackfill.sink.SinkConfig;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code backfill rehearse} through the real CLI against real PostgreSQL (and, for the one comparison
 * with a real run, the in-process Kafka broker).
 *
 * <p>Shares are checked against the truth counted by plain SQL, within 4 standard errors of a binomial
 * proportion at the sample size: {@code 4 * sqrt(p (1 - p) / n)}. That bound is conservative here on two
 * counts: TABLESAMPLE SYSTEM draws pages, and the poison is spread evenly over the pages, so page-to-page
 * variation is smaller than a row-by-row draw's; and it leaves out the finite-population correction
 * {@code sqrt(1 - f)} of sampling 40% without replacement. Under the normal approximation a correct
 * rehearsal lands outside it with probability about 6e-5; the fixed --seed makes each run read the same pages.
 * A duplicate pair is seen only when both of its rows are sampled; its two rows lie on different pages, so
 * the sampled count is Binomial(D, f²) for D pairs at sampled fraction f, and gets the same 4-SE band.
 */
@ExtendWith(InfrastructureExtension.class)
class RehearseIT {
    @InfrastructureExtension.Started
    static EmbeddedInfrastructure infra;
    static String url;
    static PoisonOrders.Truth truth;
    static Path dir;

    @BeforeAll
    static void up() throws Exception {
        url = infra.jdbcUrl("rehearse");
        try (Connection c = infra.connect("rehearse")) {
            PoisonOrders.create(c);
            truth = PoisonOrders.truth(c);
        }
        dir = Files.createTempDirectory("rehearse-it");
    }

    @AfterAll
    static void down() throws Exception {
        deleteTree(dir);
    }

    static void deleteTree(Path root) throws java.io.IOException {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** A spec for {@code table} -> orders_v2; {@code tableKeys} and {@code columns} are YAML lines, indented here. */
    static Path spec(String name, String url, String user, String table, String tableKeys, String columns) throws Exception {
        return spec(name, url, user, table, "orders_v2", tableKeys, columns);
    }

    static Path spec(String name, String url, String user, String table, String target, String tableKeys, String columns) throws Exception {
        Path f = dir.resolve(name + ".yaml");
        Files.writeString(f, """
                name: %s
                source: {jdbcUrl: "%s", user: %s}
                kafka: {bootstrapServers: "%s"}
                tables:
                  - source: public.%s
                    target: public.%s
                %s    columns:
                %s
                """.formatted(name, url, user, infra.kafkaBootstrapServers(), table, target, indent(tableKeys, 4), indent(columns, 6)));
        return f;
    }

    private static String indent(String yamlLines, int spaces) {
        StringBuilder sb = new StringBuilder();
        yamlLines.lines().map(String::strip).filter(l -> !l.isEmpty()).forEach(l -> sb.append(" ".repeat(spaces)).append(l).append('\n'));
        return sb.toString();
    }

    static final String POISONED_COLUMNS = """
                  id: id % 1000000
                  amount: to_numeric(amount, 2)
                  note: note
                  customer: customer
                  created_at: created_at""";

    static Path poisonedSpec() throws Exception {
        return spec("orders-poisoned", url, "postgres", "orders", "", POISONED_COLUMNS);
    }

    @Test
    void poisonIsReportedWithItsShareAndRealExampleKeys() throws Exception {
        Path html = dir.resolve("poisoned.html");
        CliCapture run = CliCapture.of("rehearse", poisonedSpec().toString(), "--sample", "40", "--seed", "7", "--wal-window", "0.2",
                "--json", "--html", html.toString());
        assertThat(run.exitCode()).as(run.stderr()).isEqualTo(1);
        RehearsalReport report = RehearsalJson.parse(run.stdout());
        RehearsalReport.TableReport t = report.tables().get(0);
        long n = t.sample().rows();
        double f = t.sample().fraction();
        System.out.printf(Locale.ROOT, "sampled %d of %d rows (f = %.3f)%n", n, truth.rows(), f);
        assertThat(n).as("a 40%% page sample of %d rows", truth.rows()).isBetween(truth.rows() / 4, truth.rows() * 6 / 10);

        assertShare(group(t, "cast failure", "amount"), truth.castFailures(), n);
        assertShare(group(t, "value too long", "note"), truth.tooLong(), n);
        assertShare(group(t, "NULL into NOT NULL", "customer"), truth.nullCustomers(), n);
        double expectedPairs = truth.duplicates() * f * f;
        double pairsBand = 4 * Math.sqrt(truth.duplicates() * f * f * (1 - f * f));
        System.out.printf(Locale.ROOT, "duplicate target keys: %d in the sample, expected %.1f ± %.1f%n",
                t.outcome().duplicateTargetKeys(), expectedPairs, pairsBand);
        assertThat((double) t.outcome().duplicateTargetKeys()).isCloseTo(expectedPairs, within(pairsBand));
        assertThat(t.outcome().duplicateTargetKeys()).isPositive();
        assertThat(t.outcome().duplicatesInTableLow()).isLessThanOrEqualTo(t.outcome().duplicatesInTableHigh());
        assertThat(t.outcome().dlq()).isEqualTo(t.outcome().reasons().stream().mapToLong(RehearsalReport.RejectGroup::rows).sum());
        assertThat(t.outcome().mapped() + t.outcome().dlq() + t.outcome().duplicateTargetKeys() + t.outcome().excluded()).isEqualTo(n);

        // The examples are rows that really are bad, checked in the table, not in the report.
        try (Connection c = infra.connect("rehearse");
             PreparedStatement ps = c.prepareStatement("SELECT amount, length(note), customer IS NULL, "
                     + "(SELECT count(*) FROM orders o WHERE o.id % 1000000 = orders.id % 1000000) FROM orders WHERE id = ?")) {
            for (String key : examples(group(t, "cast failure", "amount"))) {
                assertThat(row(ps, key).getString(1)).as(key).isEqualTo("n/a");
            }
            for (String key : examples(group(t, "value too long", "note"))) {
                assertThat(row(ps, key).getInt(2)).as(key).isGreaterThan(100);
            }
            for (String key : examples(group(t, "NULL into NOT NULL", "customer"))) {
                assertThat(row(ps, key).getBoolean(3)).as(key).isTrue();
            }
            assertThat(t.outcome().duplicateExamples()).isNotEmpty();
            for (String example : t.outcome().duplicateExamples()) {
                String key = example.substring(0, example.indexOf(" -> "));
                assertThat(row(ps, key).getLong(4)).as(example + ": source rows with this target key").isEqualTo(2);
            }
        }

        // Per column: the 2 MiB notes show, as does the NULL share of customer.
        RehearsalReport.ColumnReport note = column(t, "note");
        assertThat(note.longestChars()).isEqualTo(32L * 65536);
        assertThat(note.largestBytes()).isEqualTo(32L * 65536);
        assertThat(note.misfits()).isEqualTo(group(t, "value too long", "note").rows());
        RehearsalReport.ColumnReport customer = column(t, "customer");
        assertThat(customer.nullShare()).isCloseTo((double) truth.nullCustomers() / truth.rows(),
                within(tolerance((double) truth.nullCustomers() / truth.rows(), n)));
        assertThat(customer.misfits()).isEqualTo(group(t, "NULL into NOT NULL", "customer").rows());
        assertThat(t.table().toastShare()).as("2 MiB notes stored out of line").isGreaterThan(0.5);
        assertThat(t.sample().largeValueShare()).isPositive();
        assertThat(t.costPerRow().transform()).isPositive();
        assertThat(t.costPerRow().write()).isPositive();
        // The projection's structure, not its time: an estimate inside its range, the inputs it rests on, and a
        // reason for every widening beyond the model's own error (this suite shares its cores, so there may be one).
        DurationModel.Estimate d = t.projection().duration();
        assertThat(d.seconds()).isPositive();
        assertThat(d.lowSeconds()).isPositive().isLessThan(d.seconds());
        assertThat(d.highSeconds()).isGreaterThan(d.seconds());
        assertThat(t.projection().snapshotSeconds()).isEqualTo(d.seconds());
        assertThat(t.projection().eventBytes()).isPositive();
        assertThat(t.projection().cpuShare()).isBetween(0.0, 1.0);
        boolean widened = d.highSeconds() > d.seconds() * (1 + DurationModel.CALIBRATED.error()) + 1e-9;
        assertThat(d.reasons().isEmpty()).as("a wider range says why: %s", d.reasons()).isEqualTo(!widened);
        assertThat(t.projection().targetBytes()).isPositive();

        assertThat(report.verdict().ready()).isFalse();
        assertThat(report.verdict().blocking()).anySatisfy(b -> assertThat(b).contains("of rows would go to the DLQ").contains("cast failure in amount"));
        assertThat(report.verdict().blocking()).anySatisfy(b -> assertThat(b).contains("map to a target key another row already has"));

        String page = Files.readString(html);
        assertThat(page).startsWith("<!DOCTYPE html>").contains("<svg").contains("projected duration (start to caught up)").contains("cast failure in amount").contains("note: value lengths")
                .doesNotContain("<script").doesNotContain("src=");

        // The text report: one screen, the verdict with the findings.
        CliCapture text = CliCapture.of("rehearse", poisonedSpec().toString(), "--sample", "40", "--seed", "7", "--wal-window", "0.2");
        assertThat(text.exitCode()).isEqualTo(1);
        assertThat(text.stdout()).contains("verdict: NOT READY").containsPattern("cast failure in amount\\s+[0-9.]+%")
                .contains("duplicate target key");
        assertThat(text.stdout().lines().count()).as("fits one screen").isLessThanOrEqualTo(40);
    }

    static final String FIXED_FILTER = "# the legacy re-import: those rows are already there under their original id\nfilter: id < 1000000";
    static final String FIXED_COLUMNS = """
                              id: id % 1000000
                              amount: "amount != null && amount.matches('^-?[0-9]+([.][0-9]+)?$') ? to_numeric(amount, 2) : '0'"
                              note: substr(note, 1, 100)
                              customer: coalesce(customer, 'unknown')
                              created_at: created_at""";

    @Test
    void theFixedSpecIsReady() throws Exception {
        Path fixed = spec("orders-fixed", url, "postgres", "orders", FIXED_FILTER, FIXED_COLUMNS);
        CliCapture run = CliCapture.of("rehearse", fixed.toString(), "--wal-window", "0.2", "--json");
        assertThat(run.exitCode()).as(run.stdout() + run.stderr()).isZero();
        RehearsalReport report = RehearsalJson.parse(run.stdout());
        RehearsalReport.TableReport t = report.tables().get(0);
        assertThat(report.verdict().ready()).isTrue();
        assertThat(t.sample().rows()).as("the default sample covers a table this small").isEqualTo(truth.rows());
        assertThat(t.outcome().excluded()).isEqualTo(truth.duplicates());
        assertThat(t.outcome().mapped()).isEqualTo(truth.rows() - truth.duplicates());
        assertThat(t.outcome().dlq()).isZero();
        assertThat(t.outcome().duplicateTargetKeys()).isZero();
        assertThat(column(t, "note").longestChars()).isEqualTo(100);

        CliCapture throttled = CliCapture.of("rehearse", fixed.toString(), "--rows", "5000", "--throttle", "10000", "--wal-window", "0.2");
        assertThat(throttled.exitCode()).isZero();
        assertThat(throttled.stdout()).contains("verdict: READY").contains("LIMIT 5,000");
        java.util.regex.Matcher took = java.util.regex.Pattern.compile("([0-9,]+) rows \\(.*\\) in ([0-9.]+) s").matcher(throttled.stdout());
        assertThat(took.find()).as(throttled.stdout()).isTrue();
        long read = Long.parseLong(took.group(1).replace(",", ""));
        assertThat(Double.parseDouble(took.group(2))).as("%d rows at 10,000 rows/s", read).isGreaterThanOrEqualTo(read / 10_000.0 - 0.05);
    }

    /** "Else DLQ", written: the rows a spec rejects with reject('why') are counted under that reason, in the author's words. */
    @Test
    void rowsTheSpecRejectsAreCountedWithTheAuthorsReason() throws Exception {
        Path rejecting = spec("orders-rejecting", url, "postgres", "orders", FIXED_FILTER,
                FIXED_COLUMNS.replace(": '0'\"", ": reject('amount is not a number: ' + amount)\""));
        CliCapture run = CliCapture.of("rehearse", rejecting.toString(), "--wal-window", "0.2", "--json");
        assertThat(run.exitCode()).as(run.stdout() + run.stderr()).isEqualTo(1);
        RehearsalReport.TableReport t = RehearsalJson.parse(run.stdout()).tables().get(0);
        assertThat(t.sample().rows()).isEqualTo(truth.rows());
        RehearsalReport.RejectGroup g = group(t, "rejected by the spec", "amount");
        assertThat(g.rows()).as("every row whose amount is not a number, and no other").isEqualTo(truth.castFailures());
        assertThat(g.message()).isEqualTo("column amount: amount is not a number: n/a");
        assertThat(t.outcome().dlq()).isEqualTo(truth.castFailures());
    }

    /** A partitioned table's rows are in its partitions; a table never analyzed has no estimate until pages are counted. */
    @Test
    void partitionedAndNeverAnalyzedTablesAreEstimated() throws Exception {
        try (Connection c = infra.connect("rehearse"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE orders_parted (LIKE orders) PARTITION BY RANGE (id)");
            st.execute("ALTER TABLE orders_parted ADD PRIMARY KEY (id)");
            st.execute("CREATE TABLE orders_parted_1 PARTITION OF orders_parted FOR VALUES FROM (0) TO (600)");
            st.execute("CREATE TABLE orders_parted_2 PARTITION OF orders_parted FOR VALUES FROM (600) TO (1000000)");
            st.execute("INSERT INTO orders_parted SELECT * FROM orders WHERE id <= 1000 AND length(note) <= 100");
            st.execute("ANALYZE orders_parted");
            st.execute("CREATE TABLE orders_fresh (LIKE orders INCLUDING ALL) WITH (autovacuum_enabled = false)");
            st.execute("INSERT INTO orders_fresh SELECT * FROM orders WHERE id <= 1000 AND length(note) <= 100");
        }
        for (String table : List.of("orders_parted", "orders_fresh")) {
            Path file = spec(table, url, "postgres", table, FIXED_FILTER, FIXED_COLUMNS);
            CliCapture run = CliCapture.of("rehearse", file.toString(), "--wal-window", "0.2", "--json");
            assertThat(run.exitCode()).as(run.stderr()).isZero();
            RehearsalReport.TableReport t = RehearsalJson.parse(run.stdout()).tables().get(0);
            assertThat(t.table().estimatedRows()).as(table).isEqualTo(997);
            assertThat(t.sample().rows()).as(table).isEqualTo(997);
            assertThat(t.table().estimatedBy()).as(table).isEqualTo(table.equals("orders_fresh") ? "quick sample" : "catalog");
        }
    }

    @Test
    void maxDlqShareDecidesWhatStillCountsAsReady() throws Exception {
        // Everything fixed but the NULL customers (2% of rows).
        Path nulls = spec("orders-null-customers", url, "postgres", "orders", FIXED_FILTER,
                FIXED_COLUMNS.replace("coalesce(customer, 'unknown')", "customer"));
        CliCapture strict = CliCapture.of("rehearse", nulls.toString(), "--sample", "15", "--seed", "7", "--wal-window", "0.2");
        assertThat(strict.exitCode()).isEqualTo(1);
        assertThat(strict.stdout()).containsPattern("- public.orders: [0-9.]+% of rows would go to the DLQ: NULL into NOT NULL in customer");
        CliCapture lenient = CliCapture.of("rehearse", nulls.toString(), "--sample", "15", "--seed", "7", "--wal-window", "0.2", "--max-dlq-share", "0.05");
        assertThat(lenient.exitCode()).as(lenient.stdout()).isZero();
        assertThat(lenient.stdout()).contains("verdict: READY").contains("within --max-dlq-share 5.00%");
    }

    /**
     * What only the database knows: a CHECK constraint on the target rejects rows the transform maps, and
     * a target without a unique index on the key cannot take the sink's upsert at all.
     */
    @Test
    void theTrialWriteLetsTheTargetDatabaseSpeak() throws Exception {
        try (Connection c = infra.connect("rehearse"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE orders_checked (LIKE orders_v2 INCLUDING ALL, CHECK (amount < 995))");
            st.execute("CREATE TABLE orders_nokey (LIKE orders_v2)");
        }
        Path checked = spec("orders-checked", url, "postgres", "orders", "orders_checked", FIXED_FILTER, FIXED_COLUMNS);
        CliCapture run = CliCapture.of("rehearse", checked.toString(), "--sample", "25", "--seed", "7", "--wal-window", "0.2", "--json");
        assertThat(run.exitCode()).isEqualTo(1);
        RehearsalReport.TableReport t = RehearsalJson.parse(run.stdout()).tables().get(0);
        RehearsalReport.RejectGroup rejected = t.outcome().reasons().stream().filter(g -> g.reason().equals("rejected by the target database"))
                .findFirst().orElseThrow(() -> new AssertionError(t.outcome().reasons()));
        assertThat(rejected.message()).contains("check constraint");
        try (Connection c = infra.connect("rehearse"); PreparedStatement ps = c.prepareStatement("SELECT amount::numeric >= 995 FROM orders WHERE id = ?")) {
            for (String key : rejected.examples()) {
                assertThat(row(ps, key).getBoolean(1)).as(key).isTrue();
            }
        }
        long tooLarge;
        try (Connection c = infra.connect("rehearse"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM orders WHERE id < 1000000 AND amount ~ '^[0-9.]+$' AND amount::numeric >= 995")) {
            rs.next();
            tooLarge = rs.getLong(1);
        }
        double p = (double) tooLarge / truth.rows();
        assertThat(rejected.share()).isCloseTo(p, within(tolerance(p, t.sample().rows())));

        Path noKey = spec("orders-nokey", url, "postgres", "orders", "orders_nokey", FIXED_FILTER, FIXED_COLUMNS);
        CliCapture failed = CliCapture.of("rehearse", noKey.toString(), "--rows", "3000", "--wal-window", "0.2");
        assertThat(failed.exitCode()).isEqualTo(1);
        assertThat(failed.stdout()).contains("the trial write into a copy of public.orders_nokey failed")
                .contains("no unique or exclusion constraint matching the ON CONFLICT specification");
    }

    @Test
    void rehearsalLeavesNoSlotPublicationTopicOrTable() throws Exception {
        Trace before = Trace.of("rehearse");
        CliCapture run = CliCapture.of("rehearse", poisonedSpec().toString(), "--sample", "15", "--wal-window", "0.2");
        assertThat(run.exitCode()).isEqualTo(1);
        Trace after = Trace.of("rehearse");
        assertThat(after).isEqualTo(before);
        assertThat(after.targetRows()).isZero();
    }

    @Test
    void badInputIsRefusedBeforeSamplingWithOneLineAndNothingWritten() throws Exception {
        Path html = dir.resolve("never.html");

        Path badExpression = spec("orders-bad-expr", url, "postgres", "orders", "", POISONED_COLUMNS.replace("to_numeric(amount, 2)", "to_numeric(amount_typo, 2)"));
        CliCapture expr = CliCapture.of("rehearse", badExpression.toString(), "--html", html.toString());
        assertThat(expr.exitCode()).isEqualTo(2);
        assertThat(expr.stderr()).containsPattern(java.util.regex.Pattern.quote(badExpression.toString()) + ":\\d+:\\d+: column amount: unknown column or function 'amount_typo'");

        Path missingTable = spec("orders-missing", url, "postgres", "no_such_table", "", POISONED_COLUMNS);
        CliCapture missing = CliCapture.of("rehearse", missingTable.toString(), "--html", html.toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.all().strip()).doesNotContain("\n").contains(":5:").contains("source table public.no_such_table does not exist");

        Path unreachable = spec("orders-unreachable", "jdbc:postgresql://localhost:" + closedPort() + "/rehearse", "postgres", "orders", "", POISONED_COLUMNS);
        CliCapture down = CliCapture.of("rehearse", unreachable.toString(), "--html", html.toString());
        assertThat(down.exitCode()).isEqualTo(2);
        assertThat(down.all().strip()).doesNotContain("\n").startsWith("backfill rehearse: cannot connect to");

        try (Connection c = infra.connect("rehearse"); Statement st = c.createStatement()) {
            st.execute("CREATE ROLE outsider LOGIN");
        }
        Path noPrivilege = spec("orders-outsider", url, "outsider", "orders", "", POISONED_COLUMNS);
        CliCapture denied = CliCapture.of("rehearse", noPrivilege.toString(), "--html", html.toString());
        assertThat(denied.exitCode()).isEqualTo(2);
        assertThat(denied.all().strip()).doesNotContain("\n")
                .isEqualTo("backfill rehearse: role outsider has no SELECT privilege on source table public.orders: GRANT SELECT ON \"public\".\"orders\" TO outsider");

        assertThat(html).doesNotExist();
    }

    /**
     * The projection against the real thing: the demo table, rehearsed, then migrated by the pipeline
     * (producer, transformer and sink in this JVM, the in-process broker). The ratio is printed, not
     * asserted: it is a timing on a shared 2-core machine.
     */
    @Test
    void projectedDurationAgainstARealRunOfTheDemoPipeline() throws Exception {
        long rows = 20_000;
        String demoUrl = infra.jdbcUrl("rehearse_demo");
        try (Connection c = infra.connect("rehearse_demo")) {
            DemoData.createTables(c);
            DemoData.seed(c, rows);
        }
        Path file = dir.resolve("users-split.yaml");
        Files.writeString(file, demoSpec(demoUrl));
        CliCapture run = CliCapture.of("rehearse", file.toString(), "--json");
        assertThat(run.exitCode()).as(run.stderr()).isZero();
        RehearsalReport.TableReport t = RehearsalJson.parse(run.stdout()).tables().get(0);
        assertThat(t.sample().rows()).isEqualTo(rows);
        double projected = t.projection().snapshotSeconds();

        PipelineSpec spec = SpecLoader.load(file);
        MigrationPlan plan = MigrationPlan.connect(spec, file.toString());
        double measured;
        try (Pipeline pipeline = new Pipeline(plan, dir.resolve("demo-state"), SinkConfig.from(spec.sink()))) {
            long started = System.nanoTime();
            pipeline.start();
            while (!pipeline.producer().snapshotDone()) {
                assertThat(pipeline.failure()).isNull();
                Thread.sleep(50);
            }
            CatchUp.await(spec, true, Duration.ofMinutes(2), () -> pipeline.failure() == null);
            measured = (System.nanoTime() - started) / 1e9;
        }
        try (Connection c = infra.connect("rehearse_demo")) {
            assertThat(DemoData.count(c, "users_v2")).isEqualTo(rows);
        }
        DurationModel.Estimate d = t.projection().duration();
        System.out.printf(Locale.ROOT, "projected vs measured, %,d demo users: projected %.2f s on a quiet machine, %.2f to %.2f s (rehearsal at %.0f%% of"
                        + " a core; %.1f µs/row: read %.1f, transform %.1f, events %.1f, write %.1f), measured %.2f s start to caught up: %s%n",
                rows, projected, d.lowSeconds(), d.highSeconds(), t.projection().cpuShare() * 100, t.costPerRow().total(), t.costPerRow().read(),
                t.costPerRow().transform(), t.costPerRow().events(), t.costPerRow().write(), measured,
                measured >= d.lowSeconds() && measured <= d.highSeconds() ? "in range" : "OUT of range " + d.reasons());
    }

    static String demoSpec(String jdbcUrl) throws Exception {
        try (InputStream in = RehearseIT.class.getResourceAsStream("/examples/users-split.yaml")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8)
                    .replace("name: users-split", "name: rehearse-demo")
                    .replace("jdbc:postgresql://localhost:5432/app", jdbcUrl)
                    .replace("localhost:9092", infra.kafkaBootstrapServers())
                    .replaceAll("(?m)^\\s*passwordEnv:.*$\\n", "");
        }
    }

    /** Everything a rehearsal must not leave behind, in one comparable value. */
    record Trace(Set<String> relations, Set<String> publications, Set<String> slots, Set<String> topics, long targetRows) {
        static Trace of(String db) throws Exception {
            try (Connection c = infra.connect(db); Statement st = c.createStatement()) {
                Set<String> relations = strings(st, "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace");
                Set<String> publications = strings(st, "SELECT pubname FROM pg_publication");
                Set<String> slots = strings(st, "SELECT slot_name FROM pg_replication_slots");
                ResultSet rs = st.executeQuery("SELECT count(*) FROM orders_v2");
                rs.next();
                long targetRows = rs.getLong(1);
                Properties p = new Properties();
                p.put("bootstrap.servers", infra.kafkaBootstrapServers());
                try (Admin admin = Admin.create(p)) {
                    return new Trace(relations, publications, slots, new TreeSet<>(admin.listTopics().names().get()), targetRows);
                }
            }
        }

        private static Set<String> strings(Statement st, String sql) throws Exception {
            Set<String> out = new TreeSet<>();
            try (ResultSet rs = st.executeQuery(sql)) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }

    /** A port nothing listens on: one the OS just handed out and took back. */
    static int closedPort() throws Exception {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static double tolerance(double p, long n) {
        return 4 * Math.sqrt(p * (1 - p) / n);
    }

    static void assertShare(RehearsalReport.RejectGroup g, long trueRows, long n) {
        double p = (double) trueRows / truth.rows();
        System.out.printf(Locale.ROOT, "%-34s sampled share %.4f, true share %.4f, tolerance ±%.4f%n", g.title(), g.share(), p, tolerance(p, n));
        assertThat(g.share()).as(g.title()).isCloseTo(p, within(tolerance(p, n)));
        assertThat(g.examples()).hasSizeBetween(1, 5);
    }

    static RehearsalReport.RejectGroup group(RehearsalReport.TableReport t, String reason, String column) {
        return t.outcome().reasons().stream().filter(g -> g.reason().equals(reason) && column.equals(g.column())).findFirst()
                .orElseThrow(() -> new AssertionError("no DLQ group " + reason + " in " + column + " among " + t.outcome().reasons()));
    }

    static RehearsalReport.ColumnReport column(RehearsalReport.TableReport t, String name) {
        return t.columns().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    static List<String> examples(RehearsalReport.RejectGroup g) {
        return new ArrayList<>(g.examples());
    }

    /** The row behind an example key "id=42". */
    static ResultSet row(PreparedStatement ps, String key) throws Exception {
        assertThat(key).matches("id=\\d+");
        ps.setLong(1, Long.parseLong(key.substring(3)));
        ResultSet rs = ps.executeQuery();
        assertThat(rs.next()).as("row " + key + " exists").isTrue();
        return rs;
    }
}
