package io.pgbackfill.transformer;

import io.pgbackfill.core.event.DeadLetter;
import io.pgbackfill.core.DeadLetterCounts;
import io.pgbackfill.core.event.ChangeEvent;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.event.RowChange;
import io.pgbackfill.core.transform.RowRejected;
import io.pgbackfill.core.transform.TableTransform;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * One raw change event in, zero or more target row changes out (or one dead letter). Everything it
 * emits keeps the partition number it came from (see {@link TransformTopology.InputPartition}).
 */
final class TransformProcessor implements Processor<byte[], byte[], byte[], byte[]> {
    private final TableTransform transform;
    private final String rowsSink;
    private final String dlqSink;
    private final TransformMetrics metrics;
    private ProcessorContext<byte[], byte[]> context;

    TransformProcessor(TableTransform transform, String rowsSink, String dlqSink, TransformMetrics metrics) {
        this.transform = transform;
        this.rowsSink = rowsSink;
        this.dlqSink = dlqSink;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<byte[], byte[]> context) {
        this.context = context;
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        metrics.in.incrementAndGet();
        ChangeEvent event;
        try {
            event = EventCodec.decodeChange(record.value());
        } catch (IllegalArgumentException e) {
            deadLetter(record, "malformed event", "malformed event", e.getClass().getSimpleName(), e.getMessage(), null);
            return;
        }
        List<RowChange> out;
        try {
            out = transform.apply(event);
        } catch (RowRejected e) {
            deadLetter(record, e.reasonText(), e.reason().label(), e.reason().name(), e.getMessage(), e.column());
            out = transform.withdrawal(event).stream().toList();
        } catch (RuntimeException e) {
            deadLetter(record, RowRejected.Reason.EXPRESSION_ERROR.label(), RowRejected.Reason.EXPRESSION_ERROR.label(), e.getClass().getSimpleName(),
                    String.valueOf(e.getMessage()), null);
            out = transform.withdrawal(event).stream().toList();
        }
        TransformTopology.InputPartition.set(inputPartition());
        for (RowChange rc : out) {
            byte[] key = rc.isWatermark() || rc.isTruncate() ? null : EventCodec.encodeKey(rc.key());
            context.forward(new Record<>(key, EventCodec.encode(rc), record.timestamp()), rowsSink);
            metrics.out.incrementAndGet();
        }
    }

    private int inputPartition() {
        return context.recordMetadata().map(RecordMetadata::partition).orElse(0);
    }

    /** {@code countedAs}: the reason's label for metrics, without a spec author's words (which could carry row values). */
    private void deadLetter(Record<byte[], byte[]> record, String reason, String countedAs, String errorClass, String message, String column) {
        RecordMetadata md = context.recordMetadata().orElseThrow();
        Record<byte[], byte[]> dlq = new Record<>(record.key(), record.value(), record.timestamp(),
                DeadLetter.headers("transformer", reason, errorClass, message, column, md.topic(), md.partition(), md.offset()));
        context.forward(dlq, dlqSink);
        metrics.dlq.incrementAndGet();
        metrics.deadLetters.add(transform.target().id(), countedAs);
    }

    /** Counters of one transformer instance, across its tables. */
    static final class TransformMetrics {
        final AtomicLong in = new AtomicLong();
        final AtomicLong out = new AtomicLong();
        final AtomicLong dlq = new AtomicLong();
        final DeadLetterCounts deadLetters = new DeadLetterCounts();
    }
}
