package io.pgbackfill.ops.rehearse;

import io.pgbackfill.core.transform.RowRejected;
import io.pgbackfill.core.transform.TableTransform;
import io.pgbackfill.core.transform.TargetValues;
import java.util.Map;

/**
 * Per-column detail for a row the transform rejected. {@link TableTransform#map} stops at the first
 * column that fails, which is right for the DLQ but hides the others: a row with a bad amount may
 * also carry a 2 MB note. This evaluates each column's own compiled program and runs the same
 * {@link TargetValues#convert} check, only to fill the column profiles; whether a row maps, and why
 * not, always comes from {@link TableTransform#map} itself. Columns a {@code mapper} fills have no
 * program and are left out.
 */
final class RejectedRowProbe {
    private RejectedRowProbe() {
    }

    static void profile(TableTransform t, Map<String, Object> row, Map<String, ColumnProfile> profiles) {
        for (TableTransform.TargetColumn c : t.columns()) {
            if (c.program() == null) {
                continue;
            }
            ColumnProfile p = profiles.get(c.name());
            Object value;
            try {
                value = c.evaluate(row);
            } catch (RowRejected | RuntimeException e) {
                p.misfit();
                continue;
            }
            String text;
            try {
                text = TargetValues.text(value);
            } catch (RuntimeException e) {
                p.misfit();
                continue;
            }
            try {
                p.observe(TargetValues.convert(value, c.column()));
            } catch (RowRejected e) {
                p.observe(text);
                p.misfit();
            }
        }
    }
}
