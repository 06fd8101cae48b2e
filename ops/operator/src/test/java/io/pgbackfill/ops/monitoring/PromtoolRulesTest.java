package io.pgbackfill.ops.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alert rules of ops/monitoring/prometheus/ through real Prometheus tooling: {@code promtool check rules}, then
 * {@code promtool test rules} on alerts-test.yml; every alert has a test case that expects it to fire, and that test
 * fails once the rule is gone (checked by deleting each rule in turn).
 */
class PromtoolRulesTest {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static Path dir;
    static Promtool promtool;

    @BeforeAll
    static void locate() throws Exception {
        dir = Promtool.repositoryRoot().resolve("ops/monitoring/prometheus");
        promtool = Promtool.require();
    }

    static List<String> alertNames(JsonNode rules) {
        List<String> names = new ArrayList<>();
        for (JsonNode group : rules.path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                if (rule.has("alert")) {
                    names.add(rule.path("alert").asText());
                }
            }
        }
        return names;
    }

    @Test
    void theRulesAreValid() throws Exception {
        Promtool.Result check = promtool.run("check", "rules", dir.resolve("alerts.yml").toString());
        assertThat(check.exit()).as(check.output()).isZero();
        assertThat(check.output()).contains("SUCCESS: " + alertNames(YAML.readTree(dir.resolve("alerts.yml").toFile())).size() + " rules found");
    }

    @Test
    void theRuleUnitTestsPass() throws Exception {
        Promtool.Result test = promtool.run("test", "rules", dir.resolve("alerts-test.yml").toString());
        assertThat(test.exit()).as(test.output()).isZero();
        assertThat(test.output()).contains("SUCCESS");
    }

    @Test
    void everyAlertHasATestCaseExpectingItToFire() throws Exception {
        List<String> alerts = alertNames(YAML.readTree(dir.resolve("alerts.yml").toFile()));
        assertThat(alerts).as("the alerts the issue asks for").contains("PgbackfillSlotWalLost", "PgbackfillSlotRetainedWalGrowing",
                "PgbackfillConsumerLagHigh", "PgbackfillDeadLettersRising", "PgbackfillStageDown", "PgbackfillSnapshotStalled");
        Set<String> expectedToFire = new LinkedHashSet<>();
        for (JsonNode test : YAML.readTree(dir.resolve("alerts-test.yml").toFile()).path("tests")) {
            for (JsonNode t : test.path("alert_rule_test")) {
                if (!t.path("exp_alerts").isEmpty()) {
                    expectedToFire.add(t.path("alertname").asText());
                }
            }
        }
        assertThat(expectedToFire).containsExactlyInAnyOrderElementsOf(alerts);
    }

    /** The tests are only worth something if they can fail: without any one rule, promtool test rules must fail on it. */
    @Test
    void deletingAnyRuleFailsItsTest(@TempDir Path tmp) throws Exception {
        JsonNode rules = YAML.readTree(dir.resolve("alerts.yml").toFile());
        Files.copy(dir.resolve("alerts-test.yml"), tmp.resolve("alerts-test.yml"));
        for (String alert : alertNames(rules)) {
            ObjectNode without = rules.deepCopy();
            for (JsonNode group : without.path("groups")) {
                ArrayNode list = (ArrayNode) group.path("rules");
                for (int i = list.size() - 1; i >= 0; i--) {
                    if (list.get(i).path("alert").asText().equals(alert)) {
                        list.remove(i);
                    }
                }
            }
            YAML.writeValue(tmp.resolve("alerts.yml").toFile(), without);
            Promtool.Result check = promtool.run("check", "rules", tmp.resolve("alerts.yml").toString());
            assertThat(check.exit()).as("the rules without %s are still valid: %s", alert, check.output()).isZero();
            Promtool.Result test = promtool.run("test", "rules", tmp.resolve("alerts-test.yml").toString());
            assertThat(test.exit()).as("promtool test rules without %s", alert).isNotZero();
            assertThat(test.output()).as("the failure names the alert").contains("alertname: " + alert);
        }
    }
}
