package io.pgbackfill.ops.commands;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.spec.SpecOverrides;
import io.pgbackfill.core.transform.MigrationPlan;
import java.nio.file.Path;
import java.sql.SQLException;
import picocli.CommandLine.Parameters;

/** The spec file argument shared by every command that works on a pipeline, with environment overrides applied. */
public final class SpecArgs {
    @Parameters(index = "0", paramLabel = "SPEC", description = "the pipeline spec (YAML); env PGBACKFILL_SOURCE_URL, PGBACKFILL_TARGET_URL, "
            + "PGBACKFILL_KAFKA_BOOTSTRAP, PGBACKFILL_SOURCE_USER, PGBACKFILL_TARGET_USER override its connections")
    Path file;

    public PipelineSpec spec() {
        return SpecOverrides.fromEnvironment(SpecLoader.load(file));
    }

    /** The spec compiled against the live catalogs: fails with file:line:column before anything starts. */
    public MigrationPlan plan() throws SQLException {
        return MigrationPlan.connect(spec(), file.toString());
    }

    public Path file() {
        return file;
    }
}
