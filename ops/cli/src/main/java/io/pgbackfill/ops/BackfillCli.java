package io.pgbackfill.ops;

import io.pgbackfill.core.CannotStart;
import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.spec.SpecException;
import io.pgbackfill.ops.commands.*;
import java.util.ServiceLoader;
import org.apache.kafka.common.errors.AuthenticationException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code backfill}: the one command an operator runs. Exit codes ({@link ExitCode}) mean the same everywhere:
 * 0 done and correct; 1 ran but found a problem (mismatch, FAIL check, refused cutover);
 * 2 cannot start (bad spec, bad arguments, unreachable database); 3 failed while running.
 */
@Command(name = "backfill", mixinStandardHelpOptions = true, version = "pgbackfill 0.1.0",
        description = {"Online PostgreSQL data migrations: snapshot + CDC (Debezium) -> transform (Kafka Streams) -> idempotent sink.",
                "", "Typical order: spec check -> rehearse -> preflight -> up -> status -> verify -> cutover -> teardown."},
        subcommands = {SpecCommand.class, RehearseCommand.class, PreflightCommand.class, ServiceCommands.UpCommand.class,
                StatusCommand.class, CtlCommand.class, VerifyCommand.class, CutoverCommand.class, RollbackCommand.class, ResyncCommand.class, TeardownCommand.class, DlqCommand.class,
                ServiceCommands.ProducerCommand.class, ServiceCommands.TransformerCommand.class, ServiceCommands.SinkCommand.class})
public final class BackfillCli implements Runnable {
    /** @deprecated use {@link ExitCode#OK} (kept for branches in flight; remove once they are merged). */
    @Deprecated public static final int OK = ExitCode.OK;
    /** @deprecated use {@link ExitCode#PROBLEM}. */
    @Deprecated public static final int PROBLEM = ExitCode.PROBLEM;
    /** @deprecated use {@link ExitCode#CANNOT_START}. */
    @Deprecated public static final int CANNOT_START = ExitCode.CANNOT_START;
    /** @deprecated use {@link ExitCode#FAILED}. */
    @Deprecated public static final int FAILED = ExitCode.FAILED;

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new BackfillCli());
        // demo and bench come from pgbackfill-tools when it is on the classpath (./backfill from a checkout), not in the image.
        for (ToolCommand tool : ServiceLoader.load(ToolCommand.class)) {
            cl.addSubcommand(tool);
        }
        cl.addSubcommand(new CommandLine.HelpCommand());
        // Every command's help ends with what its exit code means.
        listExitCodes(cl);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            Throwable root = ex;
            if (root instanceof SpecException) {
                cmd.getErr().println(root.getMessage());
                return ExitCode.CANNOT_START;
            }
            for (Throwable t = root; t != null; t = t.getCause()) {
                // Refused credentials or certificates: one line, exit 2, whichever client met them first.
                if (t instanceof CannotStart || t instanceof AuthenticationException) {
                    String m = Redaction.redact(String.valueOf(t.getMessage()));
                    cmd.getErr().println("backfill " + cmd.getCommandName() + ": " + (t instanceof CannotStart ? "" : "Kafka refused the connection: ")
                            + (m.indexOf('\n') < 0 ? m : m.substring(0, m.indexOf('\n'))));
                    return ExitCode.CANNOT_START;
                }
            }
            cmd.getErr().println("backfill " + cmd.getCommandName() + ": " + Redaction.redact(String.valueOf(root.getMessage())));
            return root instanceof java.sql.SQLException || root instanceof IllegalArgumentException ? ExitCode.CANNOT_START : ExitCode.FAILED;
        });
        // Argument errors (unknown command or option, missing SPEC) are "cannot start": exit 2, as the help says.
        cl.setExitCodeExceptionMapper(t -> t instanceof SpecException || t instanceof CommandLine.ParameterException
                ? ExitCode.CANNOT_START : ExitCode.FAILED);
        return cl;
    }

    private static void listExitCodes(CommandLine cl) {
        cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(ExitCode.helpList());
        cl.getCommandSpec().exitCodeOnInvalidInput(ExitCode.CANNOT_START);
        for (CommandLine sub : cl.getSubcommands().values()) {
            listExitCodes(sub);
        }
    }

    public static void main(String[] args) {
        ServiceCommands.runningAsMainProcess();
        io.pgbackfill.ops.pipeline.FatalErrors.install();
        int code = commandLine().execute(args);
        System.exit(code);
    }
}
