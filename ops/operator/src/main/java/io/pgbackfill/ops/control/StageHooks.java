package io.pgbackfill.ops.control;

import io.pgbackfill.core.control.ControlState;
import io.pgbackfill.core.control.ControlTopic;
import io.pgbackfill.core.spec.PipelineSpec;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The hooks of a running stage: {@code startup} once it started, {@code snapshotDone} once (the producer, or {@code up})
 * when the snapshot is complete, {@code failure} once when it fails. Hooks run off the stage's threads, and a failing
 * one is logged, never stops the stage.
 */
public final class StageHooks implements AutoCloseable {
    private final Hooks hooks;
    private final PipelineSpec spec;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pgbackfill-hooks");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean failed = new AtomicBoolean();

    public StageHooks(PipelineSpec spec, String stage) {
        this.spec = spec;
        this.hooks = new Hooks(spec, stage);
    }

    private ControlState control() {
        try {
            return ControlTopic.read(spec);
        } catch (RuntimeException e) {
            return ControlState.EMPTY;
        }
    }

    public void started() {
        if (hooks.has(Hooks.STARTUP)) {
            timer.execute(() -> hooks.run(Hooks.STARTUP, control(), Map.of()));
        }
    }

    /** Runs {@code snapshotDone} once {@code done} says so (checked every second). */
    public void watchSnapshot(BooleanSupplier done) {
        if (!hooks.has(Hooks.SNAPSHOT_DONE)) {
            return;
        }
        AtomicBoolean ran = new AtomicBoolean();
        timer.scheduleWithFixedDelay(() -> {
            if (!ran.get() && done.getAsBoolean() && ran.compareAndSet(false, true)) {
                hooks.run(Hooks.SNAPSHOT_DONE, control(), Map.of());
            }
        }, 1, 1, TimeUnit.SECONDS);
    }

    /** {@code failure} wrapped so that the first failure it reports runs the {@code failure} hook (before the stage exits). */
    public Supplier<Throwable> onFailure(Supplier<Throwable> failure) {
        return () -> {
            Throwable t = failure.get();
            if (t != null && failed.compareAndSet(false, true)) {
                hooks.run(Hooks.FAILURE, control(), Map.of("PGBACKFILL_FAILURE", String.valueOf(t.getMessage())));
            }
            return t;
        };
    }

    @Override
    public void close() throws InterruptedException {
        timer.shutdownNow();
        timer.awaitTermination(5, TimeUnit.SECONDS);
    }
}
