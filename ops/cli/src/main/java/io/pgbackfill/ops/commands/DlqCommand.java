package io.pgbackfill.ops.commands;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.ops.dlq.DeadLetterTopic;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "dlq", mixinStandardHelpOptions = true, description = "Dead letters: rows that could not be transformed or written, with the reason.",
        subcommands = {DlqCommand.Show.class, DlqCommand.Replay.class})
public final class DlqCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Lists dead letters: counts by reason, then the first --limit with key and message.")
    public static final class Show implements Callable<Integer> {
        @Mixin
        SpecArgs spec;

        @Option(names = "--limit", defaultValue = "20", description = "letters to print (default ${DEFAULT-VALUE})")
        int limit;

        @Option(names = "--json", description = "Prints one JSON object: the counts by stage and reason and the first --limit letters (schema: docs/json-output.md).")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if (json) {
                return showJson();
            }
            Map<String, Integer> byReason = new TreeMap<>();
            int[] shown = {0};
            new DeadLetterTopic(spec.spec()).forEach(l -> {
                byReason.merge(l.stage() + ": " + l.reason(), 1, Integer::sum);
                if (shown[0]++ < limit) {
                    System.out.printf("%s[%d]@%d %s %s key=%s%n    %s%n", l.topic(), l.partition(), l.offset(), l.stage(), l.reason(),
                            l.key() == null ? "-" : new String(l.key(), StandardCharsets.UTF_8), l.message());
                }
            });
            System.out.println(byReason.isEmpty() ? "no dead letters" : "by reason:");
            byReason.forEach((r, n) -> System.out.println("  " + n + "  " + r));
            return ExitCode.OK;
        }

        /** Counts by stage and reason, and at most --limit letters (without their values: the events may be large). */
        private Integer showJson() throws Exception {
            Map<List<String>, Long> byReason = new TreeMap<>(Comparator.comparing((List<String> k) -> k.get(0)).thenComparing(k -> k.get(1)));
            ObjectNode root = EventCodec.MAPPER.createObjectNode();
            root.put("kind", "dlq");
            ArrayNode letters = EventCodec.MAPPER.createArrayNode();
            long[] total = {0};
            new DeadLetterTopic(spec.spec()).forEach(l -> {
                byReason.merge(List.of(l.stage(), l.reason()), 1L, Long::sum);
                if (total[0]++ < limit) {
                    letters.addObject().put("topic", l.topic()).put("partition", l.partition()).put("offset", l.offset())
                            .put("stage", l.stage()).put("reason", l.reason()).put("message", l.message()).put("sourceTopic", l.sourceTopic())
                            .put("key", l.key() == null ? null : new String(l.key(), StandardCharsets.UTF_8));
                }
            });
            root.put("total", total[0]);
            ArrayNode reasons = root.putArray("byReason");
            byReason.forEach((k, n) -> reasons.addObject().put("stage", k.get(0)).put("reason", k.get(1)).put("count", n));
            root.set("letters", letters);
            System.out.println(EventCodec.MAPPER.writeValueAsString(root));
            return ExitCode.OK;
        }
    }

    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = {"Sends dead letters back to the stage that rejected them, after the spec or the target was fixed.",
                    "Restart the transformer with the new spec first. Each letter is replayed once; rows keep their source",
                    "LSN, so a replay never overwrites newer data."})
    public static final class Replay implements Callable<Integer> {
        @Mixin
        SpecArgs spec;

        @Override
        public Integer call() {
            long n = new DeadLetterTopic(spec.spec()).replay();
            System.out.println("replayed " + n + " dead letters");
            return ExitCode.OK;
        }
    }
}
