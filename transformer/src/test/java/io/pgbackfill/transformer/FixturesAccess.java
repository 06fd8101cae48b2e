package io.pgbackfill.transformer;

import io.pgbackfill.core.transform.MigrationPlan;

/** Lets the benchmark (another package) use the test fixtures. */
public final class FixturesAccess {
    private FixturesAccess() {
    }

    public static MigrationPlan plan() {
        return Fixtures.plan();
    }
}
