package io.pgbackfill.ops.commands;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the producer keeps its local state, and what to do when that state belongs to another source: shared by `producer` and `up`. */
public final class ProducerStateArgs {
    /** The default of every command's --state-dir: env PGBACKFILL_STATE_DIR, else .pgbackfill in the working directory. */
    public static final String DEFAULT_STATE_DIR = "${env:PGBACKFILL_STATE_DIR:-.pgbackfill}";

    @Option(names = "--state-dir", defaultValue = DEFAULT_STATE_DIR,
            description = "Debezium offsets and snapshot progress (default ${DEFAULT-VALUE}); keep it across restarts, or a restart re-snapshots.")
    Path stateDir;

    @Option(names = "--fresh-state", description = {"If the state in --state-dir belongs to another source (system identifier, database",
            "or slot differ), discard it and take a new snapshot instead of refusing to start."})
    boolean freshState;

    public Path stateDir() {
        return stateDir;
    }

    public boolean freshState() {
        return freshState;
    }
}
