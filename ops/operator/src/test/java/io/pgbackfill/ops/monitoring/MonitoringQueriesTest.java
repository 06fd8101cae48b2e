package io.pgbackfill.ops.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.ops.metrics.ConsumerLagProbe;
import io.pgbackfill.ops.metrics.ServiceMetrics;
import io.pgbackfill.ops.metrics.SourceProbe;
import io.pgbackfill.ops.metrics.StageMetrics;
import io.pgbackfill.producer.ChangeEventProducer;
import io.pgbackfill.producer.ProducerConfig;
import io.pgbackfill.sink.RowSink;
import io.pgbackfill.sink.SinkConfig;
import io.pgbackfill.transformer.TransformerApp;
import io.pgbackfill.transformer.TransformerConfig;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every metric the Grafana dashboard, the alert rules and the rules' unit tests query is one the services export
 * (like the compose-vs-code check): the exported names come from a scrape of the three stages' meters as the code
 * registers them, so renaming a metric in the code without the dashboard and rules fails here.
 */
class MonitoringQueriesTest {
    /** Series Prometheus makes itself, not the services. */
    static final Set<String> PROMETHEUS_OWN = Set.of("up");
    static final Set<String> PROMQL_WORDS = Set.of("and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
            "bool", "offset", "inf", "nan", "atan2");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path state;
    static Path monitoring;

    @BeforeAll
    static void locate() {
        monitoring = Promtool.repositoryRoot().resolve("ops/monitoring");
    }

    /** Metric names in a scrape of all three stages' meters (histograms as their _bucket/_count/_sum/_max series). */
    static Set<String> exported() throws Exception {
        PipelineSpec spec;
        try (InputStream in = MonitoringQueriesTest.class.getResourceAsStream("/examples/users-split.yaml")) {
            spec = SpecLoader.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "users-split.yaml");
        }
        ChangeEventProducer producer = new ChangeEventProducer(ProducerConfig.of(spec, state.resolve("producer")));
        TransformerApp transformer = new TransformerApp(MigrationPlan.compile(spec, "users-split.yaml", Map.of(), Map.of(), false),
                TransformerConfig.of(state.resolve("streams")));
        RowSink sink = new RowSink(spec, SinkConfig.from(spec.sink()));
        try (ServiceMetrics metrics = ServiceMetrics.withoutEndpoint(spec.pipelineName())) {
            StageMetrics.producer(metrics.registry(), producer, spec);
            io.pgbackfill.ops.metrics.ControlMetrics.producer(metrics.registry(), producer);
            metrics.own(SourceProbe.idle(spec, producer, metrics.registry()));
            StageMetrics.transformer(metrics.registry(), transformer, spec);
            metrics.own(ConsumerLagProbe.idle(spec, ConsumerLagProbe.Stage.TRANSFORMER, metrics.registry()));
            StageMetrics.sink(metrics.registry(), sink, spec);
            io.pgbackfill.ops.metrics.ControlMetrics.sink(metrics.registry(), sink);
            metrics.own(ConsumerLagProbe.idle(spec, ConsumerLagProbe.Stage.SINK, metrics.registry()));
            Set<String> names = new TreeSet<>();
            for (String line : metrics.prometheus().scrape().split("\n")) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    names.add(line.split("[{ ]", 2)[0]);
                }
            }
            return names;
        }
    }

    /** Where each query comes from ("dashboard: Panel title") to its PromQL. */
    static Map<String, String> queries() throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        JsonNode dashboard = JSON.readTree(monitoring.resolve("grafana/dashboards/pgbackfill.json").toFile());
        collectPanels(dashboard.path("panels"), out);
        for (JsonNode v : dashboard.path("templating").path("list")) {
            String q = v.path("query").isTextual() ? v.path("query").asText() : v.path("query").path("query").asText();
            out.put("dashboard variable " + v.path("name").asText(), q);
        }
        JsonNode rules = PromtoolRulesTest.YAML.readTree(monitoring.resolve("prometheus/alerts.yml").toFile());
        for (JsonNode group : rules.path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                out.put("rule " + rule.path("alert").asText(rule.path("record").asText()), rule.path("expr").asText());
            }
        }
        int i = 0;
        for (JsonNode test : PromtoolRulesTest.YAML.readTree(monitoring.resolve("prometheus/alerts-test.yml").toFile()).path("tests")) {
            for (JsonNode s : test.path("input_series")) {
                // An input series is a selector too: its name is what the rules will find in a real Prometheus.
                out.put("rule test '" + test.path("name").asText() + "' series " + i++, s.path("series").asText());
            }
        }
        return out;
    }

    private static void collectPanels(JsonNode panels, Map<String, String> out) {
        for (JsonNode p : panels) {
            int i = 0;
            for (JsonNode t : p.path("targets")) {
                out.put("dashboard panel '" + p.path("title").asText() + "' #" + i++, t.path("expr").asText());
            }
            collectPanels(p.path("panels"), out);
        }
    }

    /** Metric names a PromQL expression selects: identifiers outside strings, label matchers, ranges and label lists that are no function. */
    static Set<String> metricsIn(String promql) {
        Set<String> names = new TreeSet<>();
        Matcher labelValues = Pattern.compile("label_values\\(\\s*([a-zA-Z_:][\\w:]*)\\s*,").matcher(promql);
        if (labelValues.find()) {
            names.add(labelValues.group(1));
            return names;
        }
        String s = promql.replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"")
                .replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^]]*]", " ")
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
        Matcher m = Pattern.compile("(?<![\\w:.$])([a-zA-Z_:][\\w:]*)(\\s*\\()?").matcher(s);
        while (m.find()) {
            String word = m.group(1);
            if (m.group(2) == null && !PROMQL_WORDS.contains(word.toLowerCase(java.util.Locale.ROOT))) {
                names.add(word);
            }
        }
        return names;
    }

    /** "where: metric" for every queried metric not in {@code exported}. */
    static Set<String> unknown(Map<String, String> queries, Set<String> exported) {
        Set<String> out = new TreeSet<>();
        queries.forEach((where, q) -> metricsIn(q).stream()
                .filter(n -> !exported.contains(n) && !PROMETHEUS_OWN.contains(n))
                .forEach(n -> out.add(where + ": " + n)));
        return out;
    }

    @Test
    void everyQueriedMetricIsExported() throws Exception {
        Set<String> exported = exported();
        Map<String, String> queries = queries();
        assertThat(unknown(queries, exported)).isEmpty();

        Set<String> queried = new TreeSet<>();
        queries.values().forEach(q -> queried.addAll(metricsIn(q)));
        assertThat(queried).as("what the dashboard and rules watch").contains("pgbackfill_consumer_lag_records", "pgbackfill_dead_letters_total",
                "pgbackfill_sink_batch_duration_seconds_bucket", "pgbackfill_sink_batch_size_bucket", "pgbackfill_snapshot_eta_seconds",
                "pgbackfill_source_slot_retained_wal_bytes", "pgbackfill_source_slot_wal_status", "pgbackfill_healthy", "jvm_memory_used_bytes", "up");
    }

    @Test
    void aMetricRenamedInTheCodeIsReported() throws Exception {
        // As if StageMetrics.DEAD_LETTERS had been renamed: the scrape no longer has the old name.
        Set<String> renamed = new TreeSet<>(exported());
        assertThat(renamed.remove("pgbackfill_dead_letters_total")).isTrue();
        renamed.add("pgbackfill_dlq_records_total");
        assertThat(unknown(queries(), renamed)).isNotEmpty()
                .anyMatch(s -> s.startsWith("dashboard panel 'Dead letters by reason (per 5 min)'") && s.endsWith(": pgbackfill_dead_letters_total"))
                .anyMatch(s -> s.startsWith("rule PgbackfillDeadLettersRising: "))
                .allMatch(s -> s.endsWith(": pgbackfill_dead_letters_total"));
    }

    @Test
    void theParserFindsMetricsAndNothingElse() {
        assertThat(metricsIn("sum by (pipeline, stage) (max by (stage, topic, partition) (pgbackfill_consumer_lag_records{pipeline=~\"$pipeline\"})) > 100000"))
                .containsExactly("pgbackfill_consumer_lag_records");
        assertThat(metricsIn("histogram_quantile(0.95, sum by (le) (rate(pgbackfill_sink_batch_duration_seconds_bucket[5m])))"))
                .containsExactly("pgbackfill_sink_batch_duration_seconds_bucket");
        assertThat(metricsIn("max by (pipeline) (pgbackfill_snapshot_done) == 0 and on (pipeline) sum by (pipeline) (delta(pgbackfill_snapshot_rows_read[10m])) <= 0"))
                .containsExactly("pgbackfill_snapshot_done", "pgbackfill_snapshot_rows_read");
        assertThat(metricsIn("up{job=\"pgbackfill\"} == 0 or pgbackfill_healthy == 0")).containsExactly("pgbackfill_healthy", "up");
        assertThat(metricsIn("label_values(pgbackfill_healthy, pipeline)")).containsExactly("pgbackfill_healthy");
        assertThat(metricsIn("pgbackfill_source_slot_wal_status{job=\"pgbackfill\",status=\"lost\"}")).containsExactly("pgbackfill_source_slot_wal_status");
    }
}
