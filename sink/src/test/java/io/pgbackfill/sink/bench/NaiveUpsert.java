package io.pgbackfill.sink.bench;

import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.event.RowChange;
import io.pgbackfill.embedded.EmbeddedPostgresServer;
import io.pgbackfill.sink.TargetTable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The baseline: what a sink without batching does. One consumer, and per record one autocommit
 * {@code INSERT … ON CONFLICT DO UPDATE … WHERE lsn guard} (a prepared statement, so the comparison
 * is with batching, not with re-parsing). Timed from the first record read.
 */
final class NaiveUpsert {
    private static final String LSN = TargetTable.LSN_COLUMN;
    private static final String SQL = "INSERT INTO " + BenchRows.TABLE + " AS t (id, first_name, last_name, email, created_at, " + LSN + ") "
            + "VALUES (?::bigint, ?, ?, ?, ?::timestamptz, ?) ON CONFLICT (id) DO UPDATE SET first_name = EXCLUDED.first_name, "
            + "last_name = EXCLUDED.last_name, email = EXCLUDED.email, created_at = EXCLUDED.created_at, " + LSN + " = EXCLUDED." + LSN
            + " WHERE t." + LSN + " IS NULL OR t." + LSN + " <= EXCLUDED." + LSN;

    private NaiveUpsert() {
    }

    static BenchResult run(EmbeddedPostgresServer pg, String bootstrap, long rows) throws Exception {
        try (Connection c = pg.connect(SinkBenchmark.DATABASE)) {
            BenchRows.createTarget(c);
            try (Statement st = c.createStatement()) {
                st.execute("ALTER TABLE " + BenchRows.TABLE + " ADD COLUMN " + LSN + " bigint");
            }
        }
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", "bench-naive-" + System.nanoTime());
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        long written = 0;
        long start = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
             Connection c = pg.connect(SinkBenchmark.DATABASE);
             PreparedStatement ps = c.prepareStatement(SQL)) {
            c.setAutoCommit(true);
            consumer.subscribe(List.of(SinkRun.rowsTopic()));
            while (written < rows) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    if (start == 0) {
                        start = System.nanoTime();
                    }
                    if (written == rows) {
                        break;
                    }
                    RowChange rc = EventCodec.decodeRow(r.value());
                    for (int i = 0; i < BenchRows.COLUMNS.size(); i++) {
                        ps.setString(i + 1, rc.values().get(BenchRows.COLUMNS.get(i)));
                    }
                    ps.setLong(BenchRows.COLUMNS.size() + 1, rc.lsn());
                    ps.executeUpdate();
                    written++;
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new BenchResult("naive: autocommit INSERT ... ON CONFLICT per row", 1, rows, seconds, rows / seconds);
    }
}
