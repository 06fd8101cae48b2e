package io.pgbackfill.ops.compose;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.spec.SpecOverrides;
import io.pgbackfill.ops.BackfillCli;
import io.pgbackfill.ops.commands.ServiceCommands;
import io.pgbackfill.ops.metrics.MetricsOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docker-compose.yml checked against the code it deploys, without Docker: commands the CLI really has,
 * environment variables the code really reads, ports and partition counts that agree between the compose
 * file, the spec it mounts, the Prometheus config and the docs, pinned images, and the operational basics
 * (health checks, restart policies, no fixed names on scaled services, the producer's state on a volume).
 */
class ComposeFileTest {
    static Path root;
    static ComposeFile compose;

    @BeforeAll
    static void read() throws IOException {
        root = repositoryRoot();
        compose = ComposeFile.read(root.resolve("docker-compose.yml"));
    }

    static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("docker-compose.yml")) && Files.exists(p.resolve("ops/pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("no docker-compose.yml above " + Path.of("").toAbsolutePath());
    }

    /** Services running the pgbackfill image (built from this repository). */
    static List<String> ours() {
        return compose.services().stream().filter(compose::builtHere).toList();
    }

    static List<String> stages() {
        return ours().stream().filter(s -> !compose.oneShots().contains(s)).toList();
    }

    static String stageOf(String service) {
        return CodeFacts.parse(compose.command(service)).getCommandName();
    }

    /** The spec files a service's command names, read from where compose mounts them from. */
    static List<PipelineSpec> specs(ComposeFile c, String service) {
        List<PipelineSpec> out = new ArrayList<>();
        for (String arg : c.command(service)) {
            c.boundFile(service, arg).ifPresent(f -> out.add(SpecLoader.load(f)));
        }
        return out;
    }

    static Set<String> variablesRead(String service) {
        return CodeFacts.variablesRead(CodeFacts.parse(compose.command(service)), specs(compose, service));
    }

    /** One problem per variable a service sets that nothing it runs reads. */
    static List<String> unreadVariables(ComposeFile c, Function<String, Set<String>> readBy) {
        List<String> problems = new ArrayList<>();
        for (String s : c.services().stream().filter(c::builtHere).toList()) {
            Set<String> read = readBy.apply(s);
            for (String key : c.environment(s).keySet()) {
                if (!read.contains(key)) {
                    problems.add(s + ": " + key + " is set, but `" + String.join(" ", c.command(s)) + "` reads only " + new TreeSet<>(read));
                }
            }
        }
        return problems;
    }

    static Set<String> renamed(Set<String> names, String from, String to) {
        Set<String> out = new LinkedHashSet<>(names);
        out.remove(from);
        out.add(to);
        return out;
    }

    @Test
    void everyCommandIsARealCliCommandOnAMountedSpec() {
        assertThat(ours()).contains("preflight", "producer", "transformer", "sink");
        for (String s : ours()) {
            List<String> command = compose.command(s);
            assertThat(command).as("%s: command", s).isNotEmpty();
            assertThat(CodeFacts.subcommandNames()).as("%s: backfill subcommands", s).contains(command.get(0));
            assertThatCode(() -> CodeFacts.parse(command)).as("%s: `backfill %s` parses", s, String.join(" ", command)).doesNotThrowAnyException();
            assertThat(specs(compose, s)).as("%s: the SPEC argument is a file compose mounts, and it loads", s).hasSize(1);
        }
    }

    @Test
    void everyVariableASetIsOneTheCodeReads() {
        assertThat(unreadVariables(compose, ComposeFileTest::variablesRead)).isEmpty();
        // Not vacuous: the stages do set variables the code reads.
        assertThat(compose.environment("producer")).containsKeys(MetricsOptions.PORT_ENV, "PGBACKFILL_STATE_DIR");
    }

    @Test
    void aVariableRenamedInTheCodeFailsTheCheck() {
        // As if MetricsOptions.PORT_ENV had been renamed in the code while the compose file still sets the old name.
        Function<String, Set<String>> portRenamed = s -> renamed(variablesRead(s), MetricsOptions.PORT_ENV, "PGBACKFILL_METRICS_HTTP_PORT");
        assertThat(unreadVariables(compose, portRenamed)).hasSize(3).allMatch(p -> p.contains(": " + MetricsOptions.PORT_ENV + " is set"));

        // As if SpecOverrides.KAFKA_BOOTSTRAP had been renamed, for a deployment that sets it.
        ComposeFile withOverride = compose.withEnvironment("sink", SpecOverrides.KAFKA_BOOTSTRAP, "kafka:9092");
        assertThat(unreadVariables(withOverride, s -> CodeFacts.variablesRead(CodeFacts.parse(withOverride.command(s)), specs(withOverride, s))))
                .isEmpty();
        List<String> renamedOverrides = new ArrayList<>(renamed(new LinkedHashSet<>(SpecOverrides.ALL), SpecOverrides.KAFKA_BOOTSTRAP, "PGBACKFILL_KAFKA_SERVERS"));
        assertThat(unreadVariables(withOverride, s -> CodeFacts.variablesRead(CodeFacts.parse(withOverride.command(s)), specs(withOverride, s), renamedOverrides)))
                .singleElement().asString().startsWith("sink: " + SpecOverrides.KAFKA_BOOTSTRAP + " is set");

        // And a variable set on a stage that does not read it (the sink has no --state-dir).
        ComposeFile misplaced = compose.withEnvironment("sink", "PGBACKFILL_STATE_DIR", "/var/lib/pgbackfill");
        assertThat(unreadVariables(misplaced, s -> CodeFacts.variablesRead(CodeFacts.parse(misplaced.command(s)), specs(misplaced, s))))
                .singleElement().asString().startsWith("sink: PGBACKFILL_STATE_DIR is set");
    }

    /** The port a stage serves /metrics and /health on, as the code would choose it inside the container. */
    static int metricsPort(String service) {
        List<String> command = compose.command(service);
        int i = command.indexOf("--metrics-port");
        if (i >= 0) {
            return Integer.parseInt(command.get(i + 1));
        }
        String env = compose.environment(service).get(MetricsOptions.PORT_ENV);
        return env != null ? Integer.parseInt(env) : MetricsOptions.DEFAULT_PORT;
    }

    @Test
    void portsAgree() throws IOException {
        for (String s : stages()) {
            String probe = String.join(" ", ComposeFile.strings(compose.service(s).path("healthcheck").path("test")));
            assertThat(probe).as("%s: the health check asks the port the stage serves", s).contains("localhost:" + metricsPort(s) + "/health");
        }
        JsonNode prometheus = ComposeFile.YAML.readTree(compose.boundFile("prometheus", "/etc/prometheus/prometheus.yml").orElseThrow().toFile());
        Set<String> scraped = new LinkedHashSet<>();
        for (JsonNode job : prometheus.path("scrape_configs")) {
            for (JsonNode sd : job.path("dns_sd_configs")) {
                for (JsonNode name : sd.path("names")) {
                    assertThat(compose.services()).contains(name.asText());
                    assertThat(sd.path("port").asInt()).as("Prometheus port for %s", name.asText()).isEqualTo(metricsPort(name.asText()));
                    scraped.add(name.asText());
                }
            }
        }
        assertThat(scraped).as("every stage is scraped").containsAll(stages());
        for (String s : ours()) {
            for (PipelineSpec spec : specs(compose, s)) {
                for (String server : spec.kafka().bootstrapServers().split(",")) {
                    String host = server.substring(0, server.lastIndexOf(':'));
                    assertThat(compose.services()).as("%s: Kafka host %s is a compose service", s, host).contains(host);
                    assertThat(compose.environment(host).get("KAFKA_ADVERTISED_LISTENERS")).as("the broker advertises %s", server).contains("//" + server);
                }
                for (ConnectionSpec db : List.of(spec.source(), spec.targetOrSource())) {
                    checkDatabase(s, db);
                }
            }
        }
    }

    private static void checkDatabase(String service, ConnectionSpec db) {
        ConnectionSpec.JdbcUrl url = db.parsedUrl();
        assertThat(compose.services()).as("%s: database host %s is a compose service", service, url.host()).contains(url.host());
        assertThat(compose.image(url.host())).startsWith("postgres:");
        Map<String, String> env = compose.environment(url.host());
        assertThat(url.port()).as("%s listens on PostgreSQL's port", url.host()).isEqualTo(Integer.parseInt(env.getOrDefault("PGPORT", "5432")));
        assertThat(url.database()).as("%s: database", url.host()).isEqualTo(env.getOrDefault("POSTGRES_DB", env.getOrDefault("POSTGRES_USER", "postgres")));
        assertThat(db.user()).as("%s: user", url.host()).isEqualTo(env.getOrDefault("POSTGRES_USER", "postgres"));
        // Passwords are compose secrets: the database and the service read the same one, never an environment value.
        assertThat(db.passwordEnv()).as("%s: the spec reads no password variable", service).isNull();
        assertThat(env).as("%s: no password in its environment", url.host()).doesNotContainKey("POSTGRES_PASSWORD");
        assertThat(db.passwordFile()).as("%s: the spec reads a compose secret", service).startsWith("/run/secrets/");
        String secret = db.passwordFile().substring("/run/secrets/".length());
        assertThat(compose.secrets(service)).as("%s is given the secret %s", service, secret).contains(secret);
        assertThat(compose.secrets(url.host())).as("%s is given the secret %s", url.host(), secret).contains(secret);
        assertThat(env.get("POSTGRES_PASSWORD_FILE")).as("%s reads its password from the secret", url.host()).isEqualTo(db.passwordFile());
        assertThat(compose.secretFile(secret)).as("secret %s has a file", secret).hasValueSatisfying(f -> assertThat(f).isRegularFile());
    }

    @Test
    void partitionsCoverEveryDocumentedScaleAndTheBrokerIsASingleNode() throws IOException {
        Pattern scale = Pattern.compile("--scale\\s+([a-z][\\w-]*)=(\\d+)");
        int claims = 0;
        for (Path doc : List.of(root.resolve("docker-compose.yml"), root.resolve("docs/compose.md"))) {
            Matcher m = scale.matcher(Files.readString(doc));
            while (m.find()) {
                claims++;
                String service = m.group(1);
                int instances = Integer.parseInt(m.group(2));
                assertThat(compose.services()).as("%s: --scale %s", doc.getFileName(), service).contains(service);
                assertThat(CodeFacts.SCALABLE).as("%s: %s may run as several instances", doc.getFileName(), service).contains(stageOf(service));
                for (PipelineSpec spec : specs(compose, service)) {
                    assertThat(spec.kafka().partitions()).as("%s: kafka.partitions of %s's spec >= --scale %s=%d", doc.getFileName(), service, service, instances)
                            .isGreaterThanOrEqualTo(instances);
                }
            }
        }
        assertThat(claims).as("the scale-out command is documented").isGreaterThanOrEqualTo(2);

        Map<String, String> kafka = compose.environment("kafka");
        assertThat(kafka.get("KAFKA_CONTROLLER_QUORUM_VOTERS").split(",")).as("one KRaft node").hasSize(1);
        assertThat(kafka).containsEntry("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
                .containsEntry("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
                .containsEntry("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
                .as("topics come from the spec's partition count, not from auto-creation")
                .containsEntry("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false");
        kafka.forEach((k, v) -> {
            if (k.endsWith("_REPLICATION_FACTOR") || k.endsWith("_MIN_ISR")) {
                assertThat(v).as("%s on a one-node cluster", k).isEqualTo("1");
            }
        });
    }

    static Optional<String> tag(String image) {
        String name = image.contains("@") ? image.substring(0, image.indexOf('@')) : image;
        int colon = name.lastIndexOf(':');
        return colon > name.lastIndexOf('/') ? Optional.of(name.substring(colon + 1)) : Optional.empty();
    }

    static String pomProperty(String name) throws IOException {
        Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(Files.readString(root.resolve("pom.xml")));
        assertThat(m.find()).as("pom property %s", name).isTrue();
        return m.group(1).trim();
    }

    @Test
    void imagesArePinnedToTheVersionsTheBuildTestsAgainst() throws IOException {
        for (String s : compose.services()) {
            String image = compose.image(s);
            assertThat(image).as("%s: image", s).isNotBlank();
            assertThat(tag(image)).as("%s: %s has a fixed tag", s, image).hasValueSatisfying(t -> assertThat(t).isNotEqualTo("latest").containsPattern("\\d"));
        }
        assertThat(tag(compose.image("kafka"))).as("the broker runs the Kafka version of the clients").contains(pomProperty("kafka.version"));
        String pgMajor = pomProperty("zonky.binaries.version").split("\\.")[0];
        for (String db : List.of("source-db", "target-db")) {
            assertThat(tag(compose.image(db)).orElseThrow()).as("%s: the PostgreSQL major the tests run", db).startsWith(pgMajor + ".");
        }
        String dockerfile = Files.readString(root.resolve("Dockerfile"));
        Matcher from = Pattern.compile("(?m)^FROM\\s+(\\S+)").matcher(dockerfile);
        int stages = 0;
        while (from.find()) {
            stages++;
            assertThat(tag(from.group(1))).as("Dockerfile: FROM %s", from.group(1)).hasValueSatisfying(t -> assertThat(t).isNotEqualTo("latest").containsPattern("\\d"));
        }
        assertThat(stages).as("a build stage and a runtime stage").isEqualTo(2);
        assertThat(dockerfile).as("the image runs the CLI").containsPattern("ENTRYPOINT \\[.*\"" + Pattern.quote(BackfillCli.class.getName()) + "\"\\]");
        for (String s : stages()) {
            String tool = ComposeFile.strings(compose.service(s).path("healthcheck").path("test")).get(1);
            assertThat(dockerfile).as("%s's health check runs %s: the image installs it", s, tool).containsPattern("apt-get install[^\\n]*\\b" + tool + "\\b");
        }
    }

    static long seconds(String duration) {
        Matcher m = Pattern.compile("(\\d+)(ms|h|m|s)").matcher(duration);
        long ms = 0;
        while (m.find()) {
            long n = Long.parseLong(m.group(1));
            ms += switch (m.group(2)) {
                case "h" -> n * 3_600_000;
                case "m" -> n * 60_000;
                case "s" -> n * 1000;
                default -> n;
            };
        }
        return ms / 1000;
    }

    @Test
    void longRunningServicesAreHealthCheckedAndRestartedOneShotsAreNot() {
        assertThat(compose.oneShots()).containsExactly("preflight");
        for (String s : compose.services()) {
            String restart = compose.service(s).path("restart").asText("no");
            if (compose.oneShots().contains(s)) {
                assertThat(restart).as("%s runs once", s).isEqualTo("no");
                assertThat(CodeFacts.SERVICES).as("%s runs a command that exits", s).doesNotContain(stageOf(s));
                continue;
            }
            assertThat(ComposeFile.strings(compose.service(s).path("healthcheck").path("test"))).as("%s: healthcheck", s).isNotEmpty();
            assertThat(restart).as("%s: restart policy", s).isIn("always", "unless-stopped", "on-failure");
        }
        for (String s : stages()) {
            assertThat(CodeFacts.SERVICES).as("%s runs a stage", s).contains(stageOf(s));
            assertThat(compose.dependsOn(s)).as("%s starts after preflight passed", s).containsEntry("preflight", "service_completed_successfully");
            assertThat(seconds(compose.service(s).path("stop_grace_period").asText("10s")))
                    .as("%s: docker waits longer than the stage's own clean stop", s).isGreaterThan(ServiceCommands.CLOSE_GRACE_SECONDS);
        }
    }

    @Test
    void scalableStagesHaveNoFixedNameOrHostPort() {
        List<String> scalable = stages().stream().filter(s -> CodeFacts.SCALABLE.contains(stageOf(s))).toList();
        assertThat(scalable).containsExactlyInAnyOrder("transformer", "sink");
        for (String s : scalable) {
            assertThat(compose.service(s).has("container_name")).as("%s: container_name would stop --scale", s).isFalse();
            assertThat(compose.service(s).has("ports")).as("%s: a host port would clash between instances", s).isFalse();
        }
    }

    @Test
    void theProducerKeepsItsStateOnANamedVolume() {
        for (String s : stages().stream().filter(s -> Set.of("producer", "up").contains(stageOf(s))).toList()) {
            String stateDir = compose.environment(s).get("PGBACKFILL_STATE_DIR");
            assertThat(stateDir).as("%s: PGBACKFILL_STATE_DIR", s).startsWith("/");
            assertThat(compose.volumes(s)).as("%s: a named volume at %s", s, stateDir)
                    .anyMatch(m -> !m.bind() && m.target().equals(stateDir) && compose.namedVolumes().contains(m.source()));
        }
    }
}
