package io.pgbackfill.core.transform;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelIssue;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationException;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.ast.CelReference;
import dev.cel.common.navigation.CelNavigableAst;
import dev.cel.common.types.CelKind;
import dev.cel.common.types.CelType;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerBuilder;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.extensions.CelExtensions;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.catalog.ColumnType;
import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecException;
import io.pgbackfill.core.spec.SpecText;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.core.sql.TableName;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A spec compiled against the source and target catalogs: every expression parsed, type-checked
 * against the source table's columns and bound to its target column, once, at start. Any problem
 * fails here with file:line:column, before anything is created anywhere.
 */
public final class MigrationPlan {
    private static final Pattern CEL_IDENT = Pattern.compile("[_a-zA-Z][_a-zA-Z0-9]*");
    private static final Set<String> CEL_RESERVED = Set.of("true", "false", "null", "in", "as", "break", "const", "continue", "else",
            "for", "function", "if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while");
    private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder()
            .addLibraries(CelExtensions.strings(), CelExtensions.math(CelOptions.DEFAULT), CelExtensions.encoders(CelOptions.DEFAULT))
            .addFunctionBindings(CelFunctions.bindings())
            .build();

    private final PipelineSpec spec;
    private final List<TableTransform> tables;
    private final Map<String, TableSchema> sources;

    private MigrationPlan(PipelineSpec spec, List<TableTransform> tables, Map<String, TableSchema> sources) {
        this.spec = spec;
        this.tables = List.copyOf(tables);
        this.sources = sources;
    }

    public PipelineSpec spec() {
        return spec;
    }

    /** The same compiled transforms under settings that do not change them (snapshot mode, sink, memory). */
    public MigrationPlan withSpec(PipelineSpec other) {
        if (!other.tables().equals(spec.tables())) {
            throw new IllegalArgumentException("a plan's tables cannot change without compiling it again");
        }
        return new MigrationPlan(other, tables, sources);
    }

    public List<TableTransform> tables() {
        return tables;
    }

    /** The source catalog entry of a table (present when compiled against a live source). */
    public Optional<TableSchema> sourceSchema(TableName source) {
        return Optional.ofNullable(sources.get(source.id()));
    }

    public TableTransform forSource(String sourceId) {
        return tables.stream().filter(t -> t.source().id().equals(sourceId)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no table " + sourceId + " in the spec"));
    }

    /** Compiles against the live source and target catalogs. */
    public static MigrationPlan connect(PipelineSpec spec, String file) throws SQLException {
        Map<String, TableSchema> src = new LinkedHashMap<>();
        Map<String, TableSchema> tgt = new LinkedHashMap<>();
        try (Connection s = spec.source().open(); Connection t = spec.targetOrSource().open()) {
            for (TableSpec table : spec.tables()) {
                TableSchema.read(s, table.sourceName()).ifPresent(x -> src.put(table.sourceName().id(), x));
                TableSchema.read(t, table.targetName()).ifPresent(x -> tgt.put(table.targetName().id(), x));
            }
        }
        return compile(spec, file, src, tgt, true);
    }

    /**
     * Compiles with the given catalogs. With {@code requireCatalogs} false, a missing catalog entry means
     * "offline": expressions are only parsed and target columns are taken as text.
     */
    public static MigrationPlan compile(PipelineSpec spec, String file, Map<String, TableSchema> sourceCatalog,
                                        Map<String, TableSchema> targetCatalog, boolean requireCatalogs) {
        List<SpecException.Problem> problems = new ArrayList<>();
        List<TableTransform> out = new ArrayList<>();
        for (TableSpec t : spec.tables()) {
            TableSchema src = sourceCatalog.get(t.sourceName().id());
            TableSchema tgt = targetCatalog.get(t.targetName().id());
            if (requireCatalogs && src == null) {
                problems.add(at(file, t.source(), "source table " + t.sourceName() + " does not exist"));
                continue;
            }
            if (requireCatalogs && tgt == null) {
                problems.add(at(file, t.target(), "target table " + t.targetName() + " does not exist: create it first (pgbackfill never guesses a schema)"));
                continue;
            }
            TableTransform tt = compileTable(t, file, src, tgt, problems);
            if (tt != null) {
                out.add(tt);
            }
        }
        if (!problems.isEmpty()) {
            throw new SpecException(problems);
        }
        return new MigrationPlan(spec, out, sourceCatalog);
    }

    private static TableTransform compileTable(TableSpec t, String file, TableSchema src, TableSchema tgt, List<SpecException.Problem> problems) {
        int before = problems.size();
        CelCompiler compiler = compiler(src);
        List<String> keyNames = new ArrayList<>();
        t.key().forEach(k -> keyNames.add(k.text()));
        if (keyNames.isEmpty()) {
            if (src != null && src.primaryKey().isEmpty()) {
                problems.add(at(file, t.source(), "source table " + t.sourceName() + " has no primary key: declare the target 'key' (and give the table a primary key or REPLICA IDENTITY FULL)"));
            } else if (src != null) {
                keyNames.addAll(src.primaryKey());
            } else if (tgt != null) {
                keyNames.addAll(tgt.primaryKey());
            }
        }
        boolean offline = src == null && tgt == null;
        if (keyNames.isEmpty() && problems.size() == before && !offline) {
            problems.add(at(file, t.target(), "table " + t.target().text() + ": declare 'key' (target key columns)"));
        }
        for (String k : keyNames) {
            if (!t.columns().containsKey(k)) {
                problems.add(at(file, t.target(), "key column " + k + " has no expression in 'columns'"));
            }
        }
        Map<String, Column> targetCols = new LinkedHashMap<>();
        List<TableTransform.TargetColumn> columns = new ArrayList<>();
        Map<String, DirectCall> direct = new HashMap<>();
        for (Map.Entry<String, SpecText> e : t.columns().entrySet()) {
            String name = e.getKey();
            Column col;
            if (tgt != null) {
                Optional<Column> c = tgt.column(name);
                if (c.isEmpty()) {
                    problems.add(at(file, e.getValue(), "target table " + t.targetName() + " has no column " + name + " (it has " + tgt.columns().keySet() + ")"));
                    continue;
                }
                col = c.get();
            } else {
                col = new Column(name, ColumnType.parse("text"), false);
            }
            targetCols.put(name, col);
            Compiled c = compileExpr(compiler, src, e.getValue(), file, "column " + name, problems);
            if (c == null) {
                continue;
            }
            if (tgt != null && c.type() != null) {
                Optional<String> wrong = TargetAssignment.check(c.type(), col.type());
                if (wrong.isPresent()) {
                    problems.add(at(file, e.getValue(), "column " + name + ": " + wrong.get()));
                    continue;
                }
            }
            boolean isKey = keyNames.contains(name);
            if (isKey && src != null && !src.primaryKey().isEmpty() && !src.primaryKey().containsAll(c.reads())) {
                problems.add(at(file, e.getValue(), "key column " + name + " may only read the source primary key " + src.primaryKey()
                        + " (deletes carry nothing else), but it reads " + c.reads()));
            }
            columns.add(new TableTransform.TargetColumn(col, e.getValue().text(), c.program(), c.reads(), isKey, c.errors()));
            c.direct().ifPresent(d -> direct.put(name, d));
        }
        if (tgt != null) {
            for (Column c : tgt.columns().values()) {
                if (c.notNull() && !t.columns().containsKey(c.name()) && t.mapper() == null && !c.name().equals("_pgbackfill_lsn")) {
                    problems.add(at(file, t.target(), "target column " + c.name() + " is NOT NULL but the spec does not fill it"));
                }
            }
        }
        Compiled filter = t.filter() == null ? null : compileExpr(compiler, src, t.filter(), file, "filter", problems);
        if (filter != null && filter.type() != null && !Set.of(CelKind.BOOL, CelKind.DYN, CelKind.TYPE_PARAM)
                .contains(TargetAssignment.base(filter.type()).kind())) {
            problems.add(at(file, t.filter(), "filter must be a boolean expression, not " + TypeNames.of(filter.type())));
        }
        RowMapper mapper = null;
        if (t.mapper() != null) {
            try {
                mapper = (RowMapper) Class.forName(t.mapper().text()).getDeclaredConstructor().newInstance();
            } catch (ClassCastException e) {
                problems.add(at(file, t.mapper(), "mapper " + t.mapper().text() + " does not implement " + RowMapper.class.getName()));
            } catch (ReflectiveOperationException | LinkageError e) {
                problems.add(at(file, t.mapper(), "mapper class " + t.mapper().text() + " cannot be loaded: " + e.getClass().getSimpleName()));
            }
        }
        if (problems.size() > before) {
            return null;
        }
        return new TableTransform(t.sourceName(), t.targetName(), columns, filter == null ? null : filter.program(),
                filter == null ? Set.of() : filter.reads(), filter == null ? null : filter.errors(), mapper, targetCols, src == null || !keyIsSourceKey(columns, src), direct);
    }

    /**
     * True when distinct source keys can never meet in one target key: every target key column copies a
     * distinct source key column (a bare name), together they cover the whole source key, and each copy keeps
     * every distinct value distinct (same type; integer into integer; text or varchar into text or varchar,
     * where a value too long is rejected, never cut). Otherwise the sink tracks each row's source key.
     */
    static boolean keyIsSourceKey(List<TableTransform.TargetColumn> columns, TableSchema src) {
        Set<String> copied = new HashSet<>();
        for (TableTransform.TargetColumn c : columns) {
            if (!c.key()) {
                continue;
            }
            String name = c.expression().trim();
            Optional<Column> from = src.column(name);
            if (!src.primaryKey().contains(name) || from.isEmpty() || !copied.add(name)
                    || !keepsDistinct(from.get().type(), c.column().type())) {
                return false;
            }
        }
        return copied.size() == src.primaryKey().size();
    }

    private static boolean keepsDistinct(ColumnType from, ColumnType to) {
        if (from.sql().equals(to.sql()) || (from.isInteger() && to.isInteger())) {
            return true;
        }
        Set<ColumnType.Kind> unpadded = Set.of(ColumnType.Kind.TEXT, ColumnType.Kind.VARCHAR);
        return unpadded.contains(from.kind()) && unpadded.contains(to.kind());
    }

    /** One compiled expression; {@code type} is null offline (no source catalog: only parsed and checked loosely). */
    private record Compiled(CelRuntime.Program program, Set<String> reads, CelType type, EvaluationErrors errors, Optional<DirectCall> direct) {
    }

    private static Compiled compileExpr(CelCompiler compiler, TableSchema src, SpecText expr, String file, String what, List<SpecException.Problem> problems) {
        try {
            if (src == null) {
                return checkOffline(compiler, expr.text());
            }
            CelAbstractSyntaxTree ast = compiler.compile(expr.text()).getAst();
            Set<String> reads = new HashSet<>();
            for (CelReference ref : ast.getReferenceMap().values()) {
                if (!ref.name().isEmpty() && src.columns().containsKey(ref.name())) {
                    reads.add(ref.name());
                }
            }
            return new Compiled(RUNTIME.createProgram(ast), Set.copyOf(reads), ast.getResultType(), new EvaluationErrors(ast), DirectCall.of(ast, src));
        } catch (CelValidationException e) {
            for (CelIssue issue : e.getErrors()) {
                int line = expr.line() + Math.max(0, issue.getSourceLocation().getLine() - 1);
                int col = (issue.getSourceLocation().getLine() <= 1 ? expr.column() : 1) + Math.max(0, issue.getSourceLocation().getColumn());
                problems.add(new SpecException.Problem(file, line, col, what + ": " + CheckMessages.friendly(issue.getMessage(), expr.text(), src)));
            }
            return null;
        } catch (CelEvaluationException e) {
            problems.add(at(file, expr, what + ": " + e.getMessage()));
            return null;
        }
    }

    /**
     * Without a source catalog every name the expression uses is taken as a column of unknown type ({@code dyn}),
     * so the functions' own types are still checked ({@code to_double(x) / 100} fails even offline). Nothing
     * offline is ever run.
     */
    private static Compiled checkOffline(CelCompiler compiler, String text) throws CelValidationException {
        CelAbstractSyntaxTree parsed = compiler.parse(text).getAst();
        Set<String> reads = new HashSet<>();
        collectIdents(parsed.getExpr(), reads);
        Set<String> names = new HashSet<>();
        CelNavigableAst.fromAst(parsed).getRoot().allNodes()
                .filter(n -> n.expr().exprKind().getKind() == CelExpr.ExprKind.Kind.IDENT)
                .forEach(n -> names.add(n.expr().ident().name()));
        CelCompilerBuilder b = baseCompiler();
        names.stream().filter(n -> CEL_IDENT.matcher(n).matches() && !CEL_RESERVED.contains(n)).forEach(n -> b.addVar(n, SimpleType.DYN));
        b.build().compile(text).getAst();
        return new Compiled(null, Set.copyOf(reads), null, null, Optional.empty());
    }

    private static void collectIdents(dev.cel.common.ast.CelExpr e, Set<String> out) {
        switch (e.getKind()) {
            case IDENT -> out.add(e.ident().name());
            case CALL -> {
                e.call().target().ifPresent(x -> collectIdents(x, out));
                e.call().args().forEach(a -> collectIdents(a, out));
            }
            case SELECT -> collectIdents(e.select().operand(), out);
            case LIST -> e.list().elements().forEach(a -> collectIdents(a, out));
            default -> {
            }
        }
    }

    private static CelCompilerBuilder baseCompiler() {
        return CelCompilerFactory.standardCelCompilerBuilder()
                .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
                .addLibraries(CelExtensions.strings(), CelExtensions.math(CelOptions.DEFAULT), CelExtensions.encoders(CelOptions.DEFAULT))
                .addFunctionDeclarations(CelFunctions.declarations());
    }

    private static CelCompiler compiler(TableSchema src) {
        CelCompilerBuilder b = baseCompiler();
        if (src != null) {
            for (Column c : src.columns().values()) {
                if (CEL_IDENT.matcher(c.name()).matches() && !CEL_RESERVED.contains(c.name())) {
                    // Typed from the catalog, and nullable: any column may be NULL, and NULL handling is the expression's job.
                    b.addVar(c.name(), SourceCelTypes.of(c.type()));
                }
            }
        }
        return b.build();
    }

    private static SpecException.Problem at(String file, SpecText where, String message) {
        return new SpecException.Problem(file, where.line(), where.column(), message);
    }

    /** The compiled plan, as `spec check` prints it. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("pipeline ").append(spec.pipelineName()).append(": slot ").append(spec.slotName())
                .append(", publication ").append(spec.slotName()).append(", ").append(spec.kafka().partitions()).append(" partitions\n");
        for (TableTransform t : tables) {
            sb.append("  ").append(t.source()).append(" -> ").append(t.target()).append(" key ").append(t.keyColumnNames()).append('\n');
            sb.append("    raw topic ").append(spec.topicPrefix()).append(".raw.").append(t.source().id())
                    .append(", rows topic ").append(spec.topicPrefix()).append(".rows.").append(t.target().id()).append('\n');
            for (TableTransform.TargetColumn c : t.columns()) {
                sb.append(String.format("    %-20s %-28s = %s%n", c.name(), c.column().type().sql(), c.expression()));
            }
        }
        return sb.toString();
    }
}
