package io.pgbackfill.ops.chaos;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A JVM of its own, started from this test's classpath, that can be killed with SIGKILL and started again with the
 * same command. Its output (stdout and stderr) is appended to one log file across restarts, each start marked by a
 * header line. Every child ever started is registered with a JVM shutdown hook that kills it, so none outlives
 * the test JVM even when the test JVM itself is stopped.
 */
final class ChildProcess {
    /**
     * Small heaps, serial GC, C1 only: several JVMs share two cores with PostgreSQL and the test. Log lines carry the
     * time of day, to line them up with the harness's own lines.
     */
    static final List<String> JVM_OPTIONS = List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Dorg.slf4j.simpleLogger.showDateTime=true", "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS");

    private static final Set<ChildProcess> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(ChildProcess::killNow), "kill-chaos-children"));
    }

    private final String name;
    private final List<String> command;
    private final Map<String, String> env;
    private final Path log;
    private Process process;
    private int starts;
    private long logOffsetAtStart;

    ChildProcess(String name, List<String> command, Map<String, String> env, Path log) {
        this.name = name;
        this.command = List.copyOf(command);
        this.env = Map.copyOf(env);
        this.log = log;
    }

    private static volatile String frozenClasspath;

    /** {@code java <JVM_OPTIONS> -cp <classpath> mainClass args...}, on the frozen classpath if there is one. */
    static List<String> java(String mainClass, List<String> args) {
        List<String> c = new ArrayList<>();
        c.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        c.addAll(JVM_OPTIONS);
        c.add("-cp");
        c.add(frozenClasspath != null ? frozenClasspath : classpath());
        c.add(mainClass);
        c.addAll(args);
        return c;
    }

    /** The test classpath: surefire puts it in java.class.path (or, with a manifest-only jar, in surefire.test.class.path). */
    static String classpath() {
        String cp = System.getProperty("java.class.path");
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() && !cp.contains("test-classes") ? surefire : cp;
    }

    /**
     * Copies this project's part of the classpath (class directories, and its own snapshot jars from the local
     * repository) into {@code into}, and starts every later child from the copy: processes restarted minutes into a
     * run must run the same code as the first ones, even if the working tree is rebuilt meanwhile.
     */
    static void freezeClasspath(Path into) throws IOException {
        List<String> entries = new ArrayList<>();
        int n = 0;
        for (String e : classpath().split(File.pathSeparator)) {
            if (e.isBlank()) {
                continue;
            }
            Path p = Path.of(e);
            if (Files.isDirectory(p)) {
                Path copy = into.resolve((n++) + "-" + p.getParent().getParent().getFileName() + "-" + p.getFileName());
                try (var walk = Files.walk(p)) {
                    for (Path f : (Iterable<Path>) walk::iterator) {
                        Path to = copy.resolve(p.relativize(f).toString());
                        if (Files.isDirectory(f)) {
                            Files.createDirectories(to);
                        } else {
                            Files.copy(f, to);
                        }
                    }
                }
                entries.add(copy.toString());
            } else if (e.contains(File.separator + "io" + File.separator + "pgbackfill" + File.separator) && Files.isRegularFile(p)) {
                Files.createDirectories(into);
                Path copy = into.resolve((n++) + "-" + p.getFileName());
                Files.copy(p, copy);
                entries.add(copy.toString());
            } else {
                entries.add(e);
            }
        }
        frozenClasspath = String.join(File.pathSeparator, entries);
    }

    String name() {
        return name;
    }

    Path log() {
        return log;
    }

    int starts() {
        return starts;
    }

    synchronized void start() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException(name + " is already running (pid " + process.pid() + ")");
        }
        starts++;
        Files.writeString(log, "=== " + name + " start #" + starts + " at " + Instant.now() + " ===\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        logOffsetAtStart = Files.size(log);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(env);
        process = pb.start();
        LIVE.add(this);
    }

    synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    synchronized long pid() {
        return process == null ? -1 : process.pid();
    }

    /** Exit code of the last run, or null while it runs (or never ran). */
    synchronized Integer exitCode() {
        return process == null || process.isAlive() ? null : process.exitValue();
    }

    /** Waits for the process to end on its own; returns its exit code, or null on timeout. */
    Integer waitFor(long timeoutMs) throws InterruptedException {
        Process p;
        synchronized (this) {
            p = process;
        }
        return p != null && p.waitFor(timeoutMs, TimeUnit.MILLISECONDS) ? p.exitValue() : null;
    }

    /** kill -9: no shutdown hook runs, nothing is flushed, committed or left cleanly. */
    void killHard() throws InterruptedException {
        Process p;
        synchronized (this) {
            p = process;
        }
        if (p != null) {
            p.destroyForcibly();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException(name + " (pid " + p.pid() + ") did not die from SIGKILL within 30 s");
            }
        }
        LIVE.remove(this);
    }

    /** SIGTERM (a clean stop), then SIGKILL after {@code graceMs}. */
    void stop(long graceMs) throws InterruptedException {
        Process p;
        synchronized (this) {
            p = process;
        }
        if (p != null && p.isAlive()) {
            p.destroy();
            if (!p.waitFor(graceMs, TimeUnit.MILLISECONDS)) {
                killHard();
            }
        }
        LIVE.remove(this);
    }

    private void killNow() {
        Process p = process;
        if (p != null) {
            p.destroyForcibly();
        }
    }

    /** Whether the current run has printed {@code marker} (its log since the last start contains it). */
    boolean printedSinceStart(String marker) throws IOException {
        if (!Files.exists(log)) {
            return false;
        }
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            long from;
            synchronized (this) {
                from = logOffsetAtStart;
            }
            long len = f.length() - from;
            if (len <= 0) {
                return false;
            }
            byte[] buf = new byte[(int) Math.min(len, 4 * 1024 * 1024)];
            f.seek(from);
            f.readFully(buf);
            return new String(buf, StandardCharsets.UTF_8).contains(marker);
        }
    }

    /** The last {@code lines} lines of the log, headed by its path. */
    String logTail(int lines) {
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            long from = Math.max(0, f.length() - 256 * 1024);
            byte[] buf = new byte[(int) (f.length() - from)];
            f.seek(from);
            f.readFully(buf);
            List<String> all = new String(buf, StandardCharsets.UTF_8).lines().toList();
            return "--- " + name + " (" + log + ", " + starts + " starts) ---\n"
                    + String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "--- " + name + " (" + log + "): unreadable: " + e.getMessage();
        }
    }

    @Override
    public String toString() {
        return name + (isAlive() ? " (pid " + pid() + ")" : " (not running)");
    }
}
