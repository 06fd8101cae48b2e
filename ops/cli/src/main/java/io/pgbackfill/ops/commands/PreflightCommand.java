package io.pgbackfill.ops.commands;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.ops.preflight.Check;
import io.pgbackfill.ops.preflight.Preflight;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "preflight", mixinStandardHelpOptions = true,
        description = {"Checks the source, the target and Kafka before a pipeline starts (read-only).",
                "It checks wal_level, the slot (a lost one fails), free slots and WAL senders, max_slot_wal_keep_size, keys, replica identity, privileges, the spec against both",
                "catalogs, long transactions, disk headroom, and the retention, cleanup policy and replication of the pipeline's",
                "existing topics. Each check prints PASS, WARN or FAIL with the fix. Exit 1 on any FAIL."})
public final class PreflightCommand implements Callable<Integer> {
    @Mixin
    SpecArgs spec;

    @Option(names = "--json", description = "Prints the result as one JSON object instead of text (schema: docs/json-output.md).")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<Check> checks = new Preflight(spec.spec(), spec.file().toString()).run();
        boolean ok = Preflight.passed(checks);
        if (json) {
            ObjectNode root = EventCodec.MAPPER.createObjectNode();
            root.put("kind", "preflight");
            root.put("passed", ok);
            ArrayNode list = root.putArray("checks");
            for (Check c : checks) {
                list.addObject().put("name", c.name()).put("verdict", c.verdict().name()).put("detail", c.detail()).put("fix", c.fix());
            }
            System.out.println(EventCodec.MAPPER.writeValueAsString(root));
            return ok ? ExitCode.OK : ExitCode.PROBLEM;
        }
        checks.forEach(System.out::println);
        System.out.println(ok ? "preflight: PASS" : "preflight: FAIL");
        return ok ? ExitCode.OK : ExitCode.PROBLEM;
    }
}
