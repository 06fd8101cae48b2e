package io.pgbackfill.ops.commands;

import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecException;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.spec.SpecOverrides;
import io.pgbackfill.core.transform.MigrationPlan;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "spec", mixinStandardHelpOptions = true, description = "Works with spec files.", subcommands = {SpecCommand.Check.class, SpecCommand.Names.class, SpecCommand.KafkaConfig.class})
public final class SpecCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "names", mixinStandardHelpOptions = true,
            description = "Prints the names a spec gives to its Kafka and PostgreSQL objects as KEY=VALUE lines (for scripts).")
    public static final class Names implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        SpecArgs spec;

        @Override
        public Integer call() {
            PipelineSpec s = spec.spec();
            System.out.println("bootstrap_servers=" + s.kafka().bootstrapServers());
            System.out.println("transformer_group=" + s.transformerApplicationId());
            System.out.println("sink_group=" + s.sinkGroupId());
            System.out.println("slot=" + s.slotName());
            System.out.println("publication=" + io.pgbackfill.producer.SourceSetup.publication(s));
            s.tables().forEach(t -> System.out.println("topics=" + s.rawTopic(t) + "," + s.rowsTopic(t) + "," + s.dlqTopic(t)));
            return ExitCode.OK;
        }
    }

    @Command(name = "kafka-config", mixinStandardHelpOptions = true,
            description = {"Writes the Kafka client properties of a spec, secrets resolved, to a file only its owner can read.",
                    "The file is for Kafka's own tools (--command-config). It never prints them."})
    public static final class KafkaConfig implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        SpecArgs spec;

        @Option(names = "--output", required = true, description = "the file to write (created with mode 600, replaced if it exists)")
        Path output;

        @Override
        public Integer call() throws java.io.IOException {
            java.util.Properties p = io.pgbackfill.core.kafka.KafkaClientConfig.of(spec.spec().kafka(), "pgbackfill-tools");
            java.nio.file.Files.deleteIfExists(output);
            java.nio.file.Files.createFile(output, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            try (var w = java.nio.file.Files.newBufferedWriter(output)) {
                p.store(w, "pgbackfill: Kafka client properties of " + spec.file());
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = {"Validates a spec.",
                    "It checks YAML, keys, identifiers, and every expression compiled and type-checked against the live source and target catalogs when they can be reached: each column's type, the functions' types, and",
                    "whether each result fits its target column. With --offline, columns are of unknown type and only the",
                    "syntax and the functions' own types are checked. Prints the compiled plan.",
                    "Exit 0 valid, 2 invalid (each problem as file:line:column: message)."})
    public static final class Check implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "SPEC")
        Path file;

        @Option(names = "--offline", description = "Does not connect: checks syntax, keys, identifiers and the functions' types, with every column of unknown type.")
        boolean offline;

        @Override
        public Integer call() {
            PipelineSpec spec;
            try {
                spec = SpecOverrides.fromEnvironment(SpecLoader.load(file));
                MigrationPlan plan;
                if (offline) {
                    plan = MigrationPlan.compile(spec, file.toString(), Map.of(), Map.of(), false);
                    System.out.println("offline check (columns of unknown type: their catalog types and the target columns are checked only with a connection)");
                } else {
                    try {
                        plan = MigrationPlan.connect(spec, file.toString());
                    } catch (SQLException e) {
                        System.err.println("cannot reach the databases (" + io.pgbackfill.core.Redaction.redact(e.getMessage()) + "); use --offline to check without them");
                        return ExitCode.CANNOT_START;
                    }
                }
                System.out.print(plan.describe());
                if (io.pgbackfill.core.reverse.ReversePipeline.declared(spec)) {
                    // The reverse blocks, like the columns: against both catalogs (the new table is their source).
                    MigrationPlan reverse;
                    try {
                        reverse = offline ? io.pgbackfill.core.reverse.ReversePlan.compile(spec, file.toString(), Map.of(), Map.of(), Map.of(), false)
                                : io.pgbackfill.core.reverse.ReversePlan.connect(spec, file.toString());
                    } catch (SQLException e) {
                        System.err.println("cannot reach the databases (" + io.pgbackfill.core.Redaction.redact(e.getMessage()) + "); use --offline to check without them");
                        return ExitCode.CANNOT_START;
                    }
                    System.out.println("reverse stream (after cutover --reverse-stream):");
                    System.out.print(reverse.describe().indent(2));
                }
                System.out.println("spec OK");
                return ExitCode.OK;
            } catch (SpecException e) {
                System.err.println(e.getMessage());
                return ExitCode.CANNOT_START;
            }
        }
    }
}
