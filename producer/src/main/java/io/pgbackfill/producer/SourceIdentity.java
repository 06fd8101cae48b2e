package io.pgbackfill.producer;

import io.pgbackfill.core.event.EventCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/**
 * Which source the producer's local state belongs to ({@code source-identity.json} in the state directory): the
 * cluster's system identifier (from {@code pg_control_system()}, unique per {@code initdb}), the database and the
 * slot. Debezium's offsets are WAL positions of one server: applied to another they skip or repeat its changes, so a
 * state directory of another source is refused rather than resumed (the pipeline name alone does not tell them apart).
 */
public record SourceIdentity(String systemIdentifier, String database, String slot) {
    public static final String FILE = "source-identity.json";

    public static SourceIdentity of(Connection c, String slot) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT system_identifier::text, current_database() FROM pg_control_system()")) {
            rs.next();
            return new SourceIdentity(rs.getString(1), rs.getString(2), slot);
        }
    }

    public static Optional<SourceIdentity> read(Path stateDir) {
        Path f = stateDir.resolve(FILE);
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        try {
            return Optional.of(EventCodec.MAPPER.readValue(f.toFile(), SourceIdentity.class));
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
            throw new UncheckedIOException("cannot write " + FILE + " in " + stateDir, e);
        }
    }

    @Override
    public String toString() {
        return "system " + systemIdentifier + ", database " + database + ", slot " + slot;
    }

    /** Thrown when the state directory belongs to another source: the --state-dir given is the wrong one (exit 2). */
    public static final class Mismatch extends IllegalArgumentException {
        public Mismatch(Path stateDir, SourceIdentity recorded, SourceIdentity actual) {
            super("the producer state in " + stateDir + " belongs to another source (" + recorded + "), not to this one (" + actual
                    + "): its offsets would skip or repeat this source's changes. Use another --state-dir for this source, or pass "
                    + "--fresh-state to discard that state and take a new snapshot");
        }
    }
}
