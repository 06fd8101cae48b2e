package io.pgbackfill.ops.chaos;

import io.pgbackfill.embedded.FreePort;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

/**
 * A real Kafka broker in a JVM of its own (KRaft combined mode: broker and controller in one process), from this
 * test's classpath: {@code kafka.tools.StorageTool format} once, then {@code kafka.Kafka server.properties}. Its
 * ports and log directory are fixed, so it can be killed with SIGKILL and started again on the same data, the way a
 * broker host crashes and comes back.
 */
final class KafkaBrokerProcess implements AutoCloseable {
    private final Path dir;
    private final int port;
    private final int controllerPort;
    private final Path properties;
    private final ChildProcess process;

    KafkaBrokerProcess(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
        this.port = FreePort.find();
        int c = FreePort.find();
        while (c == port) {
            c = FreePort.find();
        }
        this.controllerPort = c;
        this.properties = dir.resolve("server.properties");
        Files.writeString(properties, String.join("\n", List.of(
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
                "log.dirs=" + dir.resolve("data"),
                // One node: every internal topic needs replication factor 1 (shared/STACK.md).
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=4",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=4",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "default.replication.factor=1",
                "num.partitions=4",
                "auto.create.topics.enable=false",
                "group.initial.rebalance.delay.ms=0",
                // A killed broker's registration blocks its successor until the controller fences it (default 9 s).
                "broker.session.timeout.ms=2000",
                "broker.heartbeat.interval.ms=400",
                // A killed transformer's open transaction blocks read_committed readers until it is aborted on timeout:
                // look for timed-out transactions every second instead of every 10 s.
                "transaction.abort.timed.out.transaction.cleanup.interval.ms=1000",
                "")));
        this.process = new ChildProcess("kafka", ChildProcess.java("kafka.Kafka", List.of(properties.toString())), Map.of(),
                dir.resolve("kafka.log"));
    }

    String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    ChildProcess process() {
        return process;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Formats the log directory for a new cluster id (once, before the first start). */
    void format() throws IOException, InterruptedException {
        ChildProcess format = new ChildProcess("kafka-format", ChildProcess.java("kafka.tools.StorageTool",
                List.of("format", "-t", Uuid.randomUuid().toString(), "-c", properties.toString())), Map.of(), dir.resolve("kafka-format.log"));
        format.start();
        Integer code = format.waitFor(60_000);
        if (code == null || code != 0) {
            format.killHard();
            throw new IllegalStateException("kafka-storage format failed (" + code + "):\n" + format.logTail(40));
        }
    }

    /** Starts the broker and waits until it answers. */
    void start(Duration timeout) throws IOException, InterruptedException {
        process.start();
        awaitReady(timeout);
    }

    void awaitReady(Duration timeout) throws InterruptedException {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "200");
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        try (Admin admin = Admin.create(p)) {
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("the Kafka broker exited with " + process.exitCode() + ":\n" + process.logTail(60));
                }
                try {
                    if (!admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (Exception e) {
                    last = e;
                }
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("the Kafka broker did not answer within " + timeout.toSeconds() + " s (" + last + "):\n" + process.logTail(60));
    }

    /** kill -9 of the broker: unflushed log segments stay in the page cache, as on a process crash. */
    void killHard() throws InterruptedException {
        process.killHard();
    }

    @Override
    public void close() throws InterruptedException {
        process.stop(10_000);
    }
}
