package io.pgbackfill.core.spec;

import java.util.List;

/** A spec that cannot run. Each problem names the file, line and column, and what to change. */
public class SpecException extends RuntimeException {
    private final List<Problem> problems;

    public SpecException(List<Problem> problems) {
        super(render(problems));
        this.problems = List.copyOf(problems);
    }

    public SpecException(String file, int line, int column, String message) {
        this(List.of(new Problem(file, line, column, message)));
    }

    public List<Problem> problems() {
        return problems;
    }

    private static String render(List<Problem> problems) {
        StringBuilder sb = new StringBuilder(problems.size() == 1 ? "invalid spec: " : "invalid spec (" + problems.size() + " problems):");
        for (Problem p : problems) {
            sb.append(problems.size() == 1 ? "" : "\n  ").append(p);
        }
        return sb.toString();
    }

    /** One problem at a place in the spec file (line and column are 1-based; 0 = unknown). */
    public record Problem(String file, int line, int column, String message) {
        @Override
        public String toString() {
            return file + ":" + line + ":" + column + ": " + message;
        }
    }
}
