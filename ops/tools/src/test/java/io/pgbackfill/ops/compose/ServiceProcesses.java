package io.pgbackfill.ops.compose;

import io.pgbackfill.ops.BackfillCli;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Starts {@code backfill} stages as child JVMs and, whatever happens, stops every one of them by its own
 * handle: on close (SIGTERM, then kill after a grace period), and from a shutdown hook should the test JVM
 * itself be stopped.
 */
final class ServiceProcesses implements AutoCloseable {
    /** Small heaps and C1 only: five JVMs share two cores with the broker and PostgreSQL. */
    private static final List<String> JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
    private final Path workDir;
    private final List<ServiceProcess> started = new ArrayList<>();
    private final Thread hook = new Thread(this::killAll, "kill-child-jvms");

    ServiceProcesses(Path workDir) throws IOException {
        this.workDir = Files.createDirectories(workDir);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** The test classpath: surefire puts it in java.class.path (or, with a manifest-only jar, in surefire.test.class.path). */
    static String classpath() {
        String cp = System.getProperty("java.class.path");
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() && !cp.contains("test-classes") ? surefire : cp;
    }

    synchronized ServiceProcess start(String name, Map<String, String> env, String... args) throws IOException {
        return start(name, JVM_OPTIONS, env, args);
    }

    /** A stage with its own JVM options (heap, GC log). */
    synchronized ServiceProcess start(String name, List<String> jvmOptions, Map<String, String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(classpath());
        command.add(BackfillCli.class.getName());
        command.addAll(List.of(args));
        Path log = workDir.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(env);
        ServiceProcess p = new ServiceProcess(name, pb.start(), log);
        started.add(p);
        return p;
    }

    String logTails() {
        return started.stream().map(ServiceProcess::logTail).collect(Collectors.joining("\n"));
    }

    private synchronized void killAll() {
        started.forEach(p -> p.process().destroyForcibly());
    }

    @Override
    public synchronized void close() throws InterruptedException {
        for (ServiceProcess p : started) {
            p.process().destroy(); // SIGTERM: the stage's own clean stop
        }
        for (ServiceProcess p : started) {
            if (!p.process().waitFor(30, TimeUnit.SECONDS)) {
                p.process().destroyForcibly();
                p.process().waitFor(10, TimeUnit.SECONDS);
            }
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or will: nothing left for it to do
        }
    }
}
