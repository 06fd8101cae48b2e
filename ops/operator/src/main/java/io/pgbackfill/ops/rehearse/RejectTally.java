package io.pgbackfill.ops.rehearse;

import io.pgbackfill.core.transform.RowRejected;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Rows that would go to the DLQ, grouped by reason and column, with the first few source keys of each group. */
final class RejectTally {
    static final int EXAMPLES = 5;

    private record Group(String reason, String column) {
    }

    private static final class Count {
        long rows;
        final List<String> examples = new ArrayList<>(EXAMPLES);
        String message;
    }

    private final Map<Group, Count> groups = new LinkedHashMap<>();
    private long total;

    void add(RowRejected.Reason reason, String column, String message, String sourceKey) {
        Count c = groups.computeIfAbsent(new Group(reason.label(), column), g -> new Count());
        c.rows++;
        total++;
        if (c.examples.size() < EXAMPLES) {
            c.examples.add(sourceKey);
        }
        if (c.message == null) {
            c.message = message;
        }
    }

    long total() {
        return total;
    }

    /** Largest group first. */
    List<RehearsalReport.RejectGroup> groups(long sampledRows) {
        List<RehearsalReport.RejectGroup> out = new ArrayList<>();
        for (var e : groups.entrySet()) {
            Count c = e.getValue();
            out.add(new RehearsalReport.RejectGroup(e.getKey().reason(), e.getKey().column(), c.rows,
                    sampledRows == 0 ? 0 : (double) c.rows / sampledRows, List.copyOf(c.examples), clip(c.message)));
        }
        out.sort(Comparator.comparingLong(RehearsalReport.RejectGroup::rows).reversed());
        return out;
    }

    private static String clip(String s) {
        if (s == null) {
            return null;
        }
        String one = s.replace('\n', ' ');
        return one.length() > 200 ? one.substring(0, 200) + "…" : one;
    }
}
