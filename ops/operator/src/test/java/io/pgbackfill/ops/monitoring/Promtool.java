package io.pgbackfill.ops.monitoring;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Prometheus' promtool, as the tests run it. Missing, it is installed by ops/scripts/ensure-promtool.sh (Debian's
 * prometheus package); only where no package manager can install it are the tests skipped, with the script's reason.
 */
record Promtool(Path executable) {
    record Result(int exit, String output) {
    }

    static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("ops/monitoring")) && Files.exists(p.resolve("ops/pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("no ops/monitoring above " + Path.of("").toAbsolutePath());
    }

    /** promtool from PATH, installing it first if needed; aborts (skips) the calling test only if it cannot be installed here. */
    static Promtool require() throws IOException, InterruptedException {
        Optional<Path> found = onPath();
        if (found.isEmpty()) {
            Result install = run(List.of("bash", repositoryRoot().resolve("ops/scripts/ensure-promtool.sh").toString()), 900);
            if (install.exit() == 4) {
                System.out.println("SKIPPED the alert-rule tests: " + install.output().strip());
                Assumptions.abort(install.output().strip());
            }
            if (install.exit() != 0) {
                throw new AssertionError("ops/scripts/ensure-promtool.sh failed (" + install.exit() + "):\n" + install.output());
            }
            found = onPath();
        }
        return new Promtool(found.orElseThrow(() -> new AssertionError("promtool still not on PATH after ensure-promtool.sh")));
    }

    private static Optional<Path> onPath() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir, "promtool");
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    Result run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(executable.toString());
        command.addAll(List.of(args));
        return run(command, 120);
    }

    private static Result run(List<String> command, long timeoutSeconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within " + timeoutSeconds + " s");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
