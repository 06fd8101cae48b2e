package io.pgbackfill.ops.bench;

import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import io.pgbackfill.core.Secret;
import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.KafkaSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Debezium Embedded's bare initial snapshot into Kafka, default settings (JSON, schemas off), no transform, no sink:
 * the floor under pgbackfill's producer, so the pipeline's own overhead shows as a ratio. Timed from the engine's
 * start until Kafka acknowledged one record per row; "verified" means exactly that many snapshot records arrived.
 */
final class DebeziumSnapshotApproach implements Approach {
    static final String SLOT = "bench_debezium_bare";
    static final String TOPIC_PREFIX = "bench-debezium-bare";
    private static final Duration TIMEOUT = Duration.ofMinutes(30);

    @Override
    public String key() {
        return "debezium-snapshot";
    }

    @Override
    public String label() {
        return "Debezium Embedded bare snapshot -> Kafka (no transform, no sink)";
    }

    @Override
    public ApproachResult run(BenchContext ctx) throws Exception {
        long expected = ctx.sourceRows();
        ConnectionSpec db = ConnectionSpec.of(ctx.jdbcUrl(), ctx.infra().user(), Secret.of(ctx.infra().password(), "embedded"));
        String topic = TOPIC_PREFIX + ".public.users";
        KafkaSpec kafka = new KafkaSpec(ctx.infra().kafkaBootstrapServers(), null, ctx.options().partitions());
        BenchTopics.awaitCreated(kafka, List.of(topic), ctx.options().partitions(), Duration.ofSeconds(30));
        Path state = ctx.workDir().resolve("debezium-bare");
        java.nio.file.Files.createDirectories(state);
        AtomicLong acked = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Properties kp = io.pgbackfill.core.kafka.KafkaClientConfig.of(kafka, "bench-debezium-bare");
        kp.put("linger.ms", "20");
        kp.put("compression.type", "lz4");
        double seconds;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(kp, new ByteArraySerializer(), new ByteArraySerializer())) {
            Properties p = new Properties();
            KafkaConnectConfigs.postgresSource(db).forEach(p::setProperty);
            p.setProperty("name", "bench-debezium-bare");
            p.setProperty("slot.name", SLOT);
            p.setProperty("publication.name", SLOT);
            p.setProperty("topic.prefix", TOPIC_PREFIX);
            p.setProperty("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
            p.setProperty("offset.storage.file.filename", state.resolve("offsets.dat").toString());
            p.setProperty("converter.schemas.enable", "false");
            long t0 = System.nanoTime();
            DebeziumEngine<io.debezium.engine.ChangeEvent<String, String>> engine = DebeziumEngine.create(Json.class)
                    .using(p)
                    .notifying((records, committer) -> {
                        for (var r : records) {
                            if (r.destination().equals(topic) && r.value() != null) {
                                producer.send(new ProducerRecord<>(topic, r.key() == null ? null : r.key().getBytes(StandardCharsets.UTF_8),
                                        r.value().getBytes(StandardCharsets.UTF_8)), (md, ex) -> {
                                            if (ex != null) {
                                                failure.compareAndSet(null, ex);
                                            } else {
                                                acked.incrementAndGet();
                                            }
                                        });
                            }
                            committer.markProcessed(r);
                        }
                        committer.markBatchFinished();
                    })
                    .using((success, message, error) -> {
                        if (!success) {
                            failure.compareAndSet(null, error != null ? error : new IllegalStateException(message));
                        }
                    })
                    .build();
            ExecutorService thread = Executors.newSingleThreadExecutor(r -> new Thread(r, "bench-debezium-bare"));
            try {
                thread.execute(engine);
                long deadline = System.nanoTime() + TIMEOUT.toNanos();
                long nextPrint = System.nanoTime() + 5_000_000_000L;
                while (acked.get() < expected) {
                    if (failure.get() != null) {
                        throw new IllegalStateException("Debezium failed: " + failure.get().getMessage(), failure.get());
                    }
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("only " + acked.get() + " of " + expected + " records within " + TIMEOUT.toMinutes() + " min");
                    }
                    if (System.nanoTime() > nextPrint) {
                        ctx.log("%,d records in Kafka", acked.get());
                        nextPrint = System.nanoTime() + 5_000_000_000L;
                    }
                    Thread.sleep(10);
                }
                seconds = (System.nanoTime() - t0) / 1e9;
            } finally {
                engine.close();
                thread.shutdown();
                thread.awaitTermination(30, TimeUnit.SECONDS);
            }
        }
        try (Connection c = ctx.connect()) {
            BenchDatabase.dropSlot(c, SLOT);
            BenchDatabase.execute(c, "DROP PUBLICATION IF EXISTS " + SLOT);
        }
        return ApproachResult.verified(this, expected, seconds, 0, acked.get() - expected,
                "records in Kafka only: the floor under pgbackfill's producer (default settings, JSON without schemas)", Map.of());
    }
}
