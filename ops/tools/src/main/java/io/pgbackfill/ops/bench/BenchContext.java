package io.pgbackfill.ops.bench;

import io.pgbackfill.embedded.Infrastructure;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;

/**
 * What every approach gets: the servers, the database holding the seeded {@code users} table and its
 * row count, the options, a scratch directory for pipeline state, and where to say what it is doing.
 */
public record BenchContext(Infrastructure infra, String database, long sourceRows, BenchOptions options, Path workDir, PrintStream out) {

    public Connection connect() throws SQLException {
        return infra.connect(database);
    }

    public String jdbcUrl() throws SQLException {
        return infra.jdbcUrl(database);
    }

    public void log(String format, Object... args) {
        out.println("  " + String.format(Locale.ROOT, format, args));
    }
}
