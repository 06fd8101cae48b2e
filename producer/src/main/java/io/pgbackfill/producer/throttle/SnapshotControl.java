package io.pgbackfill.producer.throttle;

import io.pgbackfill.core.control.ControlListener;
import io.pgbackfill.core.spec.PipelineSpec;
import java.util.function.BooleanSupplier;

/**
 * Everything that slows the producer's snapshot, started and closed as one: the control topic's listener, the pacer,
 * the source-health checks, and (for snapshots interleaved with streaming) the incremental snapshot's hold.
 */
public final class SnapshotControl implements AutoCloseable {
    private final ControlListener control;
    private final ControlledPacer pacer;
    private final SourceThrottle throttle;
    private final IncrementalSnapshotHold hold;

    /**
     * @param incrementalLeft whether an incremental (interleaved) snapshot still has rows to read
     */
    public SnapshotControl(PipelineSpec spec, BooleanSupplier incrementalLeft, String signalSchema, String signalTable) {
        this.control = new ControlListener(spec, "producer");
        this.pacer = new ControlledPacer(control::current, spec.throttle().rowsPerSecond(), spec.snapshot().chunkSize());
        this.throttle = new SourceThrottle(spec, pacer, control::current);
        this.hold = new IncrementalSnapshotHold(spec, pacer, incrementalLeft, signalSchema, signalTable);
    }

    public void start() {
        control.start();
        throttle.start();
        hold.start();
    }

    public ControlledPacer pacer() {
        return pacer;
    }

    public SourceThrottle throttle() {
        return throttle;
    }

    public ControlListener control() {
        return control;
    }

    @Override
    public void close() throws Exception {
        pacer.close();
        hold.close();
        throttle.close();
        control.close();
    }
}
