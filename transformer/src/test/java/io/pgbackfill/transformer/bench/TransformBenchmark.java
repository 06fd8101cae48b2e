package io.pgbackfill.transformer.bench;

import io.pgbackfill.core.event.ChangeEvent;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.event.RowChange;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.core.transform.TableTransform;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Events per second per core of the transform stage's own work (decode JSON, run the spec, encode JSON),
 * against a baseline that decodes and re-encodes without transforming, on one thread, same events, one run.
 * Not a test: run with
 * {@code java -cp $(cat transformer/target/test-classpath.txt):transformer/target/classes:transformer/target/test-classes io.pgbackfill.transformer.bench.TransformBenchmark [events]}
 * or {@code mvn -pl transformer -Ptransform-bench test-compile exec:java}.
 */
public final class TransformBenchmark {
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        MigrationPlan plan = io.pgbackfill.transformer.FixturesAccess.plan();
        TableTransform t = plan.tables().get(0);
        String[] first = {"Ana", "João", "Zoë", "Müller", "李", "Émilie"};
        String[] last = {"Silva", "Souza Lima", "Ng", "van der Berg", "小龍", null};
        byte[][] events = new byte[10_000][];
        for (int i = 0; i < events.length; i++) {
            Map<String, Object> after = new LinkedHashMap<>();
            after.put("id", (long) i);
            after.put("name", last[i % 6] == null ? first[i % 6] : first[i % 6] + " " + last[i % 6]);
            after.put("email", "User." + i + "@Example.COM");
            after.put("created_at", "2020-01-01T00:00:00.123456Z");
            after.put("score", Integer.toString(i % 100));
            events[i] = EventCodec.encode(new ChangeEvent("r", "public.users", 100 + i, 0, true, Map.of("id", (long) i), after, null, null));
        }
        for (int warm = 0; warm < 3; warm++) {
            baseline(events, 300_000);
            transform(t, events, 300_000);
        }
        double base = baseline(events, n);
        double tr = transform(t, events, n);
        System.out.printf(Locale.ROOT, "%-52s %,12.0f events/s (one core)%n", "baseline: decode + encode, no transform", base);
        System.out.printf(Locale.ROOT, "%-52s %,12.0f events/s (one core)%n", "transform: decode + spec (5 CEL columns) + encode", tr);
        System.out.printf(Locale.ROOT, "transform / baseline: %.2f  (the spec costs %.2f µs per event)%n", tr / base, 1e6 / tr - 1e6 / base);
    }

    static double baseline(byte[][] events, int n) {
        long t0 = System.nanoTime();
        long sink = 0;
        for (int i = 0; i < n; i++) {
            ChangeEvent e = EventCodec.decodeChange(events[i % events.length]);
            Map<String, String> values = new HashMap<>();
            e.after().forEach((k, v) -> values.put(k, v == null ? null : v.toString()));
            sink += EventCodec.encode(RowChange.upsert(e.lsn(), Map.of("id", values.get("id")), values, null)).length;
        }
        return rate(n, t0, sink);
    }

    static double transform(TableTransform t, byte[][] events, int n) throws Exception {
        long t0 = System.nanoTime();
        long sink = 0;
        for (int i = 0; i < n; i++) {
            List<RowChange> out = t.apply(EventCodec.decodeChange(events[i % events.length]));
            for (RowChange rc : out) {
                sink += EventCodec.encode(rc).length;
            }
        }
        return rate(n, t0, sink);
    }

    private static double rate(int n, long t0, long sink) {
        if (sink == 42) {
            System.out.println(); // keeps the JIT from dropping the work
        }
        return n / ((System.nanoTime() - t0) / 1e9);
    }
}
