package io.pgbackfill.core.control;

import io.pgbackfill.core.spec.PipelineSpec;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the control topic in a stage: one thread, one consumer assigned to its only partition (no group, nothing
 * committed: each start reads the few entries from the beginning). {@link #current()} is always the latest state.
 * {@link #start()} returns once the topic was read to its end, so a stage starts with the settings already made.
 */
public final class ControlListener implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlListener.class);
    private final PipelineSpec spec;
    private final String stage;
    private final AtomicReference<ControlState> state = new AtomicReference<>(ControlState.EMPTY);
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final List<Consumer<ControlState>> onChange = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile boolean running;
    private Thread thread;
    private KafkaConsumer<byte[], byte[]> consumer;

    public ControlListener(PipelineSpec spec, String stage) {
        this.spec = spec;
        this.stage = stage;
    }

    public ControlListener onChange(Consumer<ControlState> listener) {
        onChange.add(listener);
        return this;
    }

    public ControlListener start() {
        ControlTopic.ensure(spec);
        consumer = ControlTopic.consumer(spec);
        TopicPartition tp = new TopicPartition(spec.controlTopic(), 0);
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        long end = consumer.endOffsets(List.of(tp)).get(tp);
        running = true;
        thread = new Thread(() -> follow(tp, end), "pgbackfill-control-" + stage);
        thread.setDaemon(true);
        thread.start();
        try {
            if (!caughtUp.await(30, TimeUnit.SECONDS)) {
                LOG.warn("control topic {} not read to its end within 30 s; starting with what was read", spec.controlTopic());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return this;
    }

    private void follow(TopicPartition tp, long end) {
        Map<String, ControlEntry> entries = new HashMap<>();
        try {
            while (running) {
                var records = consumer.poll(Duration.ofMillis(250));
                records.forEach(r -> ControlTopic.apply(entries, r));
                boolean atEnd = consumer.position(tp) >= end;
                if (!records.isEmpty() || (atEnd && caughtUp.getCount() > 0)) {
                    ControlState now = new ControlState(entries);
                    ControlState before = state.getAndSet(now);
                    if (atEnd) {
                        caughtUp.countDown();
                    }
                    if (!now.equals(before)) {
                        if (!describe(now).equals(describe(before))) {
                            LOG.info("{}: control {}", stage, describe(now)); // settings; throttle reports are the producer's to log
                        }
                        onChange.forEach(l -> l.accept(now));
                    }
                }
            }
        } catch (org.apache.kafka.common.errors.WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            LOG.warn("{}: stopped following {}: {}", stage, spec.controlTopic(), e.toString());
        } finally {
            caughtUp.countDown();
            consumer.close(Duration.ofSeconds(2));
        }
    }

    /** Settings only, for the log (the throttle report changes often and is logged by the producer). */
    static String describe(ControlState s) {
        StringBuilder sb = new StringBuilder();
        s.entries().forEach((k, v) -> {
            if (!ControlState.THROTTLE.equals(k)) {
                sb.append(sb.length() == 0 ? "" : ", ").append(k).append('=').append(v.value()).append(" (by ").append(v.by())
                        .append(v.reason() == null ? "" : ": " + v.reason()).append(')');
            }
        });
        return sb.length() == 0 ? "none" : sb.toString();
    }

    public ControlState current() {
        return state.get();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        if (consumer != null) {
            consumer.wakeup();
        }
        if (thread != null) {
            thread.join(5000);
        }
    }
}
