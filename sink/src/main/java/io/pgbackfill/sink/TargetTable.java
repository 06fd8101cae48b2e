package io.pgbackfill.sink;

import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.sql.SqlIdentifier;
import io.pgbackfill.core.sql.TableName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * A target table and the SQL that writes it, built once. Every row carries its source LSN in
 * {@value #LSN_COLUMN} (added by the sink, dropped at cutover): an upsert or delete only applies when
 * its LSN is at least the row's, so a replayed older version never overwrites a newer one. Where the target
 * key is computed from the source key (so two source rows may meet in one target key), each row also
 * carries its source key in {@value #SOURCE_KEY_COLUMN}, and a row of another source key neither
 * overwrites nor deletes it: the sink reports it as a duplicate target key instead ("tracked" writes).
 * All identifiers are validated and quoted; values are always bound, never spliced.
 */
public final class TargetTable {
    public static final String LSN_COLUMN = "_pgbackfill_lsn";
    public static final String SOURCE_KEY_COLUMN = "_pgbackfill_source_key";
    private static final String LSN = SqlIdentifier.of(LSN_COLUMN).quoted();
    private static final String SRC = SqlIdentifier.of(SOURCE_KEY_COLUMN).quoted();

    /** One shape of upsert: which columns stay as they are (unchanged TOAST), and whether source keys are tracked. */
    record Shape(Set<String> unchanged, boolean tracked) {
    }

    private final TableName name;
    private final List<Column> columns;
    private final List<Column> keyColumns;
    private final boolean keyIsUnique;
    private final Map<Shape, String> upsertFromArrays = new ConcurrentHashMap<>();
    private final Map<Shape, String> upsertFromStage = new ConcurrentHashMap<>();

    /** A table whose key is not known to have its own unique index: every upsert goes through ON CONFLICT. */
    public TargetTable(TableName name, List<Column> columns, List<String> keyColumnNames) {
        this(name, columns, keyColumnNames, false);
    }

    /**
     * @param keyIsUnique whether an index can arbitrate the key as ON CONFLICT does ({@link #keyIsUnique(Connection, TableName, List)}):
     *                    only then may a part of new keys be COPYed straight in (BatchWriter#copyIntoTarget), since only then
     *                    does a key the table holds make the COPY fail instead of adding a second row
     */
    public TargetTable(TableName name, List<Column> columns, List<String> keyColumnNames, boolean keyIsUnique) {
        this.name = name;
        this.keyIsUnique = keyIsUnique;
        this.columns = List.copyOf(columns);
        this.keyColumns = keyColumnNames.stream()
                .map(k -> columns.stream().filter(c -> c.name().equals(k)).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("key column " + k + " is not a target column")))
                .toList();
        columns.forEach(c -> SqlIdentifier.of(c.name()));
    }

    public TableName name() {
        return name;
    }

    public boolean keyIsUnique() {
        return keyIsUnique;
    }

    /**
     * Whether {@code table} has an index ON CONFLICT can use for these key columns: unique, valid, checked at once (not
     * deferred), on exactly these columns, no expression, no predicate.
     */
    public static boolean keyIsUnique(Connection c, TableName table, List<String> keyColumnNames) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT (SELECT array_agg(a.attname::text) FROM unnest(i.indkey) k "
                + "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k) FROM pg_index i WHERE i.indrelid = ?::regclass "
                + "AND i.indisunique AND i.indimmediate AND i.indisvalid AND i.indisready AND i.indpred IS NULL AND i.indexprs IS NULL")) {
            ps.setString(1, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    java.sql.Array cols = rs.getArray(1);
                    if (cols != null && Set.of((String[]) cols.getArray()).equals(Set.copyOf(keyColumnNames))) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    public List<Column> columns() {
        return columns;
    }

    public List<Column> keyColumns() {
        return keyColumns;
    }

    /** Adds the LSN and source-key columns if missing: catalog-only changes, no rewrite, no long lock. */
    public String addSinkColumnsSql() {
        return "ALTER TABLE " + name.quoted() + " ADD COLUMN IF NOT EXISTS " + LSN + " bigint, ADD COLUMN IF NOT EXISTS " + SRC + " text";
    }

    /** Staging table for the COPY path: text columns + LSN, emptied at every commit. */
    public String stageName() {
        return SqlIdentifier.of("pgbackfill_stage_" + Integer.toHexString(name.id().hashCode())).quoted();
    }

    public String createStageSql() {
        String cols = columns.stream().map(c -> q(c) + " text").collect(Collectors.joining(", "));
        return "CREATE TEMP TABLE IF NOT EXISTS " + stageName() + " (" + cols + ", " + LSN + " bigint, " + SRC + " text) ON COMMIT DELETE ROWS";
    }

    public String copySql() {
        return copySql(false);
    }

    /** COPY into the stage: the columns, the LSN, and the source key when tracked. */
    public String copySql(boolean tracked) {
        return "COPY " + stageName() + " (" + columns.stream().map(TargetTable::q).collect(Collectors.joining(", ")) + ", " + LSN
                + (tracked ? ", " + SRC : "") + ") FROM STDIN (FORMAT text)";
    }

    /** COPY straight into the target: its columns and the LSN (untracked rows only; see BatchWriter#copyIntoTarget). */
    public String copyIntoTargetSql() {
        return "COPY " + name.quoted() + " (" + columns.stream().map(TargetTable::q).collect(Collectors.joining(", ")) + ", " + LSN
                + ") FROM STDIN (FORMAT text)";
    }

    public String upsertFromArraysSql(Set<String> unchanged) {
        return upsertFromArraysSql(unchanged, false);
    }

    /** INSERT … SELECT FROM unnest(text[]…) … ON CONFLICT DO UPDATE … WHERE lsn guard. One round trip per batch. */
    public String upsertFromArraysSql(Set<String> unchanged, boolean tracked) {
        return upsertFromArrays.computeIfAbsent(new Shape(Set.copyOf(unchanged), tracked), shape -> {
            String params = columns.stream().map(c -> "?::text[]").collect(Collectors.joining(", "));
            String alias = columns.stream().map(TargetTable::q).collect(Collectors.joining(", "));
            return insertSelect("FROM unnest(" + params + ", ?::bigint[]" + (tracked ? ", ?::text[]" : "") + ") AS s(" + alias + ", " + LSN
                    + (tracked ? ", " + SRC : "") + ")", shape);
        });
    }

    public String upsertFromStageSql(Set<String> unchanged) {
        return upsertFromStageSql(unchanged, false);
    }

    public String upsertFromStageSql(Set<String> unchanged, boolean tracked) {
        return upsertFromStage.computeIfAbsent(new Shape(Set.copyOf(unchanged), tracked), shape -> insertSelect("FROM " + stageName() + " s", shape));
    }

    private String insertSelect(String from, Shape shape) {
        if (!shape.unchanged().isEmpty()) {
            return updateFrom(from, shape);
        }
        String target = columns.stream().map(TargetTable::q).collect(Collectors.joining(", "));
        String select = columns.stream().map(c -> "s." + q(c) + "::" + castType(c)).collect(Collectors.joining(", "));
        List<String> sets = new ArrayList<>();
        for (Column c : columns) {
            if (!keyColumns.contains(c)) {
                sets.add(q(c) + " = EXCLUDED." + q(c));
            }
        }
        sets.add(LSN + " = EXCLUDED." + LSN);
        String guard = "t." + LSN + " IS NULL OR t." + LSN + " <= EXCLUDED." + LSN;
        if (shape.tracked()) {
            sets.add(SRC + " = EXCLUDED." + SRC);
            guard = "(" + guard + ") AND (t." + SRC + " IS NULL OR t." + SRC + " = EXCLUDED." + SRC + ")";
        }
        return "INSERT INTO " + name.quoted() + " AS t (" + target + ", " + LSN + (shape.tracked() ? ", " + SRC : "") + ") SELECT " + select
                + ", s." + LSN + (shape.tracked() ? ", s." + SRC : "") + " " + from
                + " ON CONFLICT (" + keyColumns.stream().map(TargetTable::q).collect(Collectors.joining(", ")) + ") DO UPDATE SET "
                + String.join(", ", sets) + " WHERE " + guard;
    }

    /**
     * A change without some (unchanged TOAST) columns can only update a row the target holds: an UPDATE, never an
     * insert, so a row the target does not have is not written with NULL there (see {@link #missingKeysSql()}).
     */
    private String updateFrom(String from, Shape shape) {
        List<String> sets = new ArrayList<>();
        for (Column c : columns) {
            if (!keyColumns.contains(c) && !shape.unchanged().contains(c.name())) {
                sets.add(q(c) + " = s." + q(c) + "::" + castType(c));
            }
        }
        sets.add(LSN + " = s." + LSN);
        String guard = "(t." + LSN + " IS NULL OR t." + LSN + " <= s." + LSN + ")";
        if (shape.tracked()) {
            sets.add(SRC + " = s." + SRC);
            guard += " AND (t." + SRC + " IS NULL OR t." + SRC + " = s." + SRC + ")";
        }
        return "UPDATE " + name.quoted() + " AS t SET " + String.join(", ", sets) + " " + from + " WHERE " + keyMatch("t", "s") + " AND " + guard;
    }

    /** Which of the given keys (one text[] per key column) the target does not hold: 1-based positions. */
    public String missingKeysSql() {
        String params = keyColumns.stream().map(c -> "?::text[]").collect(Collectors.joining(", "));
        String alias = keyColumns.stream().map(TargetTable::q).collect(Collectors.joining(", "));
        return "SELECT s.ord FROM unnest(" + params + ") WITH ORDINALITY AS s(" + alias + ", ord) WHERE NOT EXISTS (SELECT 1 FROM "
                + name.quoted() + " t WHERE " + keyMatch("t", "s") + ")";
    }

    /**
     * After a tracked upsert: which of the given rows' target keys another source key holds (1-based
     * positions in the arrays, with the holder). Parameters: one text[] per key column, then the source keys.
     */
    public String heldByAnotherSourceKeySql() {
        String params = keyColumns.stream().map(c -> "?::text[]").collect(Collectors.joining(", "));
        String alias = keyColumns.stream().map(TargetTable::q).collect(Collectors.joining(", "));
        return "SELECT s.ord, t." + SRC + " FROM unnest(" + params + ", ?::text[]) WITH ORDINALITY AS s(" + alias + ", " + SRC + ", ord) JOIN "
                + name.quoted() + " t ON " + keyMatch("t", "s") + " WHERE t." + SRC + " <> s." + SRC;
    }

    private String keyMatch(String table, String values) {
        return keyColumns.stream().map(k -> table + "." + q(k) + " = " + values + "." + q(k) + "::" + castType(k)).collect(Collectors.joining(" AND "));
    }

    /**
     * The type a text value is cast to before it is assigned to column {@code c}: the column's type without
     * its modifier, so the assignment checks length and precision instead of the cast silently cutting
     * (see {@link io.pgbackfill.core.catalog.ColumnType#baseSql()}). Two bare names are not "without
     * modifier" but mean length 1: {@code character} is {@code char(1)} and {@code bit} is {@code bit(1)},
     * so {@code 'hello'::character} is {@code 'h'}. Their unbounded forms are {@code bpchar} and {@code varbit}.
     */
    static String castType(Column c) {
        String base = c.type().baseSql();
        String element = base.endsWith("[]") ? base.substring(0, base.length() - 2) : base;
        String array = base.endsWith("[]") ? "[]" : "";
        return switch (element) {
            case "character" -> "bpchar" + array;
            case "bit" -> "varbit" + array;
            default -> base;
        };
    }

    public String deleteSql() {
        return deleteSql(false);
    }

    /** DELETE … USING unnest(key[], lsn[]) … WHERE lsn guard (and, tracked, only the row of the same source key). */
    public String deleteSql(boolean tracked) {
        String params = keyColumns.stream().map(c -> "?::text[]").collect(Collectors.joining(", "));
        String alias = keyColumns.stream().map(TargetTable::q).collect(Collectors.joining(", "));
        return "DELETE FROM " + name.quoted() + " AS t USING unnest(" + params + ", ?::bigint[]" + (tracked ? ", ?::text[]" : "") + ") AS d(" + alias
                + ", " + LSN + (tracked ? ", " + SRC : "") + ") WHERE " + keyMatch("t", "d") + " AND (t." + LSN + " IS NULL OR t." + LSN + " <= d." + LSN + ")"
                + (tracked ? " AND (t." + SRC + " IS NULL OR t." + SRC + " = d." + SRC + ")" : "");
    }

    /** A source TRUNCATE at LSN x removes every row older than x; rows written after it stay. */
    public String truncateSql() {
        return "DELETE FROM " + name.quoted() + " WHERE " + LSN + " IS NULL OR " + LSN + " < ?";
    }

    private static String q(Column c) {
        return SqlIdentifier.of(c.name()).quoted();
    }
}
