package io.pgbackfill.ops.pipeline;

import io.pgbackfill.core.Stage;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.producer.ChangeEventProducer;
import io.pgbackfill.producer.ProducerConfig;
import io.pgbackfill.sink.RowSink;
import io.pgbackfill.sink.SinkConfig;
import io.pgbackfill.transformer.TransformerApp;
import io.pgbackfill.transformer.TransformerConfig;
import java.nio.file.Path;

/**
 * The three stages in one JVM (demo, `backfill up`): producer → raw topics → transformer → rows
 * topics → sink. Each stage is the same class its own service runs; they share nothing but Kafka.
 */
public final class Pipeline implements Stage {
    static final int STAGES = 3;
    private boolean closed;
    private final ChangeEventProducer producer;
    private final TransformerApp transformer;
    private final RowSink sink;

    public Pipeline(MigrationPlan plan, Path stateDir, SinkConfig sinkConfig) {
        this(plan, stateDir, sinkConfig, false);
    }

    /** @param freshState discard producer state that belongs to another source instead of refusing to start */
    public Pipeline(MigrationPlan plan, Path stateDir, SinkConfig sinkConfig, boolean freshState) {
        // Three stages share this heap: each gets a third of the byte budget (MemoryBudget).
        this.producer = new ChangeEventProducer(ProducerConfig.of(plan.spec(), stateDir.resolve("producer")).withFreshState(freshState)
                .withStagesInJvm(STAGES));
        this.transformer = new TransformerApp(plan, TransformerConfig.of(stateDir.resolve("streams")).withStagesInJvm(STAGES));
        this.sink = new RowSink(plan.spec(), sinkConfig.withStagesInJvm(STAGES));
    }

    public void start() throws Exception {
        // Downstream first: they create their topics and are ready when the first events arrive.
        producer.checkSource(); // a lost slot or foreign state: fail in seconds, before the other stages start
        try {
            sink.start();
            transformer.start();
            producer.start();
        } catch (Exception e) {
            // A stage that refuses to start (a lost slot, deleted events, foreign state) stops the others too.
            try {
                close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    public ChangeEventProducer producer() {
        return producer;
    }

    public TransformerApp transformer() {
        return transformer;
    }

    public RowSink sink() {
        return sink;
    }

    /** Running while the transformer's Kafka Streams is (the producer and the sink report through failure()). */
    @Override
    public boolean isRunning() {
        return failure() == null && transformer.isRunning();
    }

    /** The first failure of any stage, or null. */
    @Override
    public Throwable failure() {
        if (producer.failure() != null) {
            return producer.failure();
        }
        if (transformer.failure() != null) {
            return transformer.failure();
        }
        return sink.failure();
    }

    /** Closes the stages once; a second call does nothing (a caller may close early and again in its try block). */
    @Override
    public synchronized void close() throws Exception {
        if (closed) {
            return;
        }
        closed = true;
        Exception first = null;
        for (AutoCloseable c : new AutoCloseable[] {producer, transformer, sink}) {
            try {
                c.close();
            } catch (Exception e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
