package io.pgbackfill.ops.bench;

import io.pgbackfill.core.Secret;
import io.pgbackfill.core.spec.ConnectionSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The off-the-shelf alternative: Kafka Connect standalone with the Debezium PostgreSQL source and the
 * Debezium JDBC sink, against the same broker. It copies {@code users} as it is into {@code users_connect}
 * (same columns): the demo transform cannot be expressed with these connectors' configuration alone.
 * Timed from the connectors' submission to a running worker (as on a Connect cluster that is already up)
 * until the target's row count equals the source's; the worker's own start-up is reported apart.
 */
final class KafkaConnectApproach implements Approach {
    private static final Duration TIMEOUT = Duration.ofMinutes(30);

    @Override
    public String key() {
        return "kafka-connect";
    }

    @Override
    public String label() {
        return "Kafka Connect (Debezium source + JDBC sink)";
    }

    @Override
    public ApproachResult run(BenchContext ctx) throws Exception {
        if (!ctx.options().kafkaConnect()) {
            return ApproachResult.notRun(this, "disabled with --no-kafka-connect");
        }
        ConnectionSpec db = ConnectionSpec.of(ctx.jdbcUrl(), ctx.infra().user(), Secret.of(ctx.infra().password(), "embedded"));
        try (Connection c = ctx.connect()) {
            BenchDatabase.execute(c, "DROP TABLE IF EXISTS " + KafkaConnectConfigs.TARGET_TABLE);
            BenchDatabase.execute(c, "CREATE TABLE " + KafkaConnectConfigs.TARGET_TABLE
                    + " (id bigint PRIMARY KEY, name text, email text, created_at timestamptz)");
        }
        // The broker does not create topics on first use; the same partition count as pgbackfill's topics.
        BenchTopics.awaitCreated(new io.pgbackfill.core.spec.KafkaSpec(ctx.infra().kafkaBootstrapServers(), null, ctx.options().partitions()), List.of(KafkaConnectConfigs.TOPIC), ctx.options().partitions(),
                Duration.ofSeconds(30));
        Path state = Files.createDirectories(ctx.workDir().resolve("kafka-connect"));
        long expected = ctx.sourceRows();
        long w0 = System.nanoTime();
        KafkaConnectWorker worker;
        try {
            worker = KafkaConnectWorker.start(KafkaConnectConfigs.worker(ctx.infra().kafkaBootstrapServers(), state));
        } catch (RuntimeException e) {
            return ApproachResult.notRun(this, "the Connect worker did not start: " + e.getMessage());
        }
        double workerStartSeconds = (System.nanoTime() - w0) / 1e9;
        ctx.log("Connect worker up in %.1f s", workerStartSeconds);
        double seconds;
        Map<String, Double> cpuSeconds;
        Map<String, Double> serverCpuSeconds;
        try (worker; Connection c = ctx.connect(); ThreadCpu cpu = ThreadCpu.start()) {
            ServerCpu serverCpu = ServerCpu.start();
            long t0 = System.nanoTime();
            worker.submit("bench-postgres-source", KafkaConnectConfigs.postgresSource(db));
            worker.submit("bench-jdbc-sink", KafkaConnectConfigs.jdbcSink(db));
            seconds = awaitRows(ctx, worker, c, expected, t0);
            cpuSeconds = cpu.since();
            serverCpuSeconds = serverCpu.since();
        }
        long mismatches;
        long v0;
        try (Connection c = ctx.connect()) {
            BenchDatabase.dropSlot(c, KafkaConnectConfigs.SLOT);
            BenchDatabase.execute(c, "DROP PUBLICATION IF EXISTS " + KafkaConnectConfigs.SLOT);
            v0 = System.nanoTime();
            mismatches = TransformOracle.copyMismatches(c, "users", KafkaConnectConfigs.TARGET_TABLE);
        }
        double verifySeconds = (System.nanoTime() - v0) / 1e9;
        Map<String, Object> extras = new LinkedHashMap<>();
        extras.put("workerStartSeconds", workerStartSeconds);
        extras.put("plainCopy", true);
        extras.put("cpuSeconds", cpuSeconds);
        extras.put("serverCpuSeconds", serverCpuSeconds);
        return ApproachResult.verified(this, expected, seconds, verifySeconds, mismatches,
                String.format(Locale.ROOT, "plain copy, transform not expressible; worker start %.1f s not counted; JVM CPU %.1f s until the target"
                        + " held every row; %s", workerStartSeconds, cpuSeconds.get("total"), ServerCpu.describe(serverCpuSeconds)), extras);
    }

    /** Polls the target's count (every second, then faster near the end) until it equals the source's. */
    private static double awaitRows(BenchContext ctx, KafkaConnectWorker worker, Connection c, long expected, long t0) throws Exception {
        long deadline = t0 + TIMEOUT.toNanos();
        long nextPrint = System.nanoTime() + 5_000_000_000L;
        while (true) {
            long rows = BenchDatabase.count(c, KafkaConnectConfigs.TARGET_TABLE);
            long now = System.nanoTime();
            if (rows >= expected) {
                return (now - t0) / 1e9;
            }
            for (String name : List.of("bench-postgres-source", "bench-jdbc-sink")) {
                String failure = worker.failure(name);
                if (failure != null) {
                    throw new IllegalStateException(failure);
                }
            }
            if (now > deadline) {
                throw new IllegalStateException("the target held " + rows + " of " + expected + " rows after " + TIMEOUT.toMinutes() + " min");
            }
            if (now > nextPrint) {
                ctx.log("[%5.1fs] kafka connect: %,d/%,d rows in %s", (now - t0) / 1e9, rows, expected, KafkaConnectConfigs.TARGET_TABLE);
                nextPrint = now + 5_000_000_000L;
            }
            Thread.sleep(rows >= expected * 9 / 10 ? 100 : 1000);
        }
    }
}
