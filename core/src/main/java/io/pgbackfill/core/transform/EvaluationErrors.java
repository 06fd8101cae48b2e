package io.pgbackfill.core.transform;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelErrorCode;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.navigation.CelNavigableAst;
import dev.cel.common.navigation.CelNavigableExpr;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelVariableResolver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a failed evaluation into the sentence the dead-letter record carries: which column, which value, what
 * was expected ({@code column status: no key 'lost' in the map (keys: new, paid)}), instead of CEL's
 * {@code evaluation error at <input>:35: lost}. Works from the checked expression, kept per compiled program;
 * it runs only for rows that fail, so the cost of looking things up does not matter. Public only as a part of
 * {@link TableTransform.TargetColumn}.
 */
public final class EvaluationErrors {
    private static final Pattern AT = Pattern.compile("^evaluation error at [^:]*:(\\d+): ");
    private static final Map<String, String> OPERATORS = Map.of("_+_", "+", "_-_", "-", "_*_", "*", "_/_", "/", "_%_", "%",
            "_[_]", "[]", "_<_", "<", "_>_", ">", "size", "size()");

    private final CelAbstractSyntaxTree ast;

    EvaluationErrors(CelAbstractSyntaxTree ast) {
        this.ast = ast;
    }

    /** The row rejection for {@code e}, raised while computing {@code what} (a column name, or "filter"). */
    RowRejected explain(CelEvaluationException e, String what, CelVariableResolver vars) {
        String subject = what.equals("filter") ? "filter" : "column " + what;
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof CelFunctions.Rejection r) {
                return new RowRejected(RowRejected.Reason.REJECTED, what, subject + ": " + r.getMessage(), r.getMessage());
            }
            if (c instanceof CelFunctions.CastFailure) {
                return new RowRejected(RowRejected.Reason.CAST_FAILURE, what, subject + ": " + c.getMessage());
            }
        }
        String detail = e.getCause() != null && e.getCause().getMessage() != null ? e.getCause().getMessage() : plainMessage(e);
        Optional<CelExpr> at = nodeAt(e);
        CelErrorCode code = e.getErrorCode();
        String sentence = switch (code == null ? CelErrorCode.INTERNAL_ERROR : code) {
            case ATTRIBUTE_NOT_FOUND -> missingKey(detail, at);
            case INDEX_OUT_OF_BOUNDS -> "no element " + detail.replaceFirst("(?i)^index out of bounds: ", "")
                    + " in the list (it is shorter): test size() first";
            case DIVIDE_BY_ZERO -> "division by zero: guard it (d == 0 ? … : n / d)";
            case OVERLOAD_NOT_FOUND -> noOverload(at, vars);
            default -> plainMessage(e);
        };
        return new RowRejected(RowRejected.Reason.EXPRESSION_ERROR, what, subject + ": " + sentence);
    }

    private static String plainMessage(CelEvaluationException e) {
        return AT.matcher(String.valueOf(e.getMessage())).replaceFirst("");
    }

    /** The node the error points at: CEL names its offset in the expression. */
    private Optional<CelExpr> nodeAt(CelEvaluationException e) {
        Matcher m = AT.matcher(String.valueOf(e.getMessage()));
        if (!m.find()) {
            return Optional.empty();
        }
        int offset = Integer.parseInt(m.group(1));
        Map<Long, Integer> positions = ast.getSource().getPositionsMap();
        return CelNavigableAst.fromAst(ast).getRoot().allNodes().map(CelNavigableExpr::expr)
                .filter(x -> positions.getOrDefault(x.id(), -1) == offset)
                .findFirst();
    }

    private String missingKey(String key, Optional<CelExpr> at) {
        boolean isNull = key.equals("NULL_VALUE");
        String shown = isNull ? "NULL" : key;
        List<String> keys = new ArrayList<>();
        boolean textKeys = true;
        if (at.isPresent() && at.get().exprKind().getKind() == CelExpr.ExprKind.Kind.CALL && at.get().call().args().size() == 2) {
            CelExpr map = at.get().call().args().get(0);
            if (map.exprKind().getKind() == CelExpr.ExprKind.Kind.MAP) {
                for (CelExpr.CelMap.Entry entry : map.map().entries()) {
                    CelExpr k = entry.key();
                    if (k.exprKind().getKind() == CelExpr.ExprKind.Kind.CONSTANT) {
                        CelConstant c = k.constant();
                        textKeys &= c.getKind() == CelConstant.Kind.STRING_VALUE;
                        keys.add(c.getKind() == CelConstant.Kind.STRING_VALUE ? c.stringValue() : String.valueOf(constantValue(c)));
                    }
                }
            }
        } else if (at.isPresent() && at.get().exprKind().getKind() == CelExpr.ExprKind.Kind.SELECT) {
            shown = at.get().select().field();
        }
        String value = isNull ? "NULL" : textKeys ? "'" + CelFunctions.clip(shown) + "'" : CelFunctions.clip(shown);
        String s = (isNull ? "NULL is not a key of the map" : "no key " + value + " in the map")
                + (keys.isEmpty() ? "" : " (keys: " + String.join(", ", keys) + ")");
        return s + (isNull ? ": handle NULL first (x == null ? … : …)" : ": add the key, or test it first (x in m ? m[x] : reject('…'))");
    }

    private static Object constantValue(CelConstant c) {
        return switch (c.getKind()) {
            case INT64_VALUE -> c.int64Value();
            case UINT64_VALUE -> c.uint64Value();
            case DOUBLE_VALUE -> c.doubleValue();
            case BOOLEAN_VALUE -> c.booleanValue();
            default -> c.toString();
        };
    }

    /** Mostly a NULL where the operator needs a value: name the column that was NULL. */
    private String noOverload(Optional<CelExpr> at, CelVariableResolver vars) {
        if (at.isEmpty() || at.get().exprKind().getKind() != CelExpr.ExprKind.Kind.CALL) {
            return "an operator got a value of a type it does not take (a NULL?): use coalesce(x, default) or test x == null";
        }
        CelExpr.CelCall call = at.get().call();
        String op = OPERATORS.getOrDefault(call.function(), call.function());
        List<CelExpr> operands = new ArrayList<>();
        call.target().ifPresent(operands::add);
        operands.addAll(call.args());
        List<String> values = new ArrayList<>();
        for (CelExpr a : operands) {
            if (a.exprKind().getKind() != CelExpr.ExprKind.Kind.IDENT) {
                continue;
            }
            String name = a.ident().name();
            Object v = vars.find(name).orElse(null);
            if (CelNulls.isNull(v)) {
                return name + " is NULL, and " + op + " does not take NULL: use coalesce(" + name + ", default) or test " + name + " == null";
            }
            values.add(name + " = " + describe(v));
        }
        return op + " cannot take " + (values.isEmpty() ? "these values" : String.join(", ", values))
                + " (a NULL, or NaN/Infinity where a number was expected?): test the value first, or use coalesce(x, default)";
    }

    private static String describe(Object v) {
        return v instanceof String s ? "'" + CelFunctions.clip(s) + "' (text)" : CelFunctions.clip(TargetValues.text(v));
    }
}
