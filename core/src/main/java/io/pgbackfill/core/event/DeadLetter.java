package io.pgbackfill.core.event;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The dead-letter record's headers, the wire contract of every {@code <prefix>.dlq.<target>} topic: written by the
 * transformer and the sink, read by {@code backfill dlq}. The value is the original record, untouched, so that
 * {@code backfill dlq replay} can send it through a fixed spec.
 */
public final class DeadLetter {
    public static final String STAGE = "pgbackfill.stage";
    public static final String REASON = "pgbackfill.error.reason";
    public static final String ERROR_CLASS = "pgbackfill.error.class";
    public static final String MESSAGE = "pgbackfill.error.message";
    public static final String COLUMN = "pgbackfill.error.column";
    public static final String SOURCE_TOPIC = "pgbackfill.source.topic";
    public static final String SOURCE_PARTITION = "pgbackfill.source.partition";
    public static final String SOURCE_OFFSET = "pgbackfill.source.offset";

    private DeadLetter() {
    }

    public static Headers headers(String stage, String reason, String errorClass, String message, String column,
                                  String topic, int partition, long offset) {
        RecordHeaders h = new RecordHeaders();
        add(h, STAGE, stage);
        add(h, REASON, reason);
        add(h, ERROR_CLASS, errorClass);
        add(h, MESSAGE, message.length() > 2000 ? message.substring(0, 2000) + "…" : message);
        if (column != null) {
            add(h, COLUMN, column);
        }
        add(h, SOURCE_TOPIC, topic);
        add(h, SOURCE_PARTITION, Integer.toString(partition));
        add(h, SOURCE_OFFSET, Long.toString(offset));
        return h;
    }

    public static String header(Headers h, String key) {
        var v = h.lastHeader(key);
        return v == null ? null : new String(v.value(), StandardCharsets.UTF_8);
    }

    private static void add(RecordHeaders h, String k, String v) {
        h.add(k, v.getBytes(StandardCharsets.UTF_8));
    }
}
