package io.pgbackfill.sink.control;

import io.pgbackfill.core.control.ControlListener;
import io.pgbackfill.core.control.ControlState;
import io.pgbackfill.core.spec.PipelineSpec;
import java.util.concurrent.atomic.AtomicLong;

/**
 * When the sink holds its writes: while the pipeline is paused ({@code backfill ctl SPEC pause}, or a critical
 * threshold), and while the producer reports the source throttled if the target is the source database (its writes
 * load the same server). The sink keeps polling with its partitions paused, so it stays in its group; the producer
 * keeps streaming the WAL into Kafka meanwhile, and the sink catches up once it goes on.
 */
public final class WriteHold implements AutoCloseable {
    private final ControlListener control;
    private final boolean sameDatabase;
    private final AtomicLong heldMillis = new AtomicLong();
    private long heldSince = -1;

    public WriteHold(PipelineSpec spec) {
        this.control = new ControlListener(spec, "sink");
        this.sameDatabase = spec.sameDatabase();
    }

    public WriteHold start() {
        control.start();
        return this;
    }

    /** Whether to hold now; also counts the time held. Called from the sink's one thread. */
    public boolean holding() {
        boolean hold = reason(control.current()) != null;
        long now = System.currentTimeMillis();
        if (hold && heldSince < 0) {
            heldSince = now;
        } else if (!hold && heldSince >= 0) {
            heldMillis.addAndGet(now - heldSince);
            heldSince = -1;
        }
        return hold;
    }

    String reason(ControlState s) {
        if (s.paused()) {
            return "paused";
        }
        return sameDatabase ? s.throttled().map(t -> "throttle:" + t.check()).orElse(null) : null;
    }

    /** Milliseconds the sink held its writes (metrics). */
    public long heldMillis() {
        long since = heldSince;
        return heldMillis.get() + (since >= 0 ? System.currentTimeMillis() - since : 0);
    }

    @Override
    public void close() throws InterruptedException {
        control.close();
    }
}
