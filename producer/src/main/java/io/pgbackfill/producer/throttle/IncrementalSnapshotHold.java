package io.pgbackfill.producer.throttle;

import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.sql.SqlIdentifier;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds Debezium's incremental snapshot between chunks without holding the stream: while the pacer says hold, a
 * {@code pause-snapshot} signal row, once it says go, a {@code resume-snapshot} (Debezium's own signals, written to the
 * pipeline's signal table and so read in order with the WAL). Checked every {@value #TICK_MS} ms; the rate limit
 * works the same way, a chunk at a time (the chunk read past the budget is paid for by the pause after it).
 */
public final class IncrementalSnapshotHold implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IncrementalSnapshotHold.class);
    static final long TICK_MS = 200;
    private final PipelineSpec spec;
    private final ControlledPacer pacer;
    private final BooleanSupplier snapshotLeft;
    private final String signalTable;
    private ScheduledExecutorService timer;
    /**
     * Starts as "paused": Debezium keeps no pause in its offsets, but a pause signal written before a crash is streamed
     * again after the restart; so the first tick without a reason to hold writes a resume, which comes after it.
     */
    private boolean signalledPause = true;
    /** Whether this process wrote a pause (with no snapshot left, only such a pause is lifted). */
    private boolean wrotePause;

    /** @param signalTable schema-qualified, unquoted parts: {@code pgbackfill}, {@code <slot>_signal} */
    public IncrementalSnapshotHold(PipelineSpec spec, ControlledPacer pacer, BooleanSupplier snapshotLeft, String schema, String signalTable) {
        this.spec = spec;
        this.pacer = pacer;
        this.snapshotLeft = snapshotLeft;
        this.signalTable = SqlIdentifier.of(schema).quoted() + "." + SqlIdentifier.of(signalTable).quoted();
    }

    public void start() {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgbackfill-snapshot-hold");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::tick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
    }

    void tick() {
        boolean left = snapshotLeft.getAsBoolean();
        String why = left ? pacer.holdingReason() : null;
        if (why != null) {
            pacer.count(why, TICK_MS);
        }
        boolean hold = why != null;
        if (!left) {
            if (signalledPause && wrotePause) {
                signal(false, null); // the snapshot ended (or the producer stops) while held by us: lift it
            }
            return;
        }
        if (hold != signalledPause) {
            signal(hold, why);
        }
    }

    private void signal(boolean hold, String why) {
        String type = hold ? "pause-snapshot" : "resume-snapshot";
        try (Connection c = spec.source().open();
             PreparedStatement ps = c.prepareStatement("INSERT INTO " + signalTable + " (id, type, data) VALUES (?, ?, '{}')")) {
            ps.setString(1, "pgbackfill-" + type + "-" + System.nanoTime());
            ps.setString(2, type);
            ps.executeUpdate();
            signalledPause = hold;
            wrotePause |= hold;
            if (!"rate-limit".equals(why)) {
                LOG.info("incremental snapshot: {}{}", type, hold ? " (" + why + ")" : "");
            }
        } catch (Exception e) {
            LOG.warn("cannot write the {} signal: {}", type, Redaction.redact(String.valueOf(e.getMessage()), spec.source().secret()));
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (timer != null) {
            timer.shutdownNow();
            timer.awaitTermination(10, TimeUnit.SECONDS);
        }
    }
}
