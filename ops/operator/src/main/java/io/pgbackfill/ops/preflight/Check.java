package io.pgbackfill.ops.preflight;

/** One preflight finding: what was checked, the verdict, what was seen, and how to fix it. */
public record Check(String name, Verdict verdict, String detail, String fix) {
    public enum Verdict { PASS, WARN, FAIL }

    public static Check pass(String name, String detail) {
        return new Check(name, Verdict.PASS, detail, null);
    }

    public static Check warn(String name, String detail, String fix) {
        return new Check(name, Verdict.WARN, detail, fix);
    }

    public static Check fail(String name, String detail, String fix) {
        return new Check(name, Verdict.FAIL, detail, fix);
    }

    @Override
    public String toString() {
        return String.format("%-4s %-28s %s%s", verdict, name, detail, fix == null ? "" : "\n     fix: " + fix);
    }
}
