package io.pgbackfill.ops.logging;

import org.slf4j.LoggerFactory;

/** A process that logs a little, for {@link LogFormatTest}. */
public final class LogLines {
    private LogLines() {
    }

    public static void main(String[] args) {
        LoggerFactory.getLogger("io.pgbackfill.progress").info("sink: {} rows/s", "2,000");
        LoggerFactory.getLogger("org.apache.kafka.clients.Metadata").info("Kafka at INFO: not shown");
        LoggerFactory.getLogger("org.apache.kafka.clients.Metadata").warn("Kafka warning");
        System.out.println("stdout stays the command's own");
    }
}
