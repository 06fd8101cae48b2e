package io.pgbackfill.ops.commands;

import io.pgbackfill.ops.BackfillCli;
import io.pgbackfill.ops.preflight.Check;
import io.pgbackfill.ops.preflight.Preflight;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "preflight", mixinStandardHelpOptions = true,
        description = {"Checks the source, the target and Kafka before a pipeline starts (read-only): wal_level, the slot (a lost one",
                "fails), free slots and WAL senders, max_slot_wal_keep_size, keys, replica identity, privileges, the spec against both",
                "catalogs, long transactions, disk headroom, and the retention, cleanup policy and replication of the pipeline's",
                "existing topics. Each check prints PASS, WARN or FAIL with the fix. Exit 1 on any FAIL."})
public final class PreflightCommand implements Callable<Integer> {
    @Mixin
    SpecArgs spec;

    @Override
    public Integer call() {
        List<Check> checks = new Preflight(spec.spec(), spec.file().toString()).run();
        checks.forEach(System.out::println);
        boolean ok = Preflight.passed(checks);
        System.out.println(ok ? "preflight: PASS" : "preflight: FAIL");
        return ok ? BackfillCli.OK : BackfillCli.PROBLEM;
    }
}
