package io.pgbackfill.sink;

import io.pgbackfill.core.event.RowChange;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A random history of a source table, as the rows topic carries it, next to the state the source ends
 * in. Table: {@code (tenant text, id bigint) PRIMARY KEY, name text NOT NULL, score numeric(10,2),
 * active boolean, bio text}. Changes go to the partition of their key (order per key is Kafka's only
 * promise); watermarks go to every partition; LSNs only grow. Updates that leave bio alone mark it
 * unchanged, as Debezium does for an unchanged TOAST value. A primary-key change is a delete of the old
 * key and an insert of the new one at the same LSN, as Debezium emits it.
 */
final class SourceHistory {
    static final List<String> COLUMNS = List.of("tenant", "id", "name", "score", "active", "bio");
    /** Key text that COPY text format, array literals and SQL quoting each have to escape. */
    private static final String[] TENANTS = {"acme", "o'neil, inc", "tab\there", "back\\slash", "{brace,\"q\"}", "new\nline"};
    private static final String[] NAME_PARTS = {"ada", "tab\tin", "new\nline", "cr\rreturn", "back\\slash", "\\N", "NULL", "quote'd",
        "dq\"", "{curly,comma}", "ünïcødé ✓", "", " spaced ", "\\.", "semi;colon"};

    /** Per partition, the changes in log order. */
    final List<List<RowChange>> partitions = new ArrayList<>();
    /** Final source state: key [tenant, id] to column values as PostgreSQL prints them. */
    final Map<List<String>, Map<String, String>> finalState = new HashMap<>();
    /** Highest watermark LSN per partition (-1: none). */
    final long[] lastWatermark;

    private final SplittableRandom rnd;
    private final List<List<String>> live = new ArrayList<>();
    private final List<List<String>> absent = new ArrayList<>();
    private long lsn = 1000;

    private SourceHistory(SplittableRandom rnd, int partitionCount) {
        this.rnd = rnd;
        this.lastWatermark = new long[partitionCount];
        java.util.Arrays.fill(lastWatermark, -1);
        for (int p = 0; p < partitionCount; p++) {
            partitions.add(new ArrayList<>());
        }
    }

    static SourceHistory generate(long seed, int keys, int changes, int partitionCount) {
        SourceHistory h = new SourceHistory(new SplittableRandom(seed), partitionCount);
        for (int i = 0; i < keys; i++) {
            h.absent.add(List.of(TENANTS[i % TENANTS.length], Integer.toString(i / TENANTS.length + 1)));
        }
        for (int i = 0; i < changes; i++) {
            h.step();
        }
        return h;
    }

    int partitionOf(List<String> key) {
        return Math.floorMod(key.hashCode(), partitions.size());
    }

    private void step() {
        lsn += 1 + rnd.nextInt(50);
        double r = rnd.nextDouble();
        if (live.isEmpty() || (r < 0.25 && !absent.isEmpty())) {
            insert(take(absent));
        } else if (r < 0.70) {
            update(live.get(rnd.nextInt(live.size())));
        } else if (r < 0.82) {
            List<String> key = take(live);
            absent.add(key);
            finalState.remove(key);
            emit(key, RowChange.delete(lsn, keyMap(key)));
        } else if (r < 0.92 && !absent.isEmpty()) {
            List<String> old = take(live);
            List<String> renamed = take(absent);
            absent.add(old);
            live.add(renamed);
            Map<String, String> row = new LinkedHashMap<>(finalState.remove(old));
            row.put("tenant", renamed.get(0));
            row.put("id", renamed.get(1));
            emit(old, RowChange.delete(lsn, keyMap(old)));
            put(renamed, row, Set.of());
        } else {
            for (int p = 0; p < partitions.size(); p++) {
                partitions.get(p).add(RowChange.watermark(lsn, r > 0.97));
                lastWatermark[p] = lsn;
            }
        }
    }

    private void insert(List<String> key) {
        live.add(key);
        Map<String, String> row = new LinkedHashMap<>();
        row.put("tenant", key.get(0));
        row.put("id", key.get(1));
        row.put("name", name());
        row.put("score", score());
        row.put("active", active());
        row.put("bio", bio());
        put(key, row, Set.of());
    }

    private void update(List<String> key) {
        Map<String, String> row = new LinkedHashMap<>(finalState.get(key));
        row.put("name", name());
        if (rnd.nextBoolean()) {
            row.put("score", score());
        }
        if (rnd.nextInt(3) == 0) {
            row.put("active", active());
        }
        boolean bioChanges = rnd.nextInt(3) == 0;
        if (bioChanges) {
            row.put("bio", bio());
        }
        put(key, row, bioChanges ? Set.of() : Set.of("bio"));
    }

    /** Records the new source row and emits its upsert; unchanged columns travel as null, as the transformer sends them. */
    private void put(List<String> key, Map<String, String> row, Set<String> unchanged) {
        finalState.put(key, row);
        Map<String, String> values = new LinkedHashMap<>(row);
        unchanged.forEach(c -> values.put(c, null));
        emit(key, RowChange.upsert(lsn, keyMap(key), values, unchanged));
    }

    private void emit(List<String> key, RowChange rc) {
        partitions.get(partitionOf(key)).add(rc);
    }

    private List<String> take(List<List<String>> from) {
        int i = rnd.nextInt(from.size());
        List<String> k = from.get(i);
        from.set(i, from.get(from.size() - 1));
        from.remove(from.size() - 1);
        return k;
    }

    static Map<String, String> keyMap(List<String> key) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("tenant", key.get(0));
        m.put("id", key.get(1));
        return m;
    }

    private String name() {
        return NAME_PARTS[rnd.nextInt(NAME_PARTS.length)] + rnd.nextInt(1000);
    }

    private String score() {
        return rnd.nextInt(5) == 0 ? null : rnd.nextInt(100_000) + "." + String.format("%02d", rnd.nextInt(100));
    }

    private String active() {
        return switch (rnd.nextInt(3)) {
            case 0 -> null;
            case 1 -> "true";
            default -> "false";
        };
    }

    private String bio() {
        if (rnd.nextInt(6) == 0) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        int parts = rnd.nextInt(40);
        for (int i = 0; i < parts; i++) {
            sb.append(NAME_PARTS[rnd.nextInt(NAME_PARTS.length)]);
        }
        return sb.toString();
    }
}
