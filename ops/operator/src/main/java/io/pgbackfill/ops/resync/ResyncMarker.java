package io.pgbackfill.ops.resync;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code <state-dir>/resync-pending}: written when a resync starts, removed when it has reconciled the target. While it
 * exists, {@code up} and {@code producer} refuse to start: a pipeline started on a half-done resync would stream on
 * and leave in the target the rows deleted while changes were lost.
 */
public final class ResyncMarker {
    static final String FILE = "resync-pending";

    private ResyncMarker() {
    }

    public static void write(Path stateDir, long from) {
        try {
            Files.createDirectories(stateDir);
            Files.writeString(stateDir.resolve(FILE), "from " + from + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + stateDir.resolve(FILE), e);
        }
    }

    public static void clear(Path stateDir) throws IOException {
        Files.deleteIfExists(stateDir.resolve(FILE));
    }

    /** Refuses to start a stage on a half-done resync (exit 2: the state directory is not ready). */
    public static void refuseIfPending(Path stateDir) {
        if (Files.exists(stateDir.resolve(FILE))) {
            throw new IllegalArgumentException("a resync of this pipeline started (" + stateDir.resolve(FILE) + ") and did not finish: "
                    + "run `backfill resync SPEC` again before starting the pipeline (see ops/runbooks/resync.md)");
        }
    }
}
