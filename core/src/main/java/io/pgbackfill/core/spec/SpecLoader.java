package io.pgbackfill.core.spec;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pgbackfill.core.sql.SqlIdentifier;
import io.pgbackfill.core.sql.TableName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reads a spec file and checks everything that can be checked without a database: YAML syntax,
 * unknown or missing keys, names and identifiers. Expressions are compiled later, against the
 * catalog, by {@link io.pgbackfill.core.transform.MigrationPlan}. Every error carries file:line:column.
 */
public final class SpecLoader {
    private static final Pattern PIPELINE_NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,39}");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);

    private SpecLoader() {
    }

    public static PipelineSpec load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new SpecException(file.toString(), 0, 0, "cannot read spec file: " + e.getClass().getSimpleName());
        }
        return parse(text, file.toString());
    }

    public static PipelineSpec parse(String yaml, String fileName) {
        List<SpecException.Problem> passwords = writtenPasswords(yaml, fileName);
        if (!passwords.isEmpty()) {
            throw new SpecException(passwords);
        }
        PipelineSpec spec;
        try {
            spec = YAML.readValue(yaml, PipelineSpec.class);
        } catch (JsonProcessingException e) {
            int line = line(e.getLocation());
            int column = column(e.getLocation());
            if (e instanceof UnrecognizedPropertyException u) {
                int[] at = keyBefore(yaml, u.getPropertyName(), e.getLocation());
                line = at[0] > 0 ? at[0] : line;
                column = at[0] > 0 ? at[1] : column;
            }
            throw new SpecException(fileName, line, column, describe(e));
        }
        if (spec == null) {
            throw new SpecException(fileName, 1, 1, "the spec file is empty");
        }
        validate(spec, fileName, yaml);
        return spec;
    }

    /**
     * A {@code password:} key under {@code source:} or {@code target:} would be a secret in the spec file (and used to
     * be ignored silently): refused where it was written, before anything else is read.
     */
    private static List<SpecException.Problem> writtenPasswords(String yaml, String file) {
        List<SpecException.Problem> out = new ArrayList<>();
        try (com.fasterxml.jackson.core.JsonParser p = YAML.getFactory().createParser(yaml)) {
            java.util.Deque<String> path = new java.util.ArrayDeque<>();
            String field = null;
            for (com.fasterxml.jackson.core.JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                switch (t) {
                    case START_OBJECT, START_ARRAY -> {
                        path.push(field == null ? "" : field);
                        field = null;
                    }
                    case END_OBJECT, END_ARRAY -> {
                        path.pop();
                        field = null;
                    }
                    case FIELD_NAME -> {
                        field = p.currentName();
                        String parent = path.peek();
                        if ("password".equals(field) && path.size() == 2 && ("source".equals(parent) || "target".equals(parent))) {
                            JsonLocation at = p.currentTokenLocation();
                            out.add(new SpecException.Problem(file, at.getLineNr(), at.getColumnNr(), parent + ".password: a password is never written "
                                    + "in the spec; name an environment variable (passwordEnv: PGBACKFILL_" + parent.toUpperCase(java.util.Locale.ROOT)
                                    + "_PASSWORD) or a file (passwordFile: /run/secrets/" + parent + "-db-password) instead"));
                        }
                    }
                    default -> field = null;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not valid YAML: the real parse below reports where.
        }
        return out;
    }

    private static void validate(PipelineSpec spec, String file, String yaml) {
        List<SpecException.Problem> problems = new ArrayList<>();
        connection(problems, file, yaml, spec.source(), "source", true);
        if (spec.target() != null) {
            connection(problems, file, yaml, spec.target(), "target", false);
        }
        problems.addAll(io.pgbackfill.core.kafka.KafkaClientConfig.problems(spec.kafka(), file));
        if (!PIPELINE_NAME.matcher(spec.name().text()).matches()) {
            problems.add(at(file, spec.name(), "name '" + spec.name().text() + "' must be 1-40 characters of a-z, 0-9, '_' or '-', starting with a letter or digit"));
        }
        if (spec.tables().isEmpty()) {
            problems.add(new SpecException.Problem(file, 0, 0, "tables: at least one table is required"));
        }
        java.util.Set<String> targets = new java.util.HashSet<>();
        for (TableSpec t : spec.tables()) {
            table(problems, file, t.source());
            table(problems, file, t.target());
            try {
                if (!targets.add(t.targetName().id())) {
                    problems.add(at(file, t.target(), "target table " + t.target().text() + " appears twice"));
                }
            } catch (IllegalArgumentException ignored) {
                // reported above
            }
            for (SpecText k : t.key()) {
                ident(problems, file, k, "key column");
            }
            for (var c : t.columns().entrySet()) {
                if (c.getValue() == null || c.getValue().text() == null || c.getValue().text().isBlank()) {
                    // Often a comma inside an unquoted expression in a {flow: mapping} split it in two.
                    problems.add(at(file, t.target(), "column '" + c.getKey() + "' of " + t.target().text()
                            + " has no expression (quote expressions that contain commas inside {…})"));
                    continue;
                }
                try {
                    SqlIdentifier.of(c.getKey());
                } catch (IllegalArgumentException e) {
                    problems.add(at(file, c.getValue(), "target column: " + e.getMessage()));
                }
            }
            if (t.reverse() != null) {
                for (var c : t.reverse().columns().entrySet()) {
                    if (c.getValue() == null || c.getValue().text() == null || c.getValue().text().isBlank()) {
                        problems.add(at(file, t.reverse().at(c.getKey()), "reverse column '" + c.getKey() + "' of " + t.source().text()
                                + " has no expression (quote expressions that contain commas inside {…})"));
                        continue;
                    }
                    ident(problems, file, new SpecText(c.getKey(), c.getValue().line(), c.getValue().column()), "reverse column");
                }
                if (t.reverse().columns().isEmpty()) {
                    problems.add(at(file, t.reverse().at(""), "reverse of " + t.target().text() + ": give each old-table column an expression"));
                }
            }
            if (t.columns().isEmpty() && t.mapper() == null) {
                problems.add(at(file, t.target(), "table " + t.target().text() + ": give 'columns' or a 'mapper'"));
            }
        }
        if (!problems.isEmpty()) {
            throw new SpecException(problems);
        }
    }

    /** The URL as pgjdbc reads it; the source's must name one host (a replication connection follows no fail-over list). */
    private static void connection(List<SpecException.Problem> problems, String file, String yaml, ConnectionSpec c, String side, boolean replication) {
        int[] at = where(yaml, c.jdbcUrl());
        ConnectionSpec.JdbcUrl url;
        try {
            url = c.parsedUrl();
        } catch (IllegalArgumentException e) {
            // Not a URL pgjdbc reads (often a placeholder that PGBACKFILL_SOURCE_URL replaces): connecting says so.
            return;
        }
        for (String secret : ConnectionSpec.JdbcUrl.SECRET_PARAMETERS) {
            if (url.parameters().containsKey(secret)) {
                problems.add(new SpecException.Problem(file, at[0], at[1], side + ".jdbcUrl carries '" + secret + "=': a secret is never written in the spec; "
                        + (secret.equals("password") ? "use " + side + ".passwordEnv or " + side + ".passwordFile" : "use a client key without a passphrase, readable only by pgbackfill")));
            }
        }
        if (url.hosts().stream().anyMatch(h -> h.startsWith("[")) && "verify-full".equals(url.parameters().get("sslmode"))) {
            // pgjdbc compares the bracketed literal with the certificate's DNS names, never its IP addresses: it always fails.
            problems.add(new SpecException.Problem(file, at[0], at[1], side + ".jdbcUrl: sslmode=verify-full cannot check an IPv6 address "
                    + "against the server's certificate (pgjdbc compares it with DNS names only); use the server's DNS name, or sslmode=verify-ca"));
        }
        if (replication && url.multiHost()) {
            problems.add(new SpecException.Problem(file, at[0], at[1], side + ".jdbcUrl names several hosts (" + String.join(",", url.hosts())
                    + "): the source's replication connection and its slot live on one server; name the primary only"));
        }
    }

    /** Line and column of a value written in the spec (a plain string field keeps no position of its own). */
    private static int[] where(String yaml, String text) {
        int i = text == null ? -1 : yaml.indexOf(text);
        if (i < 0) {
            return new int[] {0, 0};
        }
        int line = 1;
        int lineStart = 0;
        for (int k = 0; k < i; k++) {
            if (yaml.charAt(k) == '\n') {
                line++;
                lineStart = k + 1;
            }
        }
        return new int[] {line, i - lineStart + 1};
    }

    private static void table(List<SpecException.Problem> problems, String file, SpecText name) {
        try {
            TableName.parse(name.text());
        } catch (IllegalArgumentException e) {
            problems.add(at(file, name, "table: " + e.getMessage()));
        }
    }

    private static void ident(List<SpecException.Problem> problems, String file, SpecText name, String what) {
        try {
            SqlIdentifier.of(name.text());
        } catch (IllegalArgumentException e) {
            problems.add(at(file, name, what + ": " + e.getMessage()));
        }
    }

    static SpecException.Problem at(String file, SpecText where, String message) {
        return new SpecException.Problem(file, where.line(), where.column(), message);
    }

    /**
     * Where an unknown key was written. Jackson reports the parser's position after the key's value, which
     * for a nested block is lines later; the key itself is the last "name:" before that position.
     */
    private static int[] keyBefore(String yaml, String key, JsonLocation after) {
        long end = after == null || after.getCharOffset() < 0 ? yaml.length() : Math.min(yaml.length(), after.getCharOffset());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)(^|[\\s{,])\"?" + java.util.regex.Pattern.quote(key) + "\"?\\s*:").matcher(yaml);
        int found = -1;
        while (m.find() && m.start() < end) {
            found = m.start() + m.group(1).length();
        }
        if (found < 0) {
            return new int[] {0, 0};
        }
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < found; i++) {
            if (yaml.charAt(i) == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        return new int[] {line, found - lineStart + 1};
    }

    private static String describe(JsonProcessingException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof com.fasterxml.jackson.dataformat.yaml.JacksonYAMLParseException || t instanceof org.yaml.snakeyaml.error.MarkedYAMLException) {
                String msg = t instanceof org.yaml.snakeyaml.error.MarkedYAMLException y ? y.getProblem() : ((JsonProcessingException) t).getOriginalMessage();
                return "YAML syntax error: " + msg;
            }
        }
        if (e instanceof UnrecognizedPropertyException u) {
            return "unknown key '" + u.getPropertyName() + "' in " + path(u) + " (known keys: " + u.getKnownPropertyIds() + ")";
        }
        if (e instanceof ValueInstantiationException v && v.getCause() != null) {
            return v.getCause().getMessage();
        }
        if (e instanceof JsonMappingException m) {
            String msg = m.getOriginalMessage();
            if (msg.startsWith("Missing required creator property")) {
                int a = msg.indexOf('\'');
                int b = msg.indexOf('\'', a + 1);
                String key = a >= 0 && b > a ? msg.substring(a + 1, b) : "?";
                return "missing required key '" + key + "' in " + path(m);
            }
            return msg.replaceAll("\\(class io\\.pgbackfill[^)]*\\)", "").replaceAll("\\s+at \\[Source.*", "").trim() + " in " + path(m);
        }
        return "YAML syntax error: " + e.getOriginalMessage();
    }

    private static String path(JsonMappingException m) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : m.getPath()) {
            if (r.getFieldName() != null) {
                sb.append(sb.length() == 0 ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.length() == 0 ? "the top level" : "'" + sb + "'";
    }

    private static int line(JsonLocation l) {
        return l == null ? 0 : l.getLineNr();
    }

    private static int column(JsonLocation l) {
        return l == null ? 0 : l.getColumnNr();
    }
}
