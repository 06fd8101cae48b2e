package io.pgbackfill.ops.commands;

import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.ops.resync.Resync;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "resync", mixinStandardHelpOptions = true,
        description = {"Repairs a pipeline that lost changes on the way.",
                "Changes are lost with a lost replication slot (wal_status = lost), or with events Kafka deleted before the",
                "transformer or the sink read them. Stop every service of the pipeline first. It drops the slot",
                "and the producer's state, moves the transformer and the sink to the end of their topics, runs the pipeline in this",
                "process until a new snapshot is in the target and it caught up, and then deletes the target rows the new snapshot",
                "did not deliver (their source rows were deleted meanwhile). Then start the pipeline again as before.",
                "Interrupted, it is run again. See ops/runbooks/resync.md. Exit 0 when the target is reconciled, 1 if a stage still runs."})
public final class ResyncCommand implements Callable<Integer> {
    @Mixin
    SpecArgs spec;

    @Option(names = "--state-dir", defaultValue = ProducerStateArgs.DEFAULT_STATE_DIR, description = "the pipeline's state directory (default ${DEFAULT-VALUE})")
    Path stateDir;

    @Option(names = "--timeout-minutes", defaultValue = "1440", description = "how long the new snapshot may take to reach the target (default ${DEFAULT-VALUE})")
    long timeoutMinutes;

    @Override
    public Integer call() throws Exception {
        MigrationPlan plan = spec.plan();
        Resync resync = new Resync(plan, stateDir, Duration.ofMinutes(timeoutMinutes), System.out::println);
        Optional<String> blocker = resync.blocker();
        if (blocker.isPresent()) {
            System.err.println("resync: " + blocker.get());
            return ExitCode.PROBLEM;
        }
        var removed = resync.run();
        System.out.println("resync: done; " + removed.values().stream().mapToLong(Long::longValue).sum()
                + " stale row(s) removed. Start the pipeline again (`backfill up SPEC` or the services) to keep streaming.");
        return ExitCode.OK;
    }
}
