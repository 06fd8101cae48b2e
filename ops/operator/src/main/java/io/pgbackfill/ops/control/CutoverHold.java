package io.pgbackfill.ops.control;

import io.pgbackfill.core.control.ControlEntry;
import io.pgbackfill.core.control.ControlState;
import io.pgbackfill.core.control.ControlTopic;
import io.pgbackfill.core.spec.PipelineSpec;
import java.io.PrintStream;
import java.time.LocalTime;
import java.util.Optional;

/**
 * A cutover's wait while it is postponed through the control topic ({@code backfill ctl SPEC postpone-cutover}), with its
 * state on screen and in {@code status}, and its cancellation ({@code cancel-cutover}): unlike a flag file, both work
 * from anywhere that reaches Kafka and say who did it and why.
 */
public final class CutoverHold {
    private CutoverHold() {
    }

    /**
     * Returns once the cutover may go on (empty), or the reason it was cancelled. A cancel made before this cutover
     * started belongs to an earlier one and is ignored; a cancel it obeys is cleared, so the next cutover can run.
     */
    public static Optional<String> await(PipelineSpec spec, long startedAtMs, PrintStream out) throws InterruptedException {
        long nextReport = 0;
        while (true) {
            ControlState s = ControlTopic.read(spec);
            Optional<ControlEntry> c = s.cutover();
            if (c.isEmpty() || ("cancelled".equals(c.get().value()) && c.get().atMs() < startedAtMs)) {
                return Optional.empty();
            }
            ControlEntry e = c.get();
            String who = e.by() + (e.reason() == null ? "" : " (" + e.reason() + ")");
            if ("cancelled".equals(e.value())) {
                ControlTopic.publish(spec, ControlState.CUTOVER, null);
                return Optional.of("cutover cancelled by " + who);
            }
            if (System.currentTimeMillis() >= nextReport) {
                out.println(LocalTime.now().withNano(0) + " cutover postponed by " + who + ": `backfill ctl SPEC unpostpone-cutover` to go on, "
                        + "`backfill ctl SPEC cancel-cutover` to give up. Pipeline: " + ControlScreen.state(s));
                nextReport = System.currentTimeMillis() + 5000;
            }
            Thread.sleep(500);
        }
    }
}
