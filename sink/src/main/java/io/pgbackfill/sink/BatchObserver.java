package io.pgbackfill.sink;

/** Hears of each batch the sink committed: rows written and the time from write to offset commit. Must be cheap. */
@FunctionalInterface
public interface BatchObserver {
    BatchObserver NONE = (rows, nanos) -> { };

    void batchCommitted(long rows, long nanos);
}
