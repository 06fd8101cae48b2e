package io.pgbackfill.ops.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.ops.status.PipelineStatus;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lag of one stage's consumer group, partition by partition: end offset (read_committed) minus the group's
 * committed offset, the figure {@code kafka-consumer-groups.sh --describe} shows. Read from Kafka by each instance
 * of the stage on a timer of its own (never at scrape time); every instance reports the whole group, so dashboards
 * take {@code max by (stage, topic, partition)}. A stage whose consumer is stuck still reports a growing lag, which
 * the consumer's own fetch metrics would not. Gauges read NaN until the first poll and while Kafka cannot be reached.
 */
public final class ConsumerLagProbe implements AutoCloseable {
    public static final String CONSUMER_LAG = "pgbackfill.consumer.lag";
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerLagProbe.class);

    /** The stages that read through a consumer group: which group, and which topics it reads. */
    public enum Stage {
        TRANSFORMER, SINK;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        String group(PipelineSpec spec) {
            return this == TRANSFORMER ? spec.transformerApplicationId() : spec.sinkGroupId();
        }

        List<String> topics(PipelineSpec spec) {
            return spec.tables().stream().map((TableSpec t) -> this == TRANSFORMER ? spec.rawTopic(t) : spec.rowsTopic(t)).toList();
        }
    }

    private record Partition(String topic, int partition) {
    }

    private final PipelineSpec spec;
    private final Stage stage;
    private final MeterRegistry registry;
    private final Map<Partition, Double> lag = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    private volatile boolean reportedFailure;
    private Admin admin;

    private ConsumerLagProbe(PipelineSpec spec, Stage stage, MeterRegistry registry) {
        this.spec = spec;
        this.stage = stage;
        this.registry = registry;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgbackfill-" + stage.label() + "-lag-probe");
            t.setDaemon(true);
            return t;
        });
        // The services create every topic with kafka.partitions partitions: known before the first poll.
        for (String topic : stage.topics(spec)) {
            for (int p = 0; p < spec.kafka().partitions(); p++) {
                register(new Partition(topic, p));
            }
        }
    }

    /** Registers the gauges (NaN) without reading Kafka: for tests. */
    public static ConsumerLagProbe idle(PipelineSpec spec, Stage stage, MeterRegistry registry) {
        return new ConsumerLagProbe(spec, stage, registry);
    }

    public static ConsumerLagProbe start(PipelineSpec spec, Stage stage, MeterRegistry registry, Duration every) {
        ConsumerLagProbe probe = new ConsumerLagProbe(spec, stage, registry);
        probe.timer.scheduleWithFixedDelay(probe::poll, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        return probe;
    }

    private void register(Partition p) {
        if (lag.putIfAbsent(p, Double.NaN) == null) {
            Gauge.builder(CONSUMER_LAG, this, probe -> probe.lag.getOrDefault(p, Double.NaN)).baseUnit("records")
                    .tags("stage", stage.label(), "topic", p.topic(), "partition", Integer.toString(p.partition()))
                    .description("records in the partition the stage's consumer group has not committed yet (end offset, read_committed, minus committed offset)")
                    .register(registry);
        }
    }

    /** One read of the group's lag; visible for the integration test. */
    void poll() {
        try {
            if (admin == null) {
                admin = KafkaTopics.admin(spec.kafka());
            }
            PipelineStatus.GroupLag group = PipelineStatus.lag(admin, stage.label(), stage.group(spec), stage.topics(spec));
            for (PipelineStatus.PartitionLag p : group.partitions()) {
                Partition key = new Partition(p.topic(), p.partition());
                register(key);
                lag.put(key, (double) p.lag());
            }
            reportedFailure = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | RuntimeException e) {
            lag.replaceAll((k, v) -> Double.NaN);
            if (!reportedFailure) {
                Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
                LOG.warn("{} lag metrics unavailable: {}", stage.label(), Redaction.redact(String.valueOf(cause.getMessage())));
                reportedFailure = true;
            }
        }
    }

    /** The last lag read for a partition (NaN if unknown). */
    double lag(String topic, int partition) {
        return lag.getOrDefault(new Partition(topic, partition), Double.NaN);
    }

    @Override
    public void close() throws InterruptedException {
        timer.shutdownNow();
        timer.awaitTermination(5, TimeUnit.SECONDS);
        if (admin != null) {
            admin.close(Duration.ofSeconds(2));
        }
    }
}
