package io.pgbackfill.core.spec;

import java.util.Map;

/** docs/spec-reference.md, rendered from {@link SpecOptions}: the reference cannot say what the code does not. */
public final class SpecReference {
    private SpecReference() {
    }

    public static String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("# Spec reference\n\n")
                .append("<!-- Generated from core/src/main/java/io/pgbackfill/core/spec/SpecOptions.java; do not edit. Regenerate with\n")
                .append("     mvn -B -pl core test -Dtest=SpecReferenceTest -Dspec.reference.write=true (SpecReferenceTest fails when it is stale). -->\n\n")
                .append("Every key of the spec's settings sections, with its default and the values it takes. A value out of range fails at\n")
                .append("spec load with `section.key must be ...`. The structure of a spec (`name`, `source`, `target`, `tables`) is in the\n")
                .append("README; connections in [connections.md](connections.md).\n");
        Map<String, java.util.List<SpecOption<?>>> sections = SpecOptions.SECTIONS;
        for (String section : SpecOptions.SECTION_ORDER) {
            sb.append("\n## `").append(section).append("`\n\n");
            sb.append("| key | type | default | unit | valid values | what it does |\n|---|---|---|---|---|---|\n");
            for (SpecOption<?> o : sections.get(section)) {
                sb.append("| `").append(o.key()).append("` | ").append(typeName(o.type())).append(" | ")
                        .append(o.defaultText() == null ? "none" : "`" + o.defaultText() + "`").append(" | ")
                        .append(o.unit().isEmpty() ? "" : o.unit()).append(" | ")
                        .append(o.rule().isEmpty() ? "any" : o.rule().replace("|", "\\|")).append(" | ")
                        .append(o.description().replace("|", "\\|")).append(" |\n");
            }
        }
        sb.append("\n## Fixed values\n\n")
                .append("Values the stages use that no spec key sets, and why each is fixed.\n\n")
                .append("| what | value | why it is fixed |\n|---|---|---|\n");
        for (SpecOptions.Fixed f : SpecOptions.FIXED) {
            sb.append("| ").append(f.name()).append(" | ").append(f.value()).append(' ').append(f.unit()).append(" | ")
                    .append(f.why().replace("|", "\\|")).append(" |\n");
        }
        return sb.toString();
    }

    private static String typeName(Class<?> type) {
        return type == Integer.class ? "integer" : type == String.class ? "string" : type == Map.class ? "map" : type.getSimpleName();
    }
}
