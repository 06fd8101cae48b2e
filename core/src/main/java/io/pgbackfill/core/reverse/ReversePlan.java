package io.pgbackfill.core.reverse;

import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.ReverseMapping;
import io.pgbackfill.core.spec.SpecException;
import io.pgbackfill.core.spec.SpecText;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.core.sql.TableName;
import io.pgbackfill.core.transform.MigrationPlan;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The reverse mappings compiled like the forward columns, against both catalogs: each {@code reverse:} expression
 * type-checked against the new table's columns and bound to its old-table column. Refused, with file:line: an old
 * column that is NOT NULL without a default and has no reverse expression; an old-table key that the mapping cannot
 * compute from the new table's key alone (a delete carries only the key); an old table without a primary key.
 * Works before the cutover (tables under their original names) and after it (renamed).
 */
public final class ReversePlan {
    private ReversePlan() {
    }

    /** Compiles against the live catalogs (the new table is the source, the old one the target). */
    public static MigrationPlan connect(PipelineSpec forward, String file) throws SQLException {
        return connect(forward, file, null);
    }

    /** @param switchCommand see {@link ReversePipeline#of(PipelineSpec, String)} */
    public static MigrationPlan connect(PipelineSpec forward, String file, String switchCommand) throws SQLException {
        PipelineSpec reverse = ReversePipeline.of(forward, switchCommand);
        Map<String, TableSchema> newTables = new LinkedHashMap<>();
        Map<String, TableSchema> oldTables = new LinkedHashMap<>();
        Map<String, Set<String>> defaults = new LinkedHashMap<>();
        try (Connection s = reverse.source().open(); Connection t = reverse.targetOrSource().open()) {
            for (TableSpec table : forward.tables()) {
                if (table.reverse() == null) {
                    continue;
                }
                TableName newAfter = ReversePipeline.newTableAfterCutover(forward, table);
                TableName oldAfter = ReversePipeline.oldTableAfterCutover(forward, table);
                // After a same-database cutover the new table has the old one's name; before it, its own.
                boolean switched = !forward.sameDatabase() || TableSchema.read(t, oldAfter).isPresent();
                TableName newNow = switched ? newAfter : table.targetName();
                TableName oldNow = switched ? oldAfter : table.sourceName();
                TableSchema.read(s, newNow).ifPresent(x -> newTables.put(newAfter.id(), x));
                Optional<TableSchema> old = TableSchema.read(t, oldNow);
                if (old.isPresent()) {
                    oldTables.put(oldAfter.id(), old.get());
                    defaults.put(oldAfter.id(), filledByDefault(t, oldNow));
                }
            }
        }
        return compile(forward, file, newTables, oldTables, defaults, true, switchCommand);
    }

    /**
     * Compiles with the given catalogs, keyed by the names after the cutover; {@code defaults}: old columns that
     * PostgreSQL fills when a row omits them. {@code requireCatalogs} false: offline, expressions only parsed.
     */
    public static MigrationPlan compile(PipelineSpec forward, String file, Map<String, TableSchema> newTables, Map<String, TableSchema> oldTables,
                                        Map<String, Set<String>> defaults, boolean requireCatalogs) {
        return compile(forward, file, newTables, oldTables, defaults, requireCatalogs, null);
    }

    private static MigrationPlan compile(PipelineSpec forward, String file, Map<String, TableSchema> newTables, Map<String, TableSchema> oldTables,
                                         Map<String, Set<String>> defaults, boolean requireCatalogs, String switchCommand) {
        PipelineSpec reverse = ReversePipeline.of(forward, switchCommand);
        List<SpecException.Problem> problems = new ArrayList<>();
        for (TableSpec t : forward.tables()) {
            if (t.reverse() == null && ReversePipeline.declared(forward)) {
                problems.add(new SpecException.Problem(file, t.target().line(), t.target().column(), "table " + t.target().text()
                        + " has no 'reverse' block: a reverse stream needs one for every table of the spec"));
            }
        }
        List<TableSpec> keyed = new ArrayList<>();
        Map<String, TableSchema> relaxed = new LinkedHashMap<>();
        for (TableSpec rt : reverse.tables()) {
            ReverseMapping block = forward.tables().stream().filter(f -> ReversePipeline.oldTableAfterCutover(forward, f).equals(rt.targetName()))
                    .findFirst().orElseThrow().reverse();
            TableSchema old = oldTables.get(rt.targetName().id());
            if (old == null) {
                keyed.add(rt);
                continue;
            }
            if (old.primaryKey().isEmpty()) {
                problems.add(at(file, block, "reverse of " + rt.sourceName() + ": the old table " + rt.targetName()
                        + " has no primary key, so the reverse stream cannot address its rows"));
                continue;
            }
            Set<String> byDefault = defaults.getOrDefault(rt.targetName().id(), Set.of());
            Map<String, Column> columns = new LinkedHashMap<>();
            for (Column c : old.columns().values()) {
                boolean unfilled = !rt.columns().containsKey(c.name());
                if (unfilled && c.notNull() && !byDefault.contains(c.name())) {
                    problems.add(at(file, block, "reverse of " + rt.sourceName() + ": old column " + c.name() + " of " + rt.targetName()
                            + " is NOT NULL and has no default, but the reverse block does not fill it (give it an expression over the new table's columns)"));
                }
                // Unfilled columns are judged here (a default counts); MigrationPlan would refuse every unfilled NOT NULL one.
                columns.put(c.name(), unfilled ? new Column(c.name(), c.type(), false) : c);
            }
            relaxed.put(rt.targetName().id(), new TableSchema(old.name(), columns, old.primaryKey(), old.replicaIdentity(), old.estimatedRows()));
            keyed.add(new TableSpec(rt.source(), rt.target(), old.primaryKey().stream().map(k -> new SpecText(k, block.line(), block.column())).toList(),
                    null, rt.columns(), null));
        }
        PipelineSpec spec = ReversePipeline.withTables(reverse, keyed);
        try {
            MigrationPlan plan = MigrationPlan.compile(spec, file, newTables, relaxed, requireCatalogs);
            if (!problems.isEmpty()) {
                throw new SpecException(problems);
            }
            return plan;
        } catch (SpecException e) {
            Set<SpecException.Problem> seen = new HashSet<>(problems);
            for (SpecException.Problem p : e.problems()) {
                if (!seen.contains(p)) {
                    problems.add(p.message().startsWith("reverse") ? p : new SpecException.Problem(p.file(), p.line(), p.column(), "reverse: " + p.message()));
                }
            }
            throw new SpecException(problems);
        }
    }

    /** Old columns PostgreSQL fills when an insert leaves them out: a default or an identity. */
    static Set<String> filledByDefault(Connection c, TableName t) throws SQLException {
        Set<String> out = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(?) AND attnum > 0 "
                + "AND NOT attisdropped AND (atthasdef OR attidentity <> '')")) {
            ps.setString(1, t.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    private static SpecException.Problem at(String file, ReverseMapping block, String message) {
        return new SpecException.Problem(file, block.line(), block.column(), message);
    }
}
