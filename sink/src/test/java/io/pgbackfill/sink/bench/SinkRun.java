package io.pgbackfill.sink.bench;

import io.pgbackfill.core.Secret;
import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.embedded.EmbeddedPostgresServer;
import io.pgbackfill.sink.RowSink;
import io.pgbackfill.sink.SinkConfig;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

/**
 * The real sink stage (RowSink: consumer group, decode, reduce, BatchWriter) on a fresh target, timed
 * until it has committed {@code rows} rows. Each run is its own pipeline, so its own consumer group,
 * reading the shared rows topic from the start.
 */
final class SinkRun {
    static final String TOPIC_PREFIX = "bench";

    private SinkRun() {
    }

    static String rowsTopic() {
        return TOPIC_PREFIX + ".rows.public." + BenchRows.TABLE;
    }

    static BenchResult run(String path, String pipeline, EmbeddedPostgresServer pg, String bootstrap, int partitions,
                           long rows, int batchSize, int copyThreshold) throws Exception {
        try (Connection c = pg.connect(SinkBenchmark.DATABASE)) {
            BenchRows.createTarget(c);
        }
        PipelineSpec spec = SpecLoader.parse("""
                name: %s
                source: {jdbcUrl: x}
                kafka: {topicPrefix: %s, partitions: %d}
                sink: {batchSize: %d, lingerMs: 50, copyThreshold: %d}
                tables:
                  - source: public.users
                    target: public.%s
                    columns: {id: id, first_name: first_name, last_name: last_name, email: email, created_at: created_at}
                """.formatted(pipeline, TOPIC_PREFIX, partitions, batchSize, copyThreshold, BenchRows.TABLE), "bench.yaml");
        spec = spec.withConnections(ConnectionSpec.of(pg.jdbcUrl(SinkBenchmark.DATABASE), pg.user(), Secret.of("", "bench")), null)
                .withKafka(spec.kafka().withBootstrapServers(bootstrap));
        long start;
        long firstAt = 0;
        long firstRows = 0;
        long end;
        try (RowSink sink = new RowSink(spec, SinkConfig.from(spec.sink()))) {
            start = System.nanoTime();
            sink.start();
            while (sink.rowsWritten() < rows) {
                if (sink.failure() != null) {
                    throw new IllegalStateException(path + " failed", sink.failure());
                }
                if (firstAt == 0 && sink.rowsWritten() > 0) {
                    firstAt = System.nanoTime();
                    firstRows = sink.rowsWritten();
                }
                Thread.sleep(1);
            }
            end = System.nanoTime();
        }
        long inTarget = count(pg);
        if (inTarget < rows) {
            throw new IllegalStateException(path + ": the sink reported " + rows + " rows, the target holds " + inTarget);
        }
        double steadySeconds = (end - firstAt) / 1e9;
        return new BenchResult(path, batchSize, rows, (end - start) / 1e9, (rows - firstRows) / steadySeconds);
    }

    static long count(EmbeddedPostgresServer pg) throws Exception {
        try (Connection c = pg.connect(SinkBenchmark.DATABASE); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM " + BenchRows.TABLE)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
