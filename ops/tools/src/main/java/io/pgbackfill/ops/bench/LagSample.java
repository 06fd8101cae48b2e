package io.pgbackfill.ops.bench;

/**
 * One tracked write: when it committed (seconds since the phase started) and how long after that the
 * target first showed it, both read from PostgreSQL's clock.
 */
record LagSample(double writtenAtSeconds, double lagMillis, boolean duringSnapshot) {
}
