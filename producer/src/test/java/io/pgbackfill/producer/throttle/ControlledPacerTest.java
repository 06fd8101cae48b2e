package io.pgbackfill.producer.throttle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgbackfill.core.control.ControlEntry;
import io.pgbackfill.core.control.ControlState;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ControlledPacerTest {
    final AtomicReference<ControlState> control = new AtomicReference<>(ControlState.EMPTY);

    @Test
    void admitWaitsWhilePausedOrThrottledAndGoesOnAfter() throws Exception {
        ControlledPacer pacer = new ControlledPacer(control::get, null, 1000);
        control.set(new ControlState(Map.of(ControlState.PAUSE, ControlEntry.of("paused", "ana", "test"))));
        CompletableFuture<Void> admitted = CompletableFuture.runAsync(() -> {
            try {
                pacer.admit(10);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().until(() -> pacer.heldMillis().getOrDefault("paused", 0L) > 0);
        assertThat(admitted).isNotDone();
        assertThat(pacer.holding()).isTrue();
        pacer.verdict(new ThrottleVerdict("throttled", "query", 1, 0, null));
        control.set(ControlState.EMPTY);
        await().until(() -> pacer.heldMillis().getOrDefault("throttle:query", 0L) > 0);
        assertThat(admitted).isNotDone();
        assertThat(pacer.holdingReason()).isEqualTo("throttle:query");
        pacer.verdict(ThrottleVerdict.CLEAR);
        admitted.get();
        assertThat(pacer.holding()).isFalse();
    }

    @Test
    void theRateLimitHoldsAReaderThatCannotWaitUntilTheBucketRefills() {
        ControlledPacer pacer = new ControlledPacer(control::get, 100L, 1000);
        assertThat(pacer.holding()).isFalse();
        pacer.record(50); // half a second of rows at 100/s
        assertThat(pacer.holdingReason()).isEqualTo("rate-limit");
        await().atMost(Duration.ofSeconds(5)).until(() -> !pacer.holding());
        control.set(new ControlState(Map.of(ControlState.RATE_LIMIT, ControlEntry.of("1000000", "ana", null))));
        pacer.record(50);
        assertThat(pacer.rateLimit()).isEqualTo(1_000_000L);
    }

    @Test
    void theChunkSizeInForceIsTheRuntimeSettingElseTheConfiguredOne() {
        ControlledPacer pacer = new ControlledPacer(control::get, null, 1000);
        assertThat(pacer.chunkSize(1000)).isEqualTo(1000);
        control.set(new ControlState(Map.of(ControlState.CHUNK_SIZE, ControlEntry.of("250", "ana", null))));
        assertThat(pacer.chunkSize(1000)).isEqualTo(250);
    }

    @Test
    void closeReleasesAWaitingReader() throws Exception {
        ControlledPacer pacer = new ControlledPacer(control::get, null, 1000);
        control.set(new ControlState(Map.of(ControlState.PAUSE, ControlEntry.of("paused", "ana", null))));
        CompletableFuture<Void> admitted = CompletableFuture.runAsync(() -> {
            try {
                pacer.admit(1);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().until(() -> pacer.heldMillis().containsKey("paused"));
        pacer.close();
        admitted.get();
    }
}
