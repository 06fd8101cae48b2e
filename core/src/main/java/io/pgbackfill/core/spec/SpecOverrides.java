package io.pgbackfill.core.spec;

import java.util.Map;
import java.util.function.Function;

/**
 * Environment overrides for a spec, for services whose connection strings differ per deployment
 * (docker-compose, Kubernetes). Passwords are never here: the spec names their variable or file.
 *
 * <pre>
 * PGBACKFILL_SOURCE_URL     source.jdbcUrl        PGBACKFILL_SOURCE_USER   source.user
 * PGBACKFILL_TARGET_URL     target.jdbcUrl        PGBACKFILL_TARGET_USER   target.user
 * PGBACKFILL_KAFKA_BOOTSTRAP kafka.bootstrapServers
 * </pre>
 */
public final class SpecOverrides {
    public static final String SOURCE_URL = "PGBACKFILL_SOURCE_URL";
    public static final String SOURCE_USER = "PGBACKFILL_SOURCE_USER";
    public static final String TARGET_URL = "PGBACKFILL_TARGET_URL";
    public static final String TARGET_USER = "PGBACKFILL_TARGET_USER";
    public static final String KAFKA_BOOTSTRAP = "PGBACKFILL_KAFKA_BOOTSTRAP";
    /** Every variable the code reads, for the compose check. */
    public static final java.util.List<String> ALL = java.util.List.of(SOURCE_URL, SOURCE_USER, TARGET_URL, TARGET_USER, KAFKA_BOOTSTRAP);

    private SpecOverrides() {
    }

    public static PipelineSpec apply(PipelineSpec spec, Function<String, String> env) {
        ConnectionSpec s = spec.source();
        ConnectionSpec source = new ConnectionSpec(or(env.apply(SOURCE_URL), s.jdbcUrl()), or(env.apply(SOURCE_USER), s.user()),
                s.passwordEnv(), s.passwordFile(), s.password());
        ConnectionSpec target = spec.target();
        if (target != null || env.apply(TARGET_URL) != null) {
            ConnectionSpec t = target == null ? source : target;
            target = new ConnectionSpec(or(env.apply(TARGET_URL), t.jdbcUrl()), or(env.apply(TARGET_USER), t.user()),
                    t.passwordEnv(), t.passwordFile(), t.password());
        }
        KafkaSpec k = spec.kafka();
        KafkaSpec kafka = k.withBootstrapServers(or(env.apply(KAFKA_BOOTSTRAP), k.bootstrapServers()));
        return spec.withConnections(source, target).withKafka(kafka);
    }

    public static PipelineSpec fromEnvironment(PipelineSpec spec) {
        return apply(spec, System::getenv);
    }

    public static PipelineSpec apply(PipelineSpec spec, Map<String, String> env) {
        return apply(spec, env::get);
    }

    private static String or(String a, String b) {
        return a != null && !a.isBlank() ? a : b;
    }
}
