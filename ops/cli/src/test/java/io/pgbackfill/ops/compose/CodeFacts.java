package io.pgbackfill.ops.compose;

import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecOverrides;
import io.pgbackfill.ops.BackfillCli;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * What the code says a deployment can rely on, asked from the code itself: the CLI's subcommands (picocli), the
 * environment variables a command reads (its options' {@code ${env:NAME}} defaults, {@link SpecOverrides#ALL}),
 * and the password variables a spec names. A rename in the code changes these answers, and the compose checks fail.
 */
final class CodeFacts {
    /** Read by the JVM itself, not by our code: the heap per service (GC and JIT flags are the image's ops/jvm.options). */
    static final Set<String> JVM_VARIABLES = Set.of("JAVA_TOOL_OPTIONS");
    /** The long-running stages; everything else the CLI does runs once and exits. */
    static final Set<String> SERVICES = Set.of("producer", "transformer", "sink", "up");
    /** Stages that share work through a consumer group and so may run as several instances. */
    static final Set<String> SCALABLE = Set.of("transformer", "sink");
    private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:([A-Za-z0-9_]+)");

    private CodeFacts() {
    }

    /** The command a compose {@code command:} selects, parsed as {@code backfill} would; throws on unknown commands or options. */
    static CommandLine parse(List<String> args) {
        ParseResult result = BackfillCli.commandLine().parseArgs(args.toArray(String[]::new));
        while (result.subcommand() != null) {
            result = result.subcommand();
        }
        return result.commandSpec().commandLine();
    }

    static Set<String> subcommandNames() {
        return BackfillCli.commandLine().getSubcommands().keySet();
    }

    /** Variables the command's options fall back to, e.g. PGBACKFILL_STATE_DIR from {@code ${env:PGBACKFILL_STATE_DIR:-.pgbackfill}}. */
    static Set<String> optionVariables(CommandLine command) {
        Set<String> out = new LinkedHashSet<>();
        for (OptionSpec o : command.getCommandSpec().options()) {
            String raw = o.defaultValueString(false);
            if (raw != null) {
                Matcher m = ENV_DEFAULT.matcher(raw);
                while (m.find()) {
                    out.add(m.group(1));
                }
            }
        }
        return out;
    }

    /** The password variables a spec names (passwords never live in the spec). */
    static Set<String> passwordVariables(PipelineSpec spec) {
        Set<String> out = new LinkedHashSet<>();
        for (ConnectionSpec c : new ConnectionSpec[] {spec.source(), spec.target()}) {
            if (c != null && c.passwordEnv() != null) {
                out.add(c.passwordEnv());
            }
        }
        return out;
    }

    /** Everything a container running {@code command} on {@code specs} may usefully set. */
    static Set<String> variablesRead(CommandLine command, List<PipelineSpec> specs, List<String> specOverrides) {
        Set<String> out = new LinkedHashSet<>(specOverrides);
        out.addAll(optionVariables(command));
        specs.forEach(s -> out.addAll(passwordVariables(s)));
        out.addAll(JVM_VARIABLES);
        return out;
    }

    static Set<String> variablesRead(CommandLine command, List<PipelineSpec> specs) {
        return variablesRead(command, specs, SpecOverrides.ALL);
    }
}
