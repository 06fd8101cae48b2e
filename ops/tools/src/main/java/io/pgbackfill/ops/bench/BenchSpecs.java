package io.pgbackfill.ops.bench;

import io.pgbackfill.core.Secret;
import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.KafkaSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecText;
import io.pgbackfill.embedded.Infrastructure;
import io.pgbackfill.ops.demo.DemoRun;
import java.io.IOException;
import java.sql.SQLException;

/**
 * The demo's own spec (ops/examples/users-split.yaml: the same transform as everywhere in the bench),
 * pointed at one bench database under its own pipeline name: slot, topics and consumer groups are
 * named after it, so the bench's pipelines never share state with each other or with a demo.
 */
final class BenchSpecs {
    static final String ORIGIN = "ops/examples/users-split.yaml";

    private BenchSpecs() {
    }

    static PipelineSpec usersSplit(Infrastructure infra, String database, String pipelineName, BenchOptions options) throws IOException, SQLException {
        PipelineSpec spec = usersSplit(infra, database, pipelineName, options.partitions());
        return options.snapshotMode() == null ? spec
                : spec.withSnapshot(new io.pgbackfill.core.spec.SnapshotSpec(spec.snapshot().chunkSize(), options.snapshotMode()));
    }

    static PipelineSpec usersSplit(Infrastructure infra, String database, String pipelineName, int partitions) throws IOException, SQLException {
        PipelineSpec bundled = DemoRun.bundledSpec(null);
        ConnectionSpec db = ConnectionSpec.of(infra.jdbcUrl(database), infra.user(), Secret.of(infra.password(), "embedded"));
        return new PipelineSpec(SpecText.of(pipelineName), db, null, new KafkaSpec(infra.kafkaBootstrapServers(), null, partitions),
                bundled.snapshot(), bundled.sink(), bundled.tables(), bundled.cutover());
    }
}
