package io.pgbackfill.producer;

import io.debezium.config.CommonConnectorConfig;
import io.debezium.pipeline.notification.Notification;
import io.debezium.pipeline.notification.channels.NotificationChannel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Debezium notification channel "pgbackfill" (registered through ServiceLoader): hands snapshot
 * notifications (STARTED, IN_PROGRESS, COMPLETED...) to the producer that runs that connector,
 * looked up by the connector's logical name.
 */
public final class SnapshotNotifications implements NotificationChannel {
    public static final String CHANNEL = "pgbackfill";
    private static final Map<String, Consumer<Notification>> LISTENERS = new ConcurrentHashMap<>();
    private String connector;

    static void listen(String connectorName, Consumer<Notification> listener) {
        LISTENERS.put(connectorName, listener);
    }

    static void forget(String connectorName) {
        LISTENERS.remove(connectorName);
    }

    @Override
    public void init(CommonConnectorConfig config) {
        connector = config.getLogicalName();
    }

    @Override
    public String name() {
        return CHANNEL;
    }

    @Override
    public void send(Notification n) {
        Consumer<Notification> l = LISTENERS.get(connector);
        if (l != null) {
            l.accept(n);
        }
    }

    @Override
    public void close() {
    }
}
