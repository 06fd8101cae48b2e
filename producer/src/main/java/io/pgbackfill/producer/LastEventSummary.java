package io.pgbackfill.producer;

import io.debezium.connector.common.BaseSourceTask;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.source.EngineSourceTask;
import io.debezium.pipeline.ChangeEventSourceCoordinator;
import io.debezium.pipeline.meters.CommonEventMeter;
import io.debezium.pipeline.metrics.PipelineMetrics;
import io.debezium.pipeline.source.spi.EventMetadataProvider;
import io.debezium.pipeline.spi.OffsetContext;
import io.debezium.pipeline.txmetadata.TransactionInfo;
import io.debezium.spi.schema.DataCollectionId;
import java.lang.reflect.Field;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Struct;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Debezium 3.6 renders every event into a summary string for its JMX attribute {@code LastEvent}, and builds a new
 * Jackson {@code ObjectMapper} per event to do it (fixed upstream by debezium/debezium#7886, not in the release we
 * use). In the 1M-row demo that was a quarter of all bytes the JVM allocated (~12 KB per event, so more young
 * collections) and about a fifth of the snapshot reader thread's CPU. pgbackfill never reads that attribute, so
 * once the connector task runs we swap the metadata provider of its two event meters (snapshot, streaming) for one
 * whose summary is the table's name; every other metric is untouched.
 *
 * <p>The fields are Debezium's internals. If they are not there (another Debezium version), we log once and
 * leave everything as it is: only the cost stays. Once the upstream fix is released, delete this class.
 */
final class LastEventSummary {
    private static final Logger LOG = LoggerFactory.getLogger(LastEventSummary.class);

    private Object patchedCoordinator;
    private boolean gaveUp;

    /** Cheap per batch: it only looks deeper when the engine's task has a coordinator it has not patched yet. */
    void makeCheap(DebeziumEngine<?> engine) {
        if (gaveUp) {
            return;
        }
        try {
            for (Object t : (List<?>) field(engine.getClass(), "tasks").get(engine)) {
                if (((EngineSourceTask) t).connectTask() instanceof BaseSourceTask<?, ?> task) {
                    Object coordinator = field(BaseSourceTask.class, "coordinator").get(task);
                    if (coordinator != null && coordinator != patchedCoordinator) {
                        patch(coordinator, "snapshotMetrics");
                        patch(coordinator, "streamingMetrics");
                        patchedCoordinator = coordinator; // a task restarted by the engine gets a new one
                        LOG.debug("Debezium LastEvent summaries reduced to the table name");
                    }
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            gaveUp = true;
            LOG.info("Debezium's LastEvent metric keeps its per-event cost ({})", e.toString());
        }
    }

    private static void patch(Object coordinator, String metricsField) throws ReflectiveOperationException {
        if (field(ChangeEventSourceCoordinator.class, metricsField).get(coordinator) instanceof PipelineMetrics<?> metrics) {
            CommonEventMeter meter = (CommonEventMeter) field(PipelineMetrics.class, "commonEventMeter").get(metrics);
            Field provider = field(CommonEventMeter.class, "metadataProvider");
            if (!(provider.get(meter) instanceof TableOnly)) {
                provider.set(meter, new TableOnly((EventMetadataProvider) provider.get(meter)));
            }
        }
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        Field f = type.getDeclaredField(name);
        f.setAccessible(true);
        return f;
    }

    /** The original provider for everything but the summary, which is the table's name (no allocation). */
    private record TableOnly(EventMetadataProvider original) implements EventMetadataProvider {
        @Override
        public Instant getEventTimestamp(DataCollectionId source, OffsetContext offset, Object key, Struct value) {
            return original.getEventTimestamp(source, offset, key, value);
        }

        @Override
        public Map<String, String> getEventSourcePosition(DataCollectionId source, OffsetContext offset, Object key, Struct value) {
            return original.getEventSourcePosition(source, offset, key, value);
        }

        @Override
        public String getTransactionId(DataCollectionId source, OffsetContext offset, Object key, Struct value) {
            return original.getTransactionId(source, offset, key, value);
        }

        @Override
        public TransactionInfo getTransactionInfo(DataCollectionId source, OffsetContext offset, Object key, Struct value) {
            return original.getTransactionInfo(source, offset, key, value);
        }

        @Override
        public String toSummaryString(DataCollectionId source, OffsetContext offset, Object key, Struct value) {
            return source == null ? null : source.identifier();
        }
    }
}
