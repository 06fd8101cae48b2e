package io.pgbackfill.ops.bench;

/**
 * One tracked write: when it committed (seconds since the phase started) and how long after that the
 * target first showed it, both read from PostgreSQL's clock; and where that time went ({@link StageTracer}).
 */
record LagSample(double writtenAtSeconds, double lagMillis, boolean duringSnapshot, StageTracer.Stages stages) {
    LagSample(double writtenAtSeconds, double lagMillis, boolean duringSnapshot) {
        this(writtenAtSeconds, lagMillis, duringSnapshot, StageTracer.Stages.UNKNOWN);
    }
}
