package io.pgbackfill.ops.compose;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * docker-compose.yml as the checks need it: services with their image, command, environment, volumes and
 * dependencies, in the two spellings compose accepts (list or map, string or list). Read with Jackson YAML,
 * which does not resolve anchors and aliases: the file must not use them, and {@link #read} refuses them.
 */
record ComposeFile(Path dir, JsonNode root) {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static ComposeFile read(Path file) throws IOException {
        String text = Files.readString(file);
        if (text.matches("(?s).*:\\s*[&*][A-Za-z].*")) {
            throw new IllegalArgumentException(file + " uses YAML anchors or aliases; write the values out (the checks would not see them)");
        }
        return new ComposeFile(file.toAbsolutePath().getParent(), YAML.readTree(text));
    }

    /** A copy with {@code KEY: value} added to one service's environment: for showing that a check fails. */
    ComposeFile withEnvironment(String service, String key, String value) {
        JsonNode copy = root.deepCopy();
        ((ObjectNode) copy.path("services").path(service).path("environment")).put(key, value);
        return new ComposeFile(dir, copy);
    }

    List<String> services() {
        List<String> out = new ArrayList<>();
        root.path("services").fieldNames().forEachRemaining(out::add);
        return out;
    }

    JsonNode service(String name) {
        return root.path("services").path(name);
    }

    String image(String service) {
        return service(service).path("image").asText(null);
    }

    boolean builtHere(String service) {
        return service(service).has("build");
    }

    List<String> command(String service) {
        return strings(service(service).path("command"));
    }

    Map<String, String> environment(String service) {
        JsonNode env = service(service).path("environment");
        Map<String, String> out = new LinkedHashMap<>();
        if (env.isArray()) {
            for (JsonNode e : env) {
                String[] kv = e.asText().split("=", 2);
                out.put(kv[0], kv.length > 1 ? kv[1] : null);
            }
        } else {
            env.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().isNull() ? null : e.getValue().asText()));
        }
        return out;
    }

    /** The secrets a service is given (short syntax), mounted at /run/secrets/NAME. */
    List<String> secrets(String service) {
        return strings(service(service).path("secrets"));
    }

    /** The file a top-level secret reads, resolved against the compose file's directory. */
    Optional<Path> secretFile(String secret) {
        JsonNode f = root.path("secrets").path(secret).path("file");
        return f.isTextual() ? Optional.of(dir.resolve(f.asText()).normalize()) : Optional.empty();
    }

    /** Short-syntax volumes as (source, target); a relative source is resolved against the compose file's directory. */
    List<Mount> volumes(String service) {
        List<Mount> out = new ArrayList<>();
        for (JsonNode v : service(service).path("volumes")) {
            String[] parts = v.asText().split(":");
            String source = parts[0];
            boolean bind = source.startsWith(".") || source.startsWith("/");
            out.add(new Mount(bind ? dir.resolve(source).normalize().toString() : source, parts[1], bind));
        }
        return out;
    }

    /** The host file bound at {@code containerPath}, if one is. */
    Optional<Path> boundFile(String service, String containerPath) {
        return volumes(service).stream().filter(m -> m.bind() && m.target().equals(containerPath)).map(m -> Path.of(m.source())).findFirst();
    }

    Map<String, String> dependsOn(String service) {
        JsonNode deps = service(service).path("depends_on");
        Map<String, String> out = new LinkedHashMap<>();
        if (deps.isArray()) {
            deps.forEach(d -> out.put(d.asText(), "service_started"));
        } else {
            deps.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().path("condition").asText("service_started")));
        }
        return out;
    }

    /** Services another one waits for with {@code service_completed_successfully}: they run once and exit. */
    List<String> oneShots() {
        return services().stream().filter(s -> services().stream().anyMatch(o -> "service_completed_successfully".equals(dependsOn(o).get(s)))).toList();
    }

    List<String> namedVolumes() {
        List<String> out = new ArrayList<>();
        root.path("volumes").fieldNames().forEachRemaining(out::add);
        return out;
    }

    static List<String> strings(JsonNode node) {
        List<String> out = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(n -> out.add(n.asText()));
        } else if (node.isTextual()) {
            out.addAll(List.of(node.asText().trim().split("\\s+")));
        }
        return out;
    }

    record Mount(String source, String target, boolean bind) {
    }
}
