package io.pgbackfill.ops.commands;

import io.pgbackfill.core.Stage;
import io.pgbackfill.core.spec.SpecOptions;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.transform.MigrationPlan;
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
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
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

    private static volatile boolean mainProcess;

    /** Called by the CLI's main: only a JVM started for the command (not a test calling it in-process) may halt. */
    public static void runningAsMainProcess() {
        mainProcess = true;
    }

    /** How long a SIGTERM waits for the stage to close (docker compose's stop_grace_period must be longer). */
    public static final long CLOSE_GRACE_SECONDS = 50;

    /**
     * The one service runner: opens /metrics and /health, starts the stage, binds its meters ({@code beforeStart} over
     * what exists before it runs, {@code afterStart} over what start() creates), then runs it until stopped.
     */
    static int serve(String name, Stage stage, PipelineSpec spec, MetricsOptions metrics,
                     Consumer<ServiceMetrics> beforeStart, Consumer<ServiceMetrics> afterStart, BooleanSupplier snapshotDone) throws Exception {
        // Hooks (spec `hooks:`) are named after the stage: producer, transformer, sink, or up for the in-process pipeline.
        String hookStage = name.startsWith("pipeline ") ? "up" : name;
        try (ServiceMetrics m = metrics.open(spec); StageHooks hooks = new StageHooks(spec, hookStage)) {
            beforeStart.accept(m);
            try {
                stage.start();
            } catch (Exception e) {
                closeAfterFailedStart(stage, e);
                throw e;
            }
            afterStart.accept(m);
            metrics.logProgress(m);
            // Up while the stage runs; down with the reason once it failed or (Kafka Streams) stopped running.
            m.reportHealth(() -> stage.failure() != null || stage.isRunning() ? Health.of(stage.failure()) : Health.down("not running"));
            hooks.started();
            if (snapshotDone != null) {
                hooks.watchSnapshot(snapshotDone);
            }
            return runUntilStopped(stage, hooks.onFailure(stage::failure), name);
        }
    }

    private static void closeAfterFailedStart(Stage stage, Exception failure) {
        try {
            stage.close();
        } catch (Exception e) {
            failure.addSuppressed(e);
        }
    }

    /**
     * Runs until SIGTERM/SIGINT or until the stage fails on its own (exit 3). On a signal the stage closes cleanly and
     * the JVM then exits as signalled processes do (143 for SIGTERM); 0 is returned for callers running it in-process.
     */
    static int runUntilStopped(Stage stage, Supplier<Throwable> failure, String name) throws Exception {
        boolean inProcess = !mainProcess;
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
                Throwable failed = failure.get();
                if (failed != null) {
                    System.err.println(name + " failed: " + io.pgbackfill.core.Redaction.redact(String.valueOf(failed.getMessage())));
                    if (!inProcess) {
                        // A supervisor restarts what exits: never leave a process that holds its group and does nothing.
                        FatalErrors.haltAfter(CLOSE_GRACE_SECONDS);
                    }
                    return ExitCode.FAILED;
                }
            }
            return ExitCode.OK;
        } finally {
            try {
                stage.close();
            } finally {
                closed.countDown();
            }
        }
    }

    private static void none(ServiceMetrics m) {
    }

    @Command(name = "producer", mixinStandardHelpOptions = true,
            description = {"Runs the source stage: Debezium (pgoutput) snapshot + changes of the spec's tables into the raw topics.",
                    "State (Debezium offsets, snapshot progress, the source it belongs to) lives in --state-dir: keep it, or a restart",
                    "re-snapshots. A lost replication slot stops it at once (exit 3): run `backfill resync SPEC` then."})
    public static final class ProducerCommand implements Callable<Integer> {
        @Mixin
        SpecArgs spec;

        @Mixin
        ProducerStateArgs state;

        @Mixin
        MetricsOptions metrics;

        @Override
        public Integer call() throws Exception {
            PipelineSpec s = spec.plan().spec();
            ResyncMarker.refuseIfPending(state.stateDir());
            ChangeEventProducer p = new ChangeEventProducer(ProducerConfig.of(s, spec.stateDir(state.stateDir()).resolve("producer"))
                    .withFreshState(state.freshState()));
            // Meters after start(): before it, ChangeEventProducer.snapshotDone() is vacuously true (no tables loaded yet).
            return serve("producer", p, s, metrics, ServiceCommands::none, m -> MetricsOptions.watch(m, p, s), p::snapshotDone);
        }
    }

    @Command(name = "transformer", mixinStandardHelpOptions = true,
            description = {"Runs the transform stage: a Kafka Streams app (exactly_once_v2) from raw topics to rows topics and DLQ.",
                    "Scale out by starting more instances (up to the partition count); they share the application.id.",
                    "It never skips raw events Kafka deleted before it read them: it stops (exit 3) and names them; see `backfill resync`."})
    public static final class TransformerCommand implements Callable<Integer> {
        @Mixin
        SpecArgs spec;

        @Option(names = "--state-dir", defaultValue = ProducerStateArgs.DEFAULT_STATE_DIR, description = "Kafka Streams state.dir (default ${DEFAULT-VALUE})")
        Path stateDir;

        @Option(names = "--threads", defaultValue = "1", description = "stream threads (default ${DEFAULT-VALUE})")
        int threads;

        @Mixin
        MetricsOptions metrics;

        @Override
        public Integer call() throws Exception {
            MigrationPlan plan = spec.plan();
            TransformerApp t = new TransformerApp(plan, new TransformerConfig(stateDir.resolve("streams-" + ProcessHandle.current().pid()), threads,
                    SpecOptions.STREAMS_COMMIT_INTERVAL_MS.value()));
            return serve("transformer", t, plan.spec(), metrics, m -> MetricsOptions.watch(m, t, plan.spec()), ServiceCommands::none, null);
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
            return serve("sink", sink, s, metrics, m -> MetricsOptions.watch(m, sink, s), ServiceCommands::none, null);
        }
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = {"Runs producer, transformer and sink in this one process (the simple deployment).",
                    "Run `backfill preflight SPEC` first, and `backfill status SPEC` in another terminal to watch it."})
    public static final class UpCommand implements Callable<Integer> {
        @Mixin
        SpecArgs spec;

        @Mixin
        ProducerStateArgs state;

        @Mixin
        MetricsOptions metrics;

        @Override
        public Integer call() throws Exception {
            MigrationPlan plan = spec.plan();
            ResyncMarker.refuseIfPending(state.stateDir());
            Pipeline p = new Pipeline(plan, spec.stateDir(state.stateDir()), SinkConfig.from(plan.spec().sink()), state.freshState());
            return serve("pipeline " + plan.spec().pipelineName(), p, plan.spec(), metrics, m -> {
                MetricsOptions.watch(m, p.transformer(), plan.spec());
                MetricsOptions.watch(m, p.sink(), plan.spec());
            }, m -> MetricsOptions.watch(m, p.producer(), plan.spec()), // the producer after start(), as in ProducerCommand
                    () -> p.producer().snapshotDone());
        }
    }
}
