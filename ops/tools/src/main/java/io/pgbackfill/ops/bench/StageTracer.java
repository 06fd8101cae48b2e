package io.pgbackfill.ops.bench;

import io.pgbackfill.core.kafka.KafkaClientConfig;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Where a tracked write spent its lag: watches the raw topic (read_uncommitted: when the producer's record is in
 * Kafka) and the rows topic (read_committed: when the transformer's transaction made the row readable by the sink),
 * and remembers, per source id, the last time each stage showed it. The {@link VisibilityProbe} asks for a write's
 * stages when the target shows it. Both watchers are plain consumers of the bench, outside the pipeline; each
 * long-polls with a short wait, so it sees a record within a few milliseconds of the broker having it.
 */
final class StageTracer implements AutoCloseable {
    /** Ids remembered per stage: several seconds of writes at any bench rate, bounded. */
    private static final int REMEMBERED = 200_000;

    /**
     * One write's way to the target, in milliseconds from its source stamp; NaN where a stage was not seen.
     *
     * @param debeziumCommit the source commit time Debezium put in the event ({@code tsMs}, ms resolution)
     * @param produced       the raw record's timestamp: when the producer stage handed it to Kafka (CreateTime)
     * @param inRaw          when the raw record was readable in Kafka
     * @param transformed    when the row was readable read_committed (the transformer's transaction committed)
     * @param visible        when the probe saw the row in the target
     */
    record Stages(double debeziumCommit, double produced, double inRaw, double transformed, double visible) {
        static final Stages UNKNOWN = new Stages(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }

    /** Per id: the Debezium commit time, the record timestamp and when we saw it, all epoch ms. */
    private record Seen(long tsMs, long createTime, long seenAt) {
    }

    private final Map<Long, Seen> raw = bounded();
    private final Map<Long, Seen> rows = bounded();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private final KafkaConsumer<byte[], byte[]> rawConsumer;
    private final KafkaConsumer<byte[], byte[]> rowsConsumer;
    private final Thread rawThread;
    private final Thread rowsThread;
    private volatile boolean running = true;

    StageTracer(PipelineSpec spec) {
        TableSpec table = spec.tables().get(0);
        rawConsumer = consumer(spec, "read_uncommitted", spec.rawTopic(table));
        rowsConsumer = consumer(spec, "read_committed", spec.rowsTopic(table));
        rawThread = new Thread(() -> follow(rawConsumer, raw, true), "bench-stage-tracer-raw");
        rowsThread = new Thread(() -> follow(rowsConsumer, rows, false), "bench-stage-tracer-rows");
        rawThread.setDaemon(true);
        rowsThread.setDaemon(true);
    }

    void start() {
        rawThread.start();
        rowsThread.start();
    }

    /** The stages of the write of {@code id} stamped at {@code stampMicros} and seen in the target at {@code visibleMicros}. */
    Stages stages(long id, long stampMicros, long visibleMicros) {
        long stampMs = stampMicros / 1000;
        Seen r;
        Seen w;
        synchronized (raw) {
            r = raw.get(id);
        }
        synchronized (rows) {
            w = rows.get(id);
        }
        // Only this write's own records count: a later write of the id may have overwritten them (then unknown).
        boolean rawOk = r != null && r.tsMs() >= stampMs - 1 && r.seenAt() * 1000 <= visibleMicros + 1000;
        boolean rowsOk = w != null && w.seenAt() >= stampMs && w.seenAt() * 1000 <= visibleMicros + 1000;
        double stamp = stampMicros / 1000.0;
        return new Stages(rawOk ? r.tsMs() - stamp : Double.NaN, rawOk ? r.createTime() - stamp : Double.NaN, rawOk ? r.seenAt() - stamp : Double.NaN,
                rowsOk ? w.seenAt() - stamp : Double.NaN, (visibleMicros - stampMicros) / 1000.0);
    }

    Exception failure() {
        return failure.get();
    }

    private void follow(KafkaConsumer<byte[], byte[]> consumer, Map<Long, Seen> seen, boolean readTsMs) {
        try {
            while (running) {
                var records = consumer.poll(Duration.ofMillis(100));
                long now = System.currentTimeMillis();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    long id = firstNumber(r.key());
                    if (id < 0) {
                        continue;
                    }
                    long tsMs = readTsMs ? tsMs(r.value()) : -1;
                    synchronized (seen) {
                        seen.put(id, new Seen(tsMs, r.timestamp(), now));
                    }
                }
            }
        } catch (org.apache.kafka.common.errors.WakeupException e) {
            // closing
        } catch (Exception e) {
            failure.compareAndSet(null, e);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    private static KafkaConsumer<byte[], byte[]> consumer(PipelineSpec spec, String isolation, String topic) {
        Properties p = KafkaClientConfig.of(spec.kafka(), "bench-stage-tracer-" + isolation);
        p.put("isolation.level", isolation);
        p.put("enable.auto.commit", "false");
        p.put("fetch.min.bytes", "1");
        p.put("fetch.max.wait.ms", "10");
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = c.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
        c.assign(partitions);
        c.seekToEnd(partitions);
        return c;
    }

    /** The first integer in a key ({"id":7} or {"id":"7"}): the users table's id; -1 if none. */
    static long firstNumber(byte[] key) {
        if (key == null) {
            return -1;
        }
        long v = -1;
        for (byte b : key) {
            if (b >= '0' && b <= '9') {
                v = (v < 0 ? 0 : v * 10) + (b - '0');
            } else if (v >= 0) {
                return v;
            }
        }
        return v;
    }

    /** The event's {@code "tsMs":N}, or -1. */
    static long tsMs(byte[] value) {
        if (value == null) {
            return -1;
        }
        String s = new String(value, StandardCharsets.UTF_8);
        int i = s.indexOf("\"tsMs\":");
        return i < 0 ? -1 : firstNumber(s.substring(i + 7).getBytes(StandardCharsets.UTF_8));
    }

    private static Map<Long, Seen> bounded() {
        return new LinkedHashMap<>(1024, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Seen> eldest) {
                return size() > REMEMBERED;
            }
        };
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        rawConsumer.wakeup();
        rowsConsumer.wakeup();
        rawThread.join(10_000);
        rowsThread.join(10_000);
    }
}
