package io.pgbackfill.core.transform;

import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelVariableResolver;
import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.event.ChangeEvent;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.event.RowChange;
import io.pgbackfill.core.sql.TableName;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The compiled mapping of one source table into its target table. This one class is what the
 * transformer, {@code verify} and {@code rehearse} all run, so what is verified is what was written.
 * Thread-safe and allocation-light: programs are compiled once, rows are read through a resolver.
 */
public final class TableTransform {

    /**
     * One target column: its catalog entry, compiled expression, the source columns it reads, and what explains
     * its failures (null with the program, offline).
     */
    public record TargetColumn(Column column, String expression, CelRuntime.Program program, Set<String> reads, boolean key,
                               EvaluationErrors errors) {
        public String name() {
            return column.name();
        }

        /** This column's raw value for a source row, on its own (rehearse profiles every column of a rejected row). */
        public Object evaluate(Map<String, Object> row) throws RowRejected {
            return eval(program, errors, name -> Optional.of(CelNulls.toCel(row.get(name))), name());
        }
    }

    /** A mapped row: SQL text per target column, the columns to leave unchanged, or excluded by the filter. */
    public record Mapped(Map<String, String> values, Set<String> unchanged, boolean included) {
    }

    private final TableName source;
    private final TableName target;
    private final List<TargetColumn> columns;
    private final List<TargetColumn> keyColumns;
    private final CelRuntime.Program filter;
    private final Set<String> filterReads;
    private final EvaluationErrors filterErrors;
    private final RowMapper mapper;
    private final Map<String, Column> targetColumns;
    private final boolean tracksSourceKey;
    /** Per column: the source column when the expression is just that column's name, else null. */
    private final String[] copiedFrom;
    /** Per column: the expression as a direct call of a pgbackfill function ({@link DirectCall}), else null. */
    private final DirectCall[] direct;

    TableTransform(TableName source, TableName target, List<TargetColumn> columns, CelRuntime.Program filter, Set<String> filterReads,
                   EvaluationErrors filterErrors, RowMapper mapper, Map<String, Column> targetColumns, boolean tracksSourceKey,
                   Map<String, DirectCall> direct) {
        this.source = source;
        this.target = target;
        this.columns = List.copyOf(columns);
        this.keyColumns = columns.stream().filter(TargetColumn::key).toList();
        this.filter = filter;
        this.filterReads = filterReads;
        this.filterErrors = filterErrors;
        this.mapper = mapper;
        this.targetColumns = targetColumns;
        this.tracksSourceKey = tracksSourceKey;
        this.copiedFrom = new String[this.columns.size()];
        this.direct = new DirectCall[this.columns.size()];
        for (int i = 0; i < copiedFrom.length; i++) {
            TargetColumn c = this.columns.get(i);
            this.direct[i] = c.program() == null ? null : direct.get(c.name());
            if (c.program() != null && c.reads().size() == 1 && c.reads().contains(c.expression().trim())) {
                copiedFrom[i] = c.expression().trim();
            }
        }
    }

    /**
     * Whether two source rows could map to one target key (the key is computed, narrowed or padded): then
     * every upsert and delete carries its source key, and the sink reports a second source row for a
     * target key as a duplicate instead of letting it overwrite the first.
     */
    public boolean tracksSourceKey() {
        return tracksSourceKey;
    }

    /** Whether a column's expression runs as a {@link DirectCall} (for tests). */
    boolean isDirect(String column) {
        for (int i = 0; i < columns.size(); i++) {
            if (columns.get(i).name().equals(column)) {
                return direct[i] != null;
            }
        }
        return false;
    }

    public TableName source() {
        return source;
    }

    public TableName target() {
        return target;
    }

    public List<TargetColumn> columns() {
        return columns;
    }

    public List<String> keyColumnNames() {
        return keyColumns.stream().map(TargetColumn::name).toList();
    }

    /** Everything the sink writes, in order: the mapped columns. */
    public List<Column> targetColumns() {
        return columns.stream().map(TargetColumn::column).toList();
    }

    /**
     * The full semantics of one change event: what the target must see. Upserts and deletes are keyed by
     * the target key; a row the filter excludes is deleted from the target (it may have matched before).
     */
    public List<RowChange> apply(ChangeEvent e) throws RowRejected {
        if (e.isWatermark()) {
            return List.of(RowChange.watermark(e.lsn(), Boolean.TRUE.equals(e.snapshotDone())));
        }
        if (e.isTruncate()) {
            return List.of(RowChange.truncate(e.lsn()));
        }
        String sourceKey = tracksSourceKey ? new String(EventCodec.encodeKey(e.key()), StandardCharsets.UTF_8) : null;
        if (e.isDelete()) {
            return List.of(RowChange.delete(e.lsn(), key(e.key()), sourceKey));
        }
        Set<String> unchangedSource = e.unchanged() == null ? Set.of() : e.unchanged();
        if (!unchangedSource.isEmpty() && filter != null && !Collections.disjoint(filterReads, unchangedSource)) {
            // The filter reads a value the source did not send: whether the row matches is unknown. The target's row
            // (if any) goes, and the row is read again whole; the re-read decides.
            return List.of(RowChange.reread(e.lsn(), key(e.key()), sourceKey, rereadKey(e)));
        }
        Mapped m = map(e.after(), unchangedSource);
        if (!m.included()) {
            // A new or snapshot row that does not match never reached the target; an update may have.
            return ChangeEvent.UPDATE.equals(e.op()) ? List.of(RowChange.delete(e.lsn(), key(e.after()), sourceKey)) : List.of();
        }
        Map<String, String> key = new LinkedHashMap<>();
        for (TargetColumn k : keyColumns) {
            key.put(k.name(), m.values().get(k.name()));
        }
        if (!m.unchanged().isEmpty() && !ChangeEvent.UPDATE.equals(e.op())) {
            // Only an update of a row the target already holds can leave a column as it is. A new row with an
            // unchanged TOAST value is the new key of a primary-key change (Debezium: delete of the old key, create
            // of the new one, without the values it did not send): written, it would get NULL there. Read it again.
            return List.of(RowChange.reread(e.lsn(), key, sourceKey, rereadKey(e)));
        }
        return List.of(RowChange.upsert(e.lsn(), key, m.values(), m.unchanged(), sourceKey, m.unchanged().isEmpty() ? null : rereadKey(e)));
    }

    /**
     * What a change the spec rejects leaves in the target: nothing. The rejected change goes to the DLQ, and a delete of
     * its target key at the change's LSN (guarded like every delete, so a newer version is never removed) takes out the
     * older version the target may hold. Otherwise the new table would keep a row whose latest change is a dead letter,
     * and "rows in the DLQ are not in the target" (what verify and cutover count) would not hold. Empty for deletes,
     * watermarks and truncates, and when the key itself cannot be computed.
     */
    public Optional<RowChange> withdrawal(ChangeEvent e) {
        if (e.isWatermark() || e.isTruncate() || e.isDelete() || e.key() == null) {
            return Optional.empty();
        }
        try {
            String sourceKey = tracksSourceKey ? new String(EventCodec.encodeKey(e.key()), StandardCharsets.UTF_8) : null;
            return Optional.of(RowChange.delete(e.lsn(), key(e.key()), sourceKey));
        } catch (RowRejected | RuntimeException unkeyed) {
            return Optional.empty();
        }
    }

    /** The source key as the raw topic's key (JSON): what a re-read asks for. */
    private static String rereadKey(ChangeEvent e) {
        return new String(EventCodec.encodeKey(e.key()), StandardCharsets.UTF_8);
    }

    /** Maps one source row (canonical values). Columns that read an unchanged TOAST value are left unchanged. */
    public Mapped map(Map<String, Object> row, Set<String> unchangedSource) throws RowRejected {
        CelVariableResolver vars = name -> Optional.of(CelNulls.toCel(row.get(name)));
        if (filter != null) {
            for (String r : filterReads) {
                if (unchangedSource.contains(r)) {
                    throw new RowRejected(RowRejected.Reason.TOAST_UNAVAILABLE, r,
                            "the filter reads column " + r + ", whose unchanged TOAST value the source did not send: set REPLICA IDENTITY FULL on " + source);
                }
            }
            Object keep = eval(filter, filterErrors, vars, "filter");
            if (!(keep instanceof Boolean b)) {
                throw new RowRejected(RowRejected.Reason.EXPRESSION_ERROR, "filter", "filter returned " + TargetValues.text(keep) + ", not a boolean");
            }
            if (!b) {
                return new Mapped(Map.of(), Set.of(), false);
            }
        }
        Map<String, Object> computed = new LinkedHashMap<>();
        Set<String> unchanged = null;
        for (int i = 0; i < columns.size(); i++) {
            TargetColumn c = columns.get(i);
            if (c.program() == null) {
                continue;
            }
            if (!unchangedSource.isEmpty() && !Collections.disjoint(c.reads(), unchangedSource)) {
                if (c.key()) {
                    throw new RowRejected(RowRejected.Reason.TOAST_UNAVAILABLE, c.name(), "key column " + c.name() + " reads an unchanged TOAST value");
                }
                unchanged = unchanged == null ? new HashSet<>() : unchanged;
                unchanged.add(c.name());
                continue;
            }
            for (String r : c.reads()) {
                if (!row.containsKey(r)) {
                    // A column the expression reads is gone from the event: the source table was altered while
                    // streaming. Evaluating it as NULL would corrupt the target silently; stop this row instead.
                    throw new RowRejected(RowRejected.Reason.SCHEMA_CHANGED, r, "column " + r + " of " + source
                            + " is missing from the change event (dropped or renamed on the source?): fix the spec and replay");
                }
            }
            Object value = copiedFrom[i] == null ? null : plainValue(row.get(copiedFrom[i]));
            if (value == null && direct[i] != null) {
                value = direct[i].apply(row);
                value = value == DirectCall.THROUGH_CEL ? null : value;
            }
            computed.put(c.name(), value != null ? value : eval(c.program(), c.errors(), vars, c.name()));
        }
        if (mapper != null) {
            Map<String, Object> out;
            try {
                out = mapper.map(Collections.unmodifiableMap(row), Collections.unmodifiableMap(computed));
            } catch (Exception ex) {
                throw new RowRejected(RowRejected.Reason.MAPPER_ERROR, null, mapper.getClass().getSimpleName() + ": " + ex.getMessage());
            }
            if (out == null) {
                return new Mapped(Map.of(), Set.of(), false);
            }
            computed.putAll(out);
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (TargetColumn c : columns) {
            if (unchanged != null && unchanged.contains(c.name())) {
                values.put(c.name(), null);
                continue;
            }
            values.put(c.name(), TargetValues.convert(computed.get(c.name()), c.column()));
        }
        return new Mapped(values, unchanged == null ? Set.of() : unchanged, true);
    }

    /** The target key of a row from its source key columns (all a delete event carries). */
    public Map<String, String> key(Map<String, Object> sourceKey) throws RowRejected {
        CelVariableResolver vars = name -> Optional.of(CelNulls.toCel(sourceKey.get(name)));
        Map<String, String> key = new LinkedHashMap<>();
        for (TargetColumn k : keyColumns) {
            key.put(k.name(), TargetValues.convert(eval(k.program(), k.errors(), vars, k.name()), k.column()));
        }
        return key;
    }

    /**
     * A copied column's value without running its program: for these types CEL returns an identifier's value
     * as the resolver gave it, so the result is the same, minus an interpreter frame per column and row (copied
     * columns are common: keys, timestamps). Null (SQL NULL, or a type CEL may adapt) sends the column through CEL.
     */
    private static Object plainValue(Object v) {
        return v instanceof String || v instanceof Long || v instanceof Boolean || v instanceof Double ? v : null;
    }

    private static Object eval(CelRuntime.Program p, EvaluationErrors errors, CelVariableResolver vars, String what) throws RowRejected {
        try {
            return p.eval(vars);
        } catch (CelEvaluationException e) {
            throw errors.explain(e, what, vars);
        } catch (RuntimeException e) {
            throw new RowRejected(RowRejected.Reason.EXPRESSION_ERROR, what, what + ": " + e);
        }
    }

    public Map<String, Column> targetCatalog() {
        return targetColumns;
    }

    static List<String> names(List<TargetColumn> cs) {
        List<String> out = new ArrayList<>();
        cs.forEach(c -> out.add(c.name()));
        return out;
    }
}
