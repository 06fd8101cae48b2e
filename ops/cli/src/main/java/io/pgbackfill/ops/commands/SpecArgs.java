package io.pgbackfill.ops.commands;

import io.pgbackfill.core.reverse.ReversePipeline;
import io.pgbackfill.core.reverse.ReversePlan;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.spec.SpecOverrides;
import io.pgbackfill.core.transform.MigrationPlan;
import java.nio.file.Path;
import java.sql.SQLException;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The spec file argument shared by every command that works on a pipeline, with environment overrides applied. */
public final class SpecArgs {
    @Parameters(index = "0", paramLabel = "SPEC", description = "the pipeline spec (YAML); env PGBACKFILL_SOURCE_URL, PGBACKFILL_TARGET_URL, "
            + "PGBACKFILL_KAFKA_BOOTSTRAP, PGBACKFILL_SOURCE_USER, PGBACKFILL_TARGET_USER override its connections")
    Path file;

    @Option(names = "--reverse", description = "Work on the reverse stream after a cutover (new table -> old table through the spec's 'reverse' blocks; "
            + "its own slot, topics and groups, named NAME" + ReversePipeline.NAME_SUFFIX + ").")
    boolean reverse;

    public PipelineSpec spec() {
        PipelineSpec forward = forwardSpec();
        return reverse ? ReversePipeline.of(forward) : forward;
    }

    /** The spec as written, whether or not --reverse was given. */
    public PipelineSpec forwardSpec() {
        return SpecOverrides.fromEnvironment(SpecLoader.load(file));
    }

    /** The spec compiled against the live catalogs: fails with file:line:column before anything starts. */
    public MigrationPlan plan() throws SQLException {
        return reverse ? ReversePlan.connect(forwardSpec(), file.toString()) : MigrationPlan.connect(spec(), file.toString());
    }

    public boolean reverse() {
        return reverse;
    }

    /** Local state of this pipeline under {@code base}: the reverse stream's in a directory of its own. */
    public Path stateDir(Path base) {
        return reverse ? base.resolve("reverse") : base;
    }

    public Path file() {
        return file;
    }
}
