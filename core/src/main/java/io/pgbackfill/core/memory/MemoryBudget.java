package io.pgbackfill.core.memory;

import io.pgbackfill.core.kafka.KafkaTopics;
import io.pgbackfill.core.spec.MemorySpec;

/**
 * Bytes of records one stage may hold, and the Kafka, Debezium and sink settings derived from them. Every stage holds
 * records in several places at once (the fetched bytes, the decoded values, the encoded output, the producer's
 * buffer), so a stage's records may take up to {@link #COPIES} times its budget; the default budget leaves as much
 * again for everything else. Row counts stay at their defaults for small rows and shrink for large ones.
 *
 * @param heapBytes   the JVM's maximum heap
 * @param stages      stages sharing that heap (3 for {@code backfill up}, 1 for a service)
 * @param stageBytes  bytes of records one stage may hold
 * @param fromSpec    true when {@code memory.stageBudgetMiB} set it, false when derived from the heap
 */
public record MemoryBudget(long heapBytes, int stages, long stageBytes, boolean fromSpec) {
    public static final long MIB = 1024L * 1024;
    /** Heap every JVM needs besides records: classes, JIT, Kafka clients, Debezium, CEL. */
    public static final long BASE_BYTES = 96 * MIB;
    /** How many times its record bytes a stage may hold at the peak (fetched, decoded, encoded, buffered to send). */
    public static final int COPIES = 4;
    static final long MIN_STAGE = 4 * MIB;
    static final long MAX_STAGE = 256 * MIB;

    /** The budget for this JVM: from the spec if set there, otherwise derived from the maximum heap. */
    public static MemoryBudget forThisJvm(MemorySpec spec, int stages) {
        return derive(spec, Runtime.getRuntime().maxMemory(), stages);
    }

    /** {@code stageBudgetMiB} if set, otherwise (heap − 96 MiB) / (8 × stages), between 4 and 256 MiB. */
    public static MemoryBudget derive(MemorySpec spec, long heapBytes, int stages) {
        if (spec != null && spec.stageBudgetMiB() != null) {
            return new MemoryBudget(heapBytes, stages, spec.stageBudgetMiB() * MIB, true);
        }
        long derived = (heapBytes - BASE_BYTES) / (2L * COPIES * Math.max(1, stages));
        return new MemoryBudget(heapBytes, stages, Math.max(MIN_STAGE, Math.min(MAX_STAGE, derived)), false);
    }

    /** Rows of about {@code rowBytes} that fit the budget, at least 1 and at most {@code defaultRows}. */
    public int rows(long rowBytes, int defaultRows) {
        long fit = stageBytes / Math.max(1, rowBytes);
        return (int) Math.max(1, Math.min(defaultRows, fit));
    }

    /** Kafka producer buffer.memory: the budget, but at least one record of the largest size plus room to batch. */
    public long producerBufferBytes() {
        return Math.max(stageBytes, KafkaTopics.MAX_RECORD_BYTES + 4 * MIB);
    }

    /** Kafka producer batch.size: 256 KiB (what the pipeline measured fastest) unless the budget is small. */
    public int producerBatchBytes() {
        return (int) Math.max(16 * 1024, Math.min(256 * 1024, stageBytes / 16));
    }

    /**
     * Consumer fetch.max.bytes: half the budget (the consumer holds one fetch while the next one arrives). A record
     * larger than this still comes back, alone: Kafka returns the first batch of a fetch whatever its size.
     */
    public int fetchMaxBytes() {
        return (int) Math.max(MIB, Math.min(Integer.MAX_VALUE, stageBytes / 2));
    }

    /** Consumer max.partition.fetch.bytes: the fetch shared by the partitions one consumer may own. */
    public int partitionFetchBytes(int partitions) {
        return (int) Math.max(64 * 1024, fetchMaxBytes() / Math.max(1, partitions));
    }

    /** Where the budget came from, for messages: which setting to change. */
    public String describe() {
        return (stageBytes / MIB) + " MiB per stage (" + (fromSpec ? "memory.stageBudgetMiB" : "derived from the heap of " + heapBytes / MIB
                + " MiB and " + stages + (stages == 1 ? " stage" : " stages") + "; set memory.stageBudgetMiB to override") + ")";
    }
}
