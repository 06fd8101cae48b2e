package io.pgbackfill.ops.commands;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.ops.BackfillCli;
import io.pgbackfill.ops.control.StageHooks;
import io.pgbackfill.ops.metrics.Health;
import io.pgbackfill.ops.metrics.MetricsOptions;
import io.pgbackfill.ops.metrics.ServiceMetrics;
import io.pgbackfill.ops.pipeline.FatalErrors;
import io.pgbackfill.ops.pipeline.Pipeline;
import io.pgbackfill.ops.resync.ResyncMarker;
import io.pgbackfill.producer.ChangeEventProducer;
import io.pgbackfill.producer.ProducerConfig;
import io.pgbackfill.sink.RowSink;
import io.pgbackfill.sink.SinkConfig;
import io.pgbackfill.transformer.TransformerApp;
import io.pgbackfill.transformer.TransformerConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The long-running services: each stage alone (for docker-compose and scale-out), or all three in one JVM.
 * Each serves /metrics and /health on --metrics-port (see {@link MetricsOptions}).
 */
public final class ServiceCommands {
    private ServiceCommands() {
    }

    /** How long a SIGTERM waits for the stage to close (docker compose's stop_grace_period must be longer). */
    public static final long CLOSE_GRACE_SECONDS = 50;

    /**
     * Runs until SIGTERM/SIGINT or until the stage fails on its own (exit 3). On a signal the stage closes cleanly and
     * the JVM then exits as signalled processes do (143 for SIGTERM); 0 is returned for callers running it in-process.
     */
    static int runUntilStopped(AutoCloseable service, Supplier<Throwable> failure, String name) throws Exception {
        boolean inProcess = !BackfillCli.isMainProcess();
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        // The JVM halts as soon as its shutdown hooks return: the hook waits for close() below, or a SIGTERM
        // would cut the clean stop (last batch, offset commit, leaving the group) short.
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                closed.await(CLOSE_GRACE_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println(name + " running; Ctrl-C (SIGTERM) stops it cleanly, offsets are kept");
        try {
            while (!stop.await(500, TimeUnit.MILLISECONDS)) {
                if (failure.get() != null) {
                    System.err.println(name + " failed: " + io.pgbackfill.core.Redaction.redact(String.valueOf(failure.get().getMessage())));
                    if (!inProcess) {
                        // A supervisor restarts what exits: never leave a process that holds its group and does nothing.
                        FatalErrors.haltAfter(CLOSE_GRACE_SECONDS);
                    }
                    return BackfillCli.FAILED;
                }
            }
            return BackfillCli.OK;
        } finally {
            try {
                service.close();
            } finally {
                closed.countDown();
            }
        }
    }

    /** Up while the stage runs; down with the reason once it failed or (Kafka Streams) stopped running. */
    static Health health(Throwable failure, boolean running) {
        return failure != null || running ? Health.of(failure) : Health.down("not running");
    }

    @Command(name = "producer", mixinStandardHelpOptions = true,
            description = {"Runs the source stage: Debezium (pgoutput) snapshot + changes of the spec's tables into the raw topics.",
                    "State (Debezium offsets, snapshot progress, the source it belongs to) lives in --state-dir: keep it, or a restart",
                    "re-snapshots. A lost replication slot stops it at once (exit 3): run `backfill resync SPEC` then."})
    public static final class ProducerCommand implements Callable<Integer> {
        @Mixin
        SpecArgs spec;

        @Option(names = "--state-dir", defaultValue = "${env:PGBACKFILL_STATE_DIR:-.pgbackfill}", description = "offsets and progress (default ${DEFAULT-VALUE})")
        Path stateDir;

        @Option(names = "--fresh-state", description = {"If the state in --state-dir belongs to another source (system identifier, database",
                "or slot differ), discard it and take a new snapshot instead of refusing to start."})
        boolean freshState;

        @Mixin
        MetricsOptions metrics;

        @Override
        public Integer call() throws Exception {
            PipelineSpec s = spec.plan().spec();
            ResyncMarker.refuseIfPending(stateDir);
            ChangeEventProducer p = new ChangeEventProducer(ProducerConfig.of(s, stateDir.resolve("producer")).withFreshState(freshState));
            try (ServiceMetrics m = metrics.open(s); StageHooks hooks = new StageHooks(s, "producer")) {
                p.start();
                // After start(): before it, ChangeEventProducer.snapshotDone() is vacuously true (no tables loaded yet).
                MetricsOptions.watch(m, p, s);
                metrics.logProgress(m);
                m.reportHealth(() -> Health.of(p.failure()));
                hooks.started();
                hooks.watchSnapshot(p::snapshotDone);
                return runUntilStopped(p, hooks.onFailure(p::failure), "producer");
            }
        }
    }

    @Command(name = "transformer", mixinStandardHelpOptions = true,
            description = {"Runs the transform stage: a Kafka Streams app (exactly_once_v2) from raw topics to rows topics and DLQ.",
                    "Scale out by starting more instances (up to the partition count); they share the application.id.",
                    "It never skips raw events Kafka deleted before it read them: it stops (exit 3) and names them; see `backfill resync`."})
    public static final class TransformerCommand implements Callable<Integer> {
        @Mixin
        SpecArgs spec;

        @Option(names = "--state-dir", defaultValue = "${env:PGBACKFILL_STATE_DIR:-.pgbackfill}", description = "Kafka Streams state.dir (default ${DEFAULT-VALUE})")
        Path stateDir;

        @Option(names = "--threads", defaultValue = "1", description = "stream threads (default ${DEFAULT-VALUE})")
        int threads;

        @Mixin
        MetricsOptions metrics;

        @Override
        public Integer call() throws Exception {
            MigrationPlan plan = spec.plan();
            TransformerApp t = new TransformerApp(plan, new TransformerConfig(stateDir.resolve("streams-" + ProcessHandle.current().pid()), threads, 200));
            try (ServiceMetrics m = metrics.open(plan.spec()); StageHooks hooks = new StageHooks(plan.spec(), "transformer")) {
                MetricsOptions.watch(m, t, plan.spec());
                metrics.logProgress(m);
                t.start();
                m.reportHealth(() -> health(t.failure(), t.isRunning()));
                hooks.started();
                return runUntilStopped(t, hooks.onFailure(t::failure), "transformer");
            }
        }
    }

    @Command(name = "sink", mixinStandardHelpOptions = true,
            description = {"Runs the write stage: a consumer group from rows topics into the target, idempotent and order-safe.",
                    "Scale out by starting more instances (up to the partition count).",
                    "It never skips rows Kafka deleted before it read them: it stops (exit 3) and names them; see `backfill resync`."})
    public static final class SinkCommand implements Callable<Integer> {
        @Mixin
        SpecArgs spec;

        @Mixin
        MetricsOptions metrics;

        @Override
        public Integer call() throws Exception {
            PipelineSpec s = spec.spec();
            RowSink sink = new RowSink(s, SinkConfig.from(s.sink()));
            try (ServiceMetrics m = metrics.open(s); StageHooks hooks = new StageHooks(s, "sink")) {
                MetricsOptions.watch(m, sink, s);
                metrics.logProgress(m);
                sink.start();
                m.reportHealth(() -> Health.of(sink.failure()));
                hooks.started();
                return runUntilStopped(sink, hooks.onFailure(sink::failure), "sink");
            }
        }
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = {"Runs producer, transformer and sink in this one process (the simple deployment).",
                    "Run `backfill preflight SPEC` first, and `backfill status SPEC` in another terminal to watch it."})
    public static final class UpCommand implements Callable<Integer> {
        @Mixin
        SpecArgs spec;

        @Option(names = "--state-dir", defaultValue = "${env:PGBACKFILL_STATE_DIR:-.pgbackfill}", description = "offsets and progress (default ${DEFAULT-VALUE})")
        Path stateDir;

        @Option(names = "--fresh-state", description = {"If the producer state in --state-dir belongs to another source (system identifier,",
                "database or slot differ), discard it and take a new snapshot instead of refusing to start."})
        boolean freshState;

        @Mixin
        MetricsOptions metrics;

        @Override
        public Integer call() throws Exception {
            MigrationPlan plan = spec.plan();
            ResyncMarker.refuseIfPending(stateDir);
            Pipeline p = new Pipeline(plan, stateDir, SinkConfig.from(plan.spec().sink()), freshState);
            try (ServiceMetrics m = metrics.open(plan.spec()); StageHooks hooks = new StageHooks(plan.spec(), "up")) {
                MetricsOptions.watch(m, p.transformer(), plan.spec());
                MetricsOptions.watch(m, p.sink(), plan.spec());
                p.start();
                MetricsOptions.watch(m, p.producer(), plan.spec()); // after start(), as in ProducerCommand
                metrics.logProgress(m);
                m.reportHealth(() -> health(p.failure(), p.transformer().isRunning()));
                hooks.started();
                hooks.watchSnapshot(p.producer()::snapshotDone);
                return runUntilStopped(p, hooks.onFailure(p::failure), "pipeline " + plan.spec().pipelineName());
            }
        }
    }
}
