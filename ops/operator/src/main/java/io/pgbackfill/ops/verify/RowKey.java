package io.pgbackfill.ops.verify;

import java.util.Arrays;
import java.util.List;

/** A row's key as the text of its key columns, in key order: the unit verify reports and re-checks. */
record RowKey(String[] values) {
    @Override
    public boolean equals(Object o) {
        return o instanceof RowKey k && Arrays.equals(values, k.values);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values);
    }

    /** {@code id=7,tenant=2}: how mismatches have always been listed. */
    String display(List<String> names) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(names.get(i)).append('=').append(values[i]);
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return Arrays.toString(values);
    }
}
