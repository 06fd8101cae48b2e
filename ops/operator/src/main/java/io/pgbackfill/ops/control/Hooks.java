package io.pgbackfill.ops.control;

import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.control.ControlState;
import io.pgbackfill.core.spec.PipelineSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the spec's hooks ({@code hooks:}) through {@code sh -c}, with the pipeline's state in environment variables:
 * {@code PGBACKFILL_HOOK}, {@code PGBACKFILL_PIPELINE}, {@code PGBACKFILL_STAGE}, {@code PGBACKFILL_SLOT},
 * {@code PGBACKFILL_TOPIC_PREFIX}, {@code PGBACKFILL_TABLES}, {@code PGBACKFILL_PAUSED} (who paused, or empty),
 * {@code PGBACKFILL_THROTTLED} (the check, or empty), {@code PGBACKFILL_RATE_LIMIT}, plus what the moment adds
 * ({@code PGBACKFILL_FAILURE}, {@code PGBACKFILL_WRITE_PAUSE_MS}, …). No secret is ever put there: the hook reads its
 * own credentials. Output goes to the log; a hook that outlives {@code hooks.timeoutSeconds} is killed and has failed.
 */
public final class Hooks {
    private static final Logger LOG = LoggerFactory.getLogger(Hooks.class);
    public static final String STARTUP = "startup";
    public static final String SNAPSHOT_DONE = "snapshotDone";
    public static final String BEFORE_CUTOVER = "beforeCutover";
    public static final String AFTER_CUTOVER = "afterCutover";
    public static final String FAILURE = "failure";

    /** What a hook did: its exit code (0 when there is no such hook) and the last lines it printed. */
    public record Outcome(String hook, boolean ran, int exitCode, String output) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    private final PipelineSpec spec;
    private final String stage;

    public Hooks(PipelineSpec spec, String stage) {
        this.spec = spec;
        this.stage = stage;
    }

    public boolean has(String hook) {
        return spec.hooks().byName().containsKey(hook);
    }

    /** Runs {@code hook} if the spec has it; {@code extra} variables are added to the environment. */
    public Outcome run(String hook, ControlState control, Map<String, String> extra) {
        String command = spec.hooks().byName().get(hook);
        if (command == null) {
            return new Outcome(hook, false, 0, "");
        }
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true);
        pb.environment().putAll(environment(hook, control, extra));
        long t0 = System.nanoTime();
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            StringBuilder out = new StringBuilder();
            Thread reader = new Thread(() -> {
                try {
                    byte[] all = p.getInputStream().readAllBytes();
                    synchronized (out) {
                        out.append(new String(all, StandardCharsets.UTF_8));
                    }
                } catch (IOException ignored) {
                    // the process was killed
                }
            }, "hook-" + hook);
            reader.start();
            boolean finished = p.waitFor(spec.hooks().timeoutSeconds(), TimeUnit.SECONDS);
            if (!finished) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
            reader.join(2000);
            String text;
            synchronized (out) {
                text = tail(redact(out.toString()));
            }
            int code = finished ? p.exitValue() : 124;
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            if (code == 0) {
                LOG.info("hook {} ran in {} ms{}", hook, ms, text.isEmpty() ? "" : ": " + text);
            } else {
                LOG.warn("hook {} {} after {} ms{}", hook, finished ? "failed with exit code " + code : "timed out (hooks.timeoutSeconds " + spec.hooks().timeoutSeconds() + ")",
                        ms, text.isEmpty() ? "" : ": " + text);
            }
            return new Outcome(hook, true, code, text);
        } catch (IOException e) {
            LOG.warn("hook {} could not start: {}", hook, e.getMessage());
            return new Outcome(hook, true, 127, String.valueOf(e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(hook, true, 130, "interrupted");
        }
    }

    Map<String, String> environment(String hook, ControlState control, Map<String, String> extra) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PGBACKFILL_HOOK", hook);
        env.put("PGBACKFILL_PIPELINE", spec.pipelineName());
        env.put("PGBACKFILL_STAGE", stage);
        env.put("PGBACKFILL_SLOT", spec.slotName());
        env.put("PGBACKFILL_TOPIC_PREFIX", spec.topicPrefix());
        env.put("PGBACKFILL_TABLES", String.join(",", spec.tables().stream().map(t -> t.sourceName().id() + ">" + t.targetName().id()).toList()));
        env.put("PGBACKFILL_PAUSED", control.pause().map(p -> p.by()).orElse(""));
        env.put("PGBACKFILL_THROTTLED", control.throttled().map(t -> t.check()).orElse(""));
        Long rate = control.rateLimit(spec.throttle().rowsPerSecond());
        env.put("PGBACKFILL_RATE_LIMIT", rate == null ? "" : rate.toString());
        extra.forEach((k, v) -> env.put(k, redact(String.valueOf(v))));
        return env;
    }

    /**
     * Without the passwords this process holds. A stage may run without one of them (the sink has no source
     * credentials): a password it cannot resolve cannot leak from it either.
     */
    private String redact(String text) {
        String out = Redaction.redact(text);
        for (var c : new io.pgbackfill.core.spec.ConnectionSpec[] {spec.source(), spec.targetOrSource()}) {
            try {
                out = Redaction.redact(out, c.secret());
            } catch (RuntimeException unresolved) {
                // not this process's secret
            }
        }
        return out;
    }

    private static String tail(String s) {
        String t = s.strip();
        return t.length() <= 2000 ? t : "…" + t.substring(t.length() - 2000);
    }
}
