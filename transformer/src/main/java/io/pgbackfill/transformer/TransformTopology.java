package io.pgbackfill.transformer;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.core.transform.TableTransform;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * The stream graph, per table: raw topic → {@link TransformProcessor} → rows topic (keyed by the target
 * key) and dead-letter topic. No state stores, no repartition topics: one event in, its rows out.
 */
public final class TransformTopology {
    private TransformTopology() {
    }

    static Topology build(MigrationPlan plan, TransformProcessor.TransformMetrics metrics) {
        PipelineSpec spec = plan.spec();
        Topology topology = new Topology();
        int i = 0;
        for (TableSpec t : spec.tables()) {
            TableTransform transform = plan.forSource(t.sourceName().id());
            String source = "raw-" + i;
            String processor = "transform-" + i;
            String rows = "rows-" + i;
            String dlq = "dlq-" + i;
            topology.addSource(source, new ByteArrayDeserializer(), new ByteArrayDeserializer(), spec.rawTopic(t));
            topology.addProcessor(processor, () -> new TransformProcessor(transform, rows, dlq, metrics), source);
            topology.addSink(rows, spec.rowsTopic(t), new ByteArraySerializer(), new ByteArraySerializer(), new RowPartitioner(), processor);
            topology.addSink(dlq, spec.dlqTopic(t), new ByteArraySerializer(), new ByteArraySerializer(), processor);
            i++;
        }
        return topology;
    }

    /** Rows by their target key (Kafka's own murmur2); markers to the partition they name. */
    static final class RowPartitioner implements StreamPartitioner<byte[], byte[]> {
        @Override
        public Optional<Set<Integer>> partitions(String topic, byte[] key, byte[] value, int numPartitions) {
            if (key.length > 0 && key[0] == TransformProcessor.MARKER) {
                int p = Integer.parseInt(new String(key, 1, key.length - 1, StandardCharsets.US_ASCII));
                return Optional.of(Set.of(p % numPartitions));
            }
            return Optional.of(Set.of(Utils.toPositive(Utils.murmur2(key)) % numPartitions));
        }
    }
}
