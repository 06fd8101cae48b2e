package io.pgbackfill.core.transform;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import io.pgbackfill.core.catalog.TableSchema;
import java.util.Map;
import java.util.Optional;

/**
 * A column expression that is one call of a strict pgbackfill function on source columns and literals, such as
 * {@code lower(email)} or {@code before(name, ' ')}: evaluated by running the function's body directly, without CEL's
 * interpreter (an activation, a variable lookup and an overload dispatch per call, a fifth of the transformer's CPU on
 * the bench's table). The body is the one CEL's binding runs ({@link CelFunctions.Strict}), so the value is the same.
 * Whenever a column's value is anything but a non-null string (NULL, a number, a value CEL adapts), or the body fails,
 * {@link #apply} answers {@link #THROUGH_CEL}: the caller evaluates the program as usual, which gives the usual value
 * or the usual error.
 */
final class DirectCall {
    /** {@link #apply}'s answer when this row must go through CEL. */
    static final Object THROUGH_CEL = new Object();

    private final CelFunctions.Strict function;
    /** Per argument: the source column it reads, or null for a literal. */
    private final String[] columns;
    /** Per argument: the literal (String or Long), or null for a column. */
    private final Object[] literals;

    private DirectCall(CelFunctions.Strict function, String[] columns, Object[] literals) {
        this.function = function;
        this.columns = columns;
        this.literals = literals;
    }

    /** The direct form of a checked expression, if it has one. */
    static Optional<DirectCall> of(CelAbstractSyntaxTree ast, TableSchema source) {
        CelExpr e = ast.getExpr();
        if (e.getKind() != CelExpr.ExprKind.Kind.CALL || e.call().target().isPresent()) {
            return Optional.empty();
        }
        // The checker resolved the call to pgbackfill's overload ("pgb_<name>"), not a CEL built-in of the same name.
        var ref = ast.getReferenceMap().get(e.id());
        CelFunctions.Strict f = CelFunctions.STRICT.get(e.call().function());
        if (f == null || ref == null || !ref.overloadIds().contains("pgb_" + f.name()) || f.arity() != e.call().args().size()) {
            return Optional.empty();
        }
        String[] columns = new String[f.arity()];
        Object[] literals = new Object[f.arity()];
        for (int i = 0; i < f.arity(); i++) {
            CelExpr arg = e.call().args().get(i);
            if (arg.getKind() == CelExpr.ExprKind.Kind.IDENT && source.columns().containsKey(arg.ident().name())) {
                columns[i] = arg.ident().name();
            } else if (arg.getKind() == CelExpr.ExprKind.Kind.CONSTANT && arg.constant().getKind() == CelConstant.Kind.STRING_VALUE) {
                literals[i] = arg.constant().stringValue();
            } else if (arg.getKind() == CelExpr.ExprKind.Kind.CONSTANT && arg.constant().getKind() == CelConstant.Kind.INT64_VALUE) {
                literals[i] = arg.constant().int64Value();
            } else {
                return Optional.empty();
            }
        }
        return Optional.of(new DirectCall(f, columns, literals));
    }

    /** The expression's value for a source row (canonical values), or {@link #THROUGH_CEL}. */
    Object apply(Map<String, Object> row) {
        Object[] args = new Object[columns.length];
        for (int i = 0; i < args.length; i++) {
            if (columns[i] == null) {
                args[i] = literals[i];
                continue;
            }
            Object v = row.get(columns[i]);
            if (!(v instanceof String)) {
                return THROUGH_CEL;
            }
            args[i] = v;
        }
        try {
            return function.body().apply(args);
        } catch (Exception e) {
            return THROUGH_CEL;
        }
    }
}
