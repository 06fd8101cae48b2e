package io.pgbackfill.core.spec;

/**
 * Memory settings: how many bytes of records each stage may hold at once, whatever their number.
 *
 * @param stageBudgetMiB bytes (MiB) of records one stage may buffer: Debezium's queue, the Kafka fetches and the
 *                       Streams input buffers, the sink's batch. Default: derived from the JVM's heap
 *                       ({@link io.pgbackfill.core.memory.MemoryBudget#derive}): (heap − 96 MiB) / (8 × stages in
 *                       the JVM), between 4 and 256 MiB; so 52 MiB for one stage at -Xmx512m, 38 MiB for
 *                       {@code backfill up} at -Xmx1g. Row counts (batch sizes, fetch sizes) are lowered to fit it
 *                       when rows are large; a single record larger than it still flows, alone.
 */
public record MemorySpec(Integer stageBudgetMiB) {
    public static final MemorySpec DEFAULT = new MemorySpec(null);

    public MemorySpec {
        stageBudgetMiB = SpecOptions.MEMORY_STAGE_BUDGET_MIB.resolve(stageBudgetMiB); // null: derived from the heap
    }
}
