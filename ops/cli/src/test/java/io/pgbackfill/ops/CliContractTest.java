package io.pgbackfill.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbackfill.ops.commands.ExitCode;
import io.pgbackfill.ops.pipeline.FatalErrors;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The CLI's contract with its users: argument errors exit 2, whole-sentence summaries, exit codes in the help. */
class CliContractTest {
    @Test
    void argumentErrorsExitTwo() {
        assertThat(CliRun.of("nosuchcommand").exitCode()).as("unknown command").isEqualTo(ExitCode.CANNOT_START);
        assertThat(CliRun.of("verify").exitCode()).as("missing SPEC").isEqualTo(ExitCode.CANNOT_START);
        assertThat(CliRun.of("verify", "--no-such-option", "x.yaml").exitCode()).as("unknown option").isEqualTo(ExitCode.CANNOT_START);
        assertThat(CliRun.of("dlq", "show").exitCode()).as("missing SPEC of a nested command").isEqualTo(ExitCode.CANNOT_START);
    }

    @Test
    void everySummaryIsAWholeSentence() {
        List<String> summaries = new ArrayList<>();
        collect(BackfillCli.commandLine(), summaries);
        assertThat(summaries).hasSizeGreaterThan(15).allSatisfy(s -> assertThat(s).as("summary").endsWith("."));
        CliRun help = CliRun.of("--help");
        assertThat(help.exitCode()).isZero();
        // A hand-wrapped first line would show cut in the command list: each listed summary ends a sentence.
        assertThat(help.output()).contains("Exit codes:").contains("Cannot start (bad arguments or spec");
    }

    @Test
    void everyCommandListsTheExitCodes() {
        CliRun help = CliRun.of("cutover", "--help");
        assertThat(help.output()).contains("Exit codes:").contains("Failed while running.");
    }

    @Test
    void aFatalErrorHaltsWithTheFailedCode() {
        assertThat(FatalErrors.EXIT_CODE).isEqualTo(ExitCode.FAILED);
    }

    private static void collect(CommandLine cl, List<String> out) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            String[] header = sub.getCommandSpec().usageMessage().header();
            String[] description = sub.getCommandSpec().usageMessage().description();
            out.add(sub.getCommandName() + ": " + (header.length > 0 ? header[0] : description.length > 0 ? description[0] : ""));
            collect(sub, out);
        }
    }
}
