package io.pgbackfill.ops.bench;

/** One way of filling the target, run and timed by {@link BenchRun}; verifies its own target before it returns. */
public interface Approach {
    /** Short stable name, used in the JSON report. */
    String key();

    /** What the reader sees in the table. */
    String label();

    ApproachResult run(BenchContext ctx) throws Exception;
}
