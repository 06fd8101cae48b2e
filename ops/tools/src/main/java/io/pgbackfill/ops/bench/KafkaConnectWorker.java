package io.pgbackfill.ops.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.connect.cli.ConnectStandalone;
import org.apache.kafka.connect.runtime.Connect;
import org.apache.kafka.connect.runtime.Herder;
import org.apache.kafka.connect.runtime.rest.entities.ConfigInfo;
import org.apache.kafka.connect.runtime.rest.entities.ConfigInfos;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorInfo;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.apache.kafka.connect.runtime.standalone.StandaloneHerder;
import org.apache.kafka.connect.util.FutureCallback;

/**
 * A Kafka Connect standalone worker in this JVM, started the way connect-standalone.sh starts one
 * ({@link ConnectStandalone}), with connectors submitted to its herder instead of read from files.
 */
final class KafkaConnectWorker implements AutoCloseable {
    private final Connect<StandaloneHerder> connect;

    private KafkaConnectWorker(Connect<StandaloneHerder> connect) {
        this.connect = connect;
    }

    /**
     * Starts a worker. ConnectStandalone calls System.exit when it cannot start, which would end the whole
     * bench: turn that into an exception while it starts. It also swaps the thread's context class loader
     * for its plugin loader; ours is restored.
     */
    static KafkaConnectWorker start(Map<String, String> workerProps) {
        ClassLoader ours = Thread.currentThread().getContextClassLoader();
        Exit.setExitProcedure((code, message) -> {
            throw new IllegalStateException("Kafka Connect could not start (exit " + code + (message == null ? "" : ": " + message)
                    + "); its log above says why");
        });
        try {
            return new KafkaConnectWorker(new ConnectStandalone().startConnect(workerProps));
        } finally {
            Exit.resetExitProcedure();
            Thread.currentThread().setContextClassLoader(ours);
        }
    }

    /**
     * Validates the config, then starts the connector. Validating first gives the real errors: Connect 4.3's own
     * error message for a rejected config fails with a NullPointerException when a connector leaves some of its
     * keys unvalidated (Debezium's do).
     */
    void submit(String name, Map<String, String> connectorConfig) throws Exception {
        Map<String, String> config = new LinkedHashMap<>(connectorConfig);
        config.put("name", name);
        FutureCallback<ConfigInfos> validated = new FutureCallback<>();
        connect.herder().validateConnectorConfig(config, validated);
        ConfigInfos infos = validated.get(2, TimeUnit.MINUTES);
        if (infos.errorCount() > 0) {
            List<String> errors = infos.configs().stream().map(ConfigInfo::configValue).filter(Objects::nonNull)
                    .flatMap(v -> v.errors().stream().map(e -> v.name() + ": " + e)).toList();
            throw new IllegalArgumentException(name + ": Kafka Connect rejected the config: " + String.join("; ", errors));
        }
        FutureCallback<Herder.Created<ConnectorInfo>> done = new FutureCallback<>();
        connect.herder().putConnectorConfig(name, config, false, done);
        done.get(2, TimeUnit.MINUTES);
    }

    /** Why the connector or one of its tasks failed, or null while they run. */
    String failure(String name) {
        ConnectorStateInfo status = connect.herder().connectorStatus(name);
        if ("FAILED".equals(status.connector().state())) {
            return name + " failed: " + firstLine(status.connector().trace());
        }
        for (ConnectorStateInfo.TaskState task : status.tasks()) {
            if ("FAILED".equals(task.state())) {
                return name + " task " + task.id() + " failed: " + firstLine(task.trace());
            }
        }
        return null;
    }

    private static String firstLine(String trace) {
        if (trace == null) {
            return "(no trace)";
        }
        // Connect's trace is a whole stack; the causes carry the reason, so keep every "Caused by" line.
        StringBuilder sb = new StringBuilder(trace.lines().findFirst().orElse(""));
        trace.lines().filter(l -> l.startsWith("Caused by")).forEach(l -> sb.append(" / ").append(l));
        return sb.toString();
    }

    @Override
    public void close() {
        connect.stop();
    }
}
