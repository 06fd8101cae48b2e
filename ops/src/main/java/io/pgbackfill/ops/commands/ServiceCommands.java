package io.pgbackfill.ops.commands;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.ops.BackfillCli;
import io.pgbackfill.ops.pipeline.Pipeline;
import io.pgbackfill.producer.ChangeEventProducer;
import io.pgbackfill.producer.ProducerConfig;
import io.pgbackfill.sink.RowSink;
import io.pgbackfill.sink.SinkConfig;
import io.pgbackfill.transformer.TransformerApp;
import io.pgbackfill.transformer.TransformerConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The long-running services: each stage alone (for docker-compose and scale-out), or all three in one JVM. */
public final class ServiceCommands {
    private ServiceCommands() {
    }

    /** Runs until SIGTERM/SIGINT (exit 0) or until the stage fails on its own (exit 3). */
    static int runUntilStopped(AutoCloseable service, Supplier<Throwable> failure, String name) throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        Thread hook = new Thread(stop::countDown, "shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println(name + " running; Ctrl-C (SIGTERM) stops it cleanly, offsets are kept");
        try {
            while (!stop.await(500, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                if (failure.get() != null) {
                    System.err.println(name + " failed: " + io.pgbackfill.core.Redaction.redact(String.valueOf(failure.get().getMessage())));
                    return BackfillCli.FAILED;
                }
            }
            return BackfillCli.OK;
        } finally {
            service.close();
        }
    }

    @Command(name = "producer", mixinStandardHelpOptions = true,
            description = {"Runs the source stage: Debezium (pgoutput) snapshot + changes of the spec's tables into the raw topics.",
                    "State (Debezium offsets, snapshot progress) lives in --state-dir: keep it, or a restart re-snapshots."})
    public static final class ProducerCommand implements Callable<Integer> {
        @Mixin
        SpecArgs spec;

        @Option(names = "--state-dir", defaultValue = "${env:PGBACKFILL_STATE_DIR:-.pgbackfill}", description = "offsets and progress (default ${DEFAULT-VALUE})")
        Path stateDir;

        @Override
        public Integer call() throws Exception {
            PipelineSpec s = spec.plan().spec();
            ChangeEventProducer p = new ChangeEventProducer(ProducerConfig.of(s, stateDir.resolve("producer")));
            p.start();
            return runUntilStopped(p, p::failure, "producer");
        }
    }

    @Command(name = "transformer", mixinStandardHelpOptions = true,
            description = {"Runs the transform stage: a Kafka Streams app (exactly_once_v2) from raw topics to rows topics and DLQ.",
                    "Scale out by starting more instances (up to the partition count); they share the application.id."})
    public static final class TransformerCommand implements Callable<Integer> {
        @Mixin
        SpecArgs spec;

        @Option(names = "--state-dir", defaultValue = "${env:PGBACKFILL_STATE_DIR:-.pgbackfill}", description = "Kafka Streams state.dir (default ${DEFAULT-VALUE})")
        Path stateDir;

        @Option(names = "--threads", defaultValue = "1", description = "stream threads (default ${DEFAULT-VALUE})")
        int threads;

        @Override
        public Integer call() throws Exception {
            MigrationPlan plan = spec.plan();
            TransformerApp t = new TransformerApp(plan, new TransformerConfig(stateDir.resolve("streams-" + ProcessHandle.current().pid()), threads, 200));
            t.start();
            return runUntilStopped(t, t::failure, "transformer");
        }
    }

    @Command(name = "sink", mixinStandardHelpOptions = true,
            description = {"Runs the write stage: a consumer group from rows topics into the target, idempotent and order-safe.",
                    "Scale out by starting more instances (up to the partition count)."})
    public static final class SinkCommand implements Callable<Integer> {
        @Mixin
        SpecArgs spec;

        @Override
        public Integer call() throws Exception {
            PipelineSpec s = spec.spec();
            RowSink sink = new RowSink(s, SinkConfig.from(s.sink()));
            sink.start();
            return runUntilStopped(sink, sink::failure, "sink");
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

        @Override
        public Integer call() throws Exception {
            MigrationPlan plan = spec.plan();
            Pipeline p = new Pipeline(plan, stateDir, SinkConfig.from(plan.spec().sink()));
            p.start();
            return runUntilStopped(p, p::failure, "pipeline " + plan.spec().pipelineName());
        }
    }
}
