package io.pgbackfill.core.kafka;

import io.pgbackfill.core.CannotStart;
import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.Secret;
import io.pgbackfill.core.spec.KafkaProperty;
import io.pgbackfill.core.spec.KafkaSpec;
import io.pgbackfill.core.spec.SpecException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.AuthenticationException;

/**
 * The one place a Kafka client configuration is made: every producer, consumer, admin client and the Streams
 * app start from {@link #of}, so {@code kafka.bootstrapServers} and the spec's {@code kafka.properties}
 * (security protocol, SASL, TLS, DNS) reach all of them alike.
 * <p>
 * Allowed properties are those every client type understands (connection, security, SASL, TLS, timeouts), minus
 * those pgbackfill sets itself. Secrets ({@code PASSWORD}-typed properties such as {@code ssl.truststore.password}
 * and {@code sasl.jaas.config}, and {@code sasl.password}) must be {@code {env: VAR}} or {@code {file: PATH}}.
 * {@code sasl.username} + {@code sasl.password} stand for the JAAS line of PLAIN and SCRAM, as in librdkafka.
 */
public final class KafkaClientConfig {
    public static final String SASL_USERNAME = "sasl.username";
    public static final String SASL_PASSWORD = "sasl.password";
    private static final Set<String> SET_BY_PGBACKFILL = Set.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, AdminClientConfig.CLIENT_ID_CONFIG);
    private static final Map<String, String> LOGIN_MODULES = Map.of(
            "PLAIN", "org.apache.kafka.common.security.plain.PlainLoginModule",
            "SCRAM-SHA-256", "org.apache.kafka.common.security.scram.ScramLoginModule",
            "SCRAM-SHA-512", "org.apache.kafka.common.security.scram.ScramLoginModule");
    private static final ConfigDef DEF = AdminClientConfig.configDef();
    private static final Set<String> ALLOWED = allowed();

    /**
     * The session timeout of the transformer's and the sink's consumers, not Kafka's 45 s: an instance that died (kill -9,
     * or Streams rejoining under a new member id after a broker restart aborted its transaction) stays in its group until
     * its session expires, and the rebalance that gives its partitions to the others or to its restart waits for that.
     * Heartbeats come from the consumer's own thread every third of it, so a long batch or GC pause does not count.
     */
    public static final int GROUP_SESSION_TIMEOUT_MS = 10_000;

    private KafkaClientConfig() {
    }

    private static Set<String> allowed() {
        Set<String> s = new TreeSet<>(AdminClientConfig.configNames());
        s.retainAll(ProducerConfig.configNames());
        s.retainAll(ConsumerConfig.configNames());
        s.removeAll(SET_BY_PGBACKFILL);
        s.add(SASL_USERNAME);
        s.add(SASL_PASSWORD);
        return s;
    }

    /** Bootstrap servers, client id and the spec's properties, secrets resolved: the start of every client's config. */
    public static Properties of(KafkaSpec kafka, String clientId) {
        return of(kafka, clientId, System::getenv);
    }

    public static Properties of(KafkaSpec kafka, String clientId, Function<String, String> getenv) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        if (clientId != null) {
            p.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
        }
        for (var e : kafka.properties().entrySet()) {
            if (!e.getKey().equals(SASL_USERNAME) && !e.getKey().equals(SASL_PASSWORD)) {
                p.put(e.getKey(), e.getValue().resolve(getenv).reveal());
            }
        }
        KafkaProperty user = kafka.properties().get(SASL_USERNAME);
        KafkaProperty password = kafka.properties().get(SASL_PASSWORD);
        if (user != null && password != null) {
            String module = LOGIN_MODULES.get(mechanism(kafka));
            p.put("sasl.jaas.config", module + " required username=\"" + quote(user.resolve(getenv).reveal())
                    + "\" password=\"" + quote(password.resolve(getenv).reveal()) + "\";");
        }
        return p;
    }

    /** Every secret the properties resolve to, for {@link Redaction}. */
    public static Secret[] secrets(KafkaSpec kafka, Function<String, String> getenv) {
        List<Secret> out = new ArrayList<>();
        for (var e : kafka.properties().entrySet()) {
            if (isSecret(e.getKey())) {
                try {
                    out.add(e.getValue().resolve(getenv));
                } catch (IllegalArgumentException unset) {
                    // not resolvable, so it cannot leak either
                }
            }
        }
        return out.toArray(Secret[]::new);
    }

    /** What is wrong with the spec's {@code kafka.properties}, each at the line it was written. */
    public static List<SpecException.Problem> problems(KafkaSpec kafka, String file) {
        List<SpecException.Problem> out = new ArrayList<>();
        for (var e : kafka.properties().entrySet()) {
            String name = e.getKey();
            KafkaProperty v = e.getValue();
            if (v == null) {
                out.add(new SpecException.Problem(file, 0, 0, "kafka.properties." + name + " has no value"));
                continue;
            }
            if (SET_BY_PGBACKFILL.contains(name)) {
                out.add(problem(file, v, "kafka.properties." + name + " is set by pgbackfill (use kafka.bootstrapServers; client ids follow the pipeline's name)"));
            } else if (!ALLOWED.contains(name)) {
                out.add(problem(file, v, "unknown Kafka client property '" + name + "'" + closest(name).map(c -> " (did you mean '" + c + "'?)").orElse("")
                        + "; allowed: the connection, security, SASL and SSL properties every Kafka client takes"));
            } else if (isSecret(name) && !v.isReference()) {
                out.add(problem(file, v, "kafka.properties." + name + " is a secret and is never written in the spec: "
                        + "write it as {env: VARIABLE} or {file: PATH}"));
            } else if (!v.isReference() && DEF.configKeys().containsKey(name)) {
                ConfigDef.ConfigKey key = DEF.configKeys().get(name);
                try {
                    Object parsed = ConfigDef.parseType(name, v.value(), key.type);
                    if (key.validator != null) {
                        key.validator.ensureValid(name, parsed);
                    }
                } catch (ConfigException ex) {
                    out.add(problem(file, v, "kafka.properties." + name + ": " + ex.getMessage()));
                }
            }
        }
        KafkaProperty user = kafka.properties().get(SASL_USERNAME);
        KafkaProperty password = kafka.properties().get(SASL_PASSWORD);
        if ((user == null) != (password == null)) {
            KafkaProperty given = user != null ? user : password;
            out.add(problem(file, given, "kafka.properties: give both sasl.username and sasl.password, or neither"));
        } else if (user != null) {
            if (kafka.properties().containsKey("sasl.jaas.config")) {
                out.add(problem(file, user, "kafka.properties: give sasl.username/sasl.password or sasl.jaas.config, not both"));
            }
            if (!LOGIN_MODULES.containsKey(mechanism(kafka))) {
                out.add(problem(file, user, "kafka.properties: sasl.username/sasl.password work with sasl.mechanism PLAIN, SCRAM-SHA-256 or "
                        + "SCRAM-SHA-512 (this spec: " + mechanism(kafka) + "); other mechanisms take sasl.jaas.config: {env: VARIABLE}"));
            }
        }
        return out;
    }

    /**
     * A Kafka failure at start, as one clear line: refused credentials or certificates (exit 2). Empty when the
     * failure is something else.
     */
    public static Optional<CannotStart> cannotStart(KafkaSpec kafka, Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof AuthenticationException a) {
                String how = kafka.properties().containsKey("security.protocol") ? kafka.properties().get("security.protocol").toString() : "PLAINTEXT";
                if (kafka.properties().containsKey("sasl.mechanism")) {
                    how += " " + kafka.properties().get("sasl.mechanism");
                }
                if (kafka.properties().containsKey(SASL_USERNAME)) {
                    how += " as " + kafka.properties().get(SASL_USERNAME);
                }
                String m = Redaction.redact(String.valueOf(a.getMessage()), secrets(kafka, System::getenv));
                int nl = m.indexOf('\n');
                return Optional.of(new CannotStart("Kafka at " + kafka.bootstrapServers() + " (" + how + ") refused the connection: "
                        + (nl < 0 ? m : m.substring(0, nl))));
            }
        }
        return Optional.empty();
    }

    private static boolean isSecret(String name) {
        if (name.equals(SASL_PASSWORD)) {
            return true;
        }
        ConfigDef.ConfigKey k = DEF.configKeys().get(name);
        return k != null && k.type == ConfigDef.Type.PASSWORD;
    }

    private static String mechanism(KafkaSpec kafka) {
        KafkaProperty m = kafka.properties().get("sasl.mechanism");
        return m == null ? "GSSAPI" : m.toString().toUpperCase(java.util.Locale.ROOT);
    }

    private static String quote(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static SpecException.Problem problem(String file, KafkaProperty at, String message) {
        return new SpecException.Problem(file, at.line(), at.column(), message);
    }

    private static Optional<String> closest(String name) {
        return ALLOWED.stream().min(Comparator.comparingInt(a -> distance(a, name))).filter(c -> distance(c, name) <= 3);
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
