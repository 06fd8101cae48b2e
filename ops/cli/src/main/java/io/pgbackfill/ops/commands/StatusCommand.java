package io.pgbackfill.ops.commands;

import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.ops.status.PipelineStatus;
import io.pgbackfill.ops.status.StatusScreen;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Shows the state of a pipeline on one screen.",
                "Snapshot progress and ETA, replication-slot lag and retained WAL, consumer-group lag per stage and partition (transformer application.id, sink group), dead letters, long-running source queries,",
                "and control: running or paused (by whom, why) or throttled (which check, value vs threshold), rate limit and chunk size.",
                "Same groups as: ops/scripts/consumer-groups.sh SPEC. Exit 0; 1 if the slot is missing or lost."})
public final class StatusCommand implements Callable<Integer> {
    @Mixin
    SpecArgs spec;

    @Option(names = "--state-dir", defaultValue = ProducerStateArgs.DEFAULT_STATE_DIR, description = "the producer's state dir, for snapshot rows read (default ${DEFAULT-VALUE})")
    Path stateDir;

    @Option(names = "--watch", description = "refresh every N seconds (default 2 when given)", arity = "0..1", fallbackValue = "2")
    Integer watch;

    @Option(names = "--json", description = "print JSON instead of the text screen")
    boolean json;

    @Override
    public Integer call() throws Exception {
        var s = spec.spec();
        PipelineStatus previous = null;
        while (true) {
            PipelineStatus now = PipelineStatus.read(s, stateDir == null ? null : spec.stateDir(stateDir));
            if (json) {
                System.out.println(EventCodec.MAPPER.writeValueAsString(now));
            } else {
                if (watch != null) {
                    System.out.print("\033[H\033[2J");
                }
                System.out.println("pipeline " + s.pipelineName() + " — " + java.time.LocalTime.now().withNano(0));
                System.out.print(StatusScreen.render(now, previous));
                if (!spec.reverse()) {
                    io.pgbackfill.ops.cutover.reverse.ReverseStream.present(s).ifPresent(System.out::println);
                }
                System.out.print(io.pgbackfill.ops.control.ControlScreen.render(now.control(), s));
            }
            if (watch == null) {
                return now.slot().exists() && !"lost".equals(now.slot().walStatus()) ? ExitCode.OK : ExitCode.PROBLEM;
            }
            previous = now;
            Thread.sleep(watch * 1000L);
        }
    }
}
