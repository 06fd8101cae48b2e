package io.pgbackfill.ops;

import io.pgbackfill.core.spec.SpecException;
import io.pgbackfill.ops.commands.*;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code backfill}: the one command an operator runs. Exit codes mean the same everywhere:
 * 0 done and correct; 1 ran but found a problem (mismatch, FAIL check, refused cutover);
 * 2 cannot start (bad spec, bad arguments, unreachable database); 3 failed while running.
 */
@Command(name = "backfill", mixinStandardHelpOptions = true, version = "pgbackfill 0.1.0",
        description = {"Online PostgreSQL data migrations: snapshot + CDC (Debezium) -> transform (Kafka Streams) -> idempotent sink.",
                "", "Typical order: spec check -> rehearse -> preflight -> up -> status -> verify -> cutover -> teardown."},
        subcommands = {DemoCommand.class, SpecCommand.class, RehearseCommand.class, PreflightCommand.class, ServiceCommands.UpCommand.class,
                StatusCommand.class, io.pgbackfill.ops.control.CtlCommand.class, VerifyCommand.class, CutoverCommand.class, ResyncCommand.class, TeardownCommand.class, DlqCommand.class,
                ServiceCommands.ProducerCommand.class, ServiceCommands.TransformerCommand.class, ServiceCommands.SinkCommand.class,
                BenchCommand.class, CommandLine.HelpCommand.class})
public final class BackfillCli implements Runnable {
    public static final int OK = 0;
    public static final int PROBLEM = 1;
    public static final int CANNOT_START = 2;
    public static final int FAILED = 3;

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new BackfillCli());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            Throwable root = ex;
            if (root instanceof SpecException) {
                cmd.getErr().println(root.getMessage());
                return CANNOT_START;
            }
            for (Throwable t = root; t != null; t = t.getCause()) {
                // Refused credentials or certificates: one line, exit 2, whichever client met them first.
                if (t instanceof io.pgbackfill.core.CannotStart || t instanceof org.apache.kafka.common.errors.AuthenticationException) {
                    String m = io.pgbackfill.core.Redaction.redact(String.valueOf(t.getMessage()));
                    cmd.getErr().println("backfill " + cmd.getCommandName() + ": " + (t instanceof io.pgbackfill.core.CannotStart ? "" : "Kafka refused the connection: ")
                            + (m.indexOf('\n') < 0 ? m : m.substring(0, m.indexOf('\n'))));
                    return CANNOT_START;
                }
            }
            cmd.getErr().println("backfill " + cmd.getCommandName() + ": " + io.pgbackfill.core.Redaction.redact(String.valueOf(root.getMessage())));
            return root instanceof java.sql.SQLException || root instanceof IllegalArgumentException ? CANNOT_START : FAILED;
        });
        cl.setExitCodeExceptionMapper(t -> t instanceof SpecException ? CANNOT_START : FAILED);
        return cl;
    }

    private static volatile boolean mainProcess;

    /** True when this JVM runs the CLI's main (not a test calling commands in-process): only then may it halt. */
    public static boolean isMainProcess() {
        return mainProcess;
    }

    public static void main(String[] args) {
        mainProcess = true;
        io.pgbackfill.ops.pipeline.FatalErrors.install();
        int code = commandLine().execute(args);
        System.exit(code);
    }
}
