package io.pgbackfill.ops.connections;

import io.pgbackfill.ops.BackfillCli;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code backfill} in a JVM of its own, with its own environment: the only way a test can hand it secrets through
 * environment variables, as an operator does. Output (stdout and stderr) goes to a log file the test reads.
 */
record ChildCli(Process process, Path log) {
    static ChildCli start(Path dir, String name, Map<String, String> env, String... args) throws IOException {
        return startMain(dir, name, env, BackfillCli.class.getName(), args);
    }

    /** Any main class of the classpath (Kafka's own tools, for instance). */
    static ChildCli startMain(Path dir, String name, Map<String, String> env, String mainClass, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classpath(), mainClass));
        command.addAll(List.of(args));
        Path log = dir.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(env);
        return new ChildCli(pb.start(), log);
    }

    /** Runs to the end (bounded) and returns the exit code. */
    static Finished run(Path dir, String name, Map<String, String> env, String... args) throws Exception {
        return finish(name, start(dir, name, env, args));
    }

    static Finished finish(String name, ChildCli c) throws Exception {
        if (!c.process.waitFor(3, TimeUnit.MINUTES)) {
            c.process.destroyForcibly().waitFor();
            throw new AssertionError(name + " did not finish:\n" + c.output());
        }
        return new Finished(c.process.exitValue(), c.output());
    }

    String output() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** SIGTERM (the service's clean stop), then a kill if it does not stop in time. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    static String classpath() {
        String cp = System.getProperty("java.class.path");
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() && !cp.contains("test-classes") ? surefire : cp;
    }

    record Finished(int exitCode, String output) {
    }
}
