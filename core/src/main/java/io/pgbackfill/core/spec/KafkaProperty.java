package io.pgbackfill.core.spec;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.pgbackfill.core.Secret;
import java.io.IOException;
import java.util.function.Function;

/**
 * The value of one Kafka client property under {@code kafka.properties}: written in the spec
 * ({@code security.protocol: SASL_SSL}) or, for secrets, a reference ({@code {env: VAR}} or
 * {@code {file: PATH}}) resolved only when a client is built. Keeps where it was written for errors.
 */
@JsonDeserialize(using = KafkaProperty.Reader.class)
public record KafkaProperty(String value, String env, String file, int line, int column) {

    public static KafkaProperty of(String value) {
        return new KafkaProperty(value, null, null, 0, 0);
    }

    public static KafkaProperty fromEnv(String variable) {
        return new KafkaProperty(null, variable, null, 0, 0);
    }

    public static KafkaProperty fromFile(String path) {
        return new KafkaProperty(null, null, path, 0, 0);
    }

    public boolean isReference() {
        return env != null || file != null;
    }

    /** The value: as written, or read from the environment variable or file. */
    public Secret resolve(Function<String, String> getenv) {
        return isReference() ? Secret.resolve(env, file, getenv) : Secret.of(value, "spec");
    }

    @Override
    public String toString() {
        // A reference is shown by name; a written value is never a secret (refused at load).
        return env != null ? "{env: " + env + "}" : file != null ? "{file: " + file + "}" : value;
    }

    static final class Reader extends JsonDeserializer<KafkaProperty> {
        @Override
        public KafkaProperty deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonLocation loc = p.currentTokenLocation();
            JsonToken t = p.currentToken();
            if (t != null && t.isScalarValue()) {
                return new KafkaProperty(p.getValueAsString(), null, null, loc.getLineNr(), loc.getColumnNr());
            }
            if (t != JsonToken.START_OBJECT) {
                return (KafkaProperty) ctxt.handleUnexpectedToken(KafkaProperty.class, p);
            }
            String env = null;
            String file = null;
            for (String name = p.nextFieldName(); name != null; name = p.nextFieldName()) {
                p.nextToken();
                switch (name) {
                    case "env" -> env = p.getValueAsString();
                    case "file" -> file = p.getValueAsString();
                    default -> throw ctxt.weirdStringException(name, KafkaProperty.class,
                            "a Kafka property is a value, {env: VARIABLE} or {file: PATH}; '" + name + "' is neither");
                }
            }
            if ((env == null) == (file == null)) {
                throw ctxt.weirdStringException(String.valueOf(env), KafkaProperty.class,
                        "a reference names exactly one of env or file");
            }
            return new KafkaProperty(null, env, file, loc.getLineNr(), loc.getColumnNr());
        }
    }
}
