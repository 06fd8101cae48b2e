package io.pgbackfill.producer;

import com.fasterxml.jackson.core.type.TypeReference;
import io.pgbackfill.core.event.EventCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The producer's own progress, beside Debezium's offsets in the state directory
 * ({@code producer-state.json}, replaced atomically): per table, snapshot rows read so far, whether its
 * snapshot finished, and the last source LSN seen. {@code status} reads it; a restart continues it.
 */
public record ProducerState(Map<String, TableProgress> tables, long lastLsn, long updatedAtMs) {
    public static final String FILE = "producer-state.json";

    /**
     * @param resumeAfter during the initial scan: the primary key of the last row read and flushed to Kafka
     *                    (the scan goes in key order), so a restart reads only the rest
     */
    public record TableProgress(long rowsRead, long estimatedRows, boolean snapshotDone, java.util.Map<String, Object> resumeAfter) {
    }

    public static ProducerState read(Path stateDir) {
        Path f = stateDir.resolve(FILE);
        if (!Files.exists(f)) {
            return new ProducerState(new LinkedHashMap<>(), 0, 0);
        }
        try {
            return EventCodec.MAPPER.readValue(f.toFile(), new TypeReference<ProducerState>() { });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f, e);
        }
    }

    public void write(Path stateDir) {
        try {
            Files.createDirectories(stateDir);
            Path tmp = stateDir.resolve(FILE + ".tmp");
            EventCodec.MAPPER.writeValue(tmp.toFile(), this);
            Files.move(tmp, stateDir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write producer state in " + stateDir, e);
        }
    }
}
