package io.pgbackfill.ops.commands;

import io.pgbackfill.core.control.ControlEntry;
import io.pgbackfill.core.control.ControlState;
import io.pgbackfill.core.control.ControlTopic;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.ops.control.ControlScreen;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "ctl", mixinStandardHelpOptions = true,
        description = {"Changes a running pipeline without a restart.",
                "It writes to the pipeline's control topic (<prefix>.control), which every stage follows wherever it runs (one process or separate containers). ACTION:",
                "  pause                 snapshot reads and the sink's writes wait; the WAL keeps streaming into Kafka (no WAL piles up)",
                "  resume                undo a pause (also one made by a critical throttle threshold)",
                "  rate-limit N|off      the snapshot's rows per second",
                "  chunk-size N|default  rows the snapshot reads between pacing decisions",
                "  postpone-cutover      a cutover waits (and says so) until unpostpone-cutover or cancel-cutover",
                "  unpostpone-cutover    a waiting cutover goes on",
                "  cancel-cutover        a waiting cutover gives up: exit 1, nothing changed",
                "  show                  print the settings in force",
                "Each change is acknowledged by Kafka before this command returns; stages apply it within a second.",
                "Exit codes: 0 done; 2 bad arguments or Kafka unreachable."})
public final class CtlCommand implements Callable<Integer> {
    @Mixin
    SpecArgs spec;

    @Parameters(index = "1", paramLabel = "ACTION", description = "pause, resume, rate-limit, chunk-size, postpone-cutover, unpostpone-cutover, cancel-cutover, show")
    String action;

    @Parameters(index = "2", arity = "0..1", paramLabel = "VALUE", description = "for rate-limit and chunk-size")
    String value;

    @Option(names = "--reason", description = "why (shown in status and in the stages' logs)")
    String reason;

    @Override
    public Integer call() {
        PipelineSpec s = spec.spec();
        String by = who();
        switch (action) {
            case "pause" -> ControlTopic.publish(s, ControlState.PAUSE, ControlEntry.of("paused", by, reason));
            case "resume" -> ControlTopic.publish(s, ControlState.PAUSE, null);
            case "rate-limit" -> {
                Long n = number("rate-limit", "off");
                ControlTopic.publish(s, ControlState.RATE_LIMIT, n == null ? null : ControlEntry.of(n.toString(), by, reason));
            }
            case "chunk-size" -> {
                Long n = number("chunk-size", "default");
                if (n != null && n > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("chunk-size: at most " + Integer.MAX_VALUE);
                }
                ControlTopic.publish(s, ControlState.CHUNK_SIZE, n == null ? null : ControlEntry.of(n.toString(), by, reason));
            }
            case "postpone-cutover" -> ControlTopic.publish(s, ControlState.CUTOVER, ControlEntry.of("postponed", by, reason));
            case "unpostpone-cutover" -> ControlTopic.publish(s, ControlState.CUTOVER, null);
            case "cancel-cutover" -> ControlTopic.publish(s, ControlState.CUTOVER, ControlEntry.of("cancelled", by, reason));
            case "show" -> {
                // only prints
            }
            default -> throw new IllegalArgumentException("unknown action '" + action + "' (see backfill ctl --help)");
        }
        System.out.print(ControlScreen.render(ControlTopic.read(s), s));
        return ExitCode.OK;
    }

    private Long number(String what, String none) {
        if (value == null) {
            throw new IllegalArgumentException(what + " needs a value: a positive number, or '" + none + "'");
        }
        if (value.equals(none)) {
            return null;
        }
        try {
            long n = Long.parseLong(value.replace("_", "").replace(",", ""));
            if (n < 1) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + ": '" + value + "' is not a positive number (or '" + none + "')");
        }
    }

    static String who() {
        String user = System.getProperty("user.name", "?");
        try {
            return user + "@" + java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return user;
        }
    }
}
