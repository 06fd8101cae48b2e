package io.pgbackfill.transformer;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.core.transform.TableTransform;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * The stream graph, per table: raw topic → {@link TransformProcessor} → rows topic (keyed by the target
 * key, same partition number as the raw event) and dead-letter topic. No state stores, no repartition
 * topics: one event in, its rows out. Raw and rows topics must have the same partition count.
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
            topology.addSink(rows, spec.rowsTopic(t), new ByteArraySerializer(), new ByteArraySerializer(), new InputPartition(), processor);
            topology.addSink(dlq, spec.dlqTopic(t), new ByteArraySerializer(), new ByteArraySerializer(), processor);
            i++;
        }
        return topology;
    }

    /**
     * Rows go to the partition number their event came from. Why not hash the target key: a watermark
     * on partition p promises "everything before me on p is here"; that only holds if p receives the rows
     * of exactly the source keys that raw partition p had. The target key is a function of the source
     * primary key (checked at start), so every version of a target row still travels one partition, in order.
     * The processor sets the input partition on this thread right before it forwards; the partitioner runs
     * synchronously inside that forward.
     */
    static final class InputPartition implements StreamPartitioner<byte[], byte[]> {
        private static final ThreadLocal<Integer> CURRENT = ThreadLocal.withInitial(() -> 0);

        static void set(int partition) {
            CURRENT.set(partition);
        }

        @Override
        public Optional<Set<Integer>> partitions(String topic, byte[] key, byte[] value, int numPartitions) {
            return Optional.of(Set.of(CURRENT.get() % numPartitions));
        }
    }
}
