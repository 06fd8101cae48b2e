package io.pgbackfill.core.transform;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cel.common.CelFunctionDecl;
import dev.cel.common.CelOverloadDecl;
import dev.cel.common.types.CelType;
import dev.cel.common.types.NullableType;
import dev.cel.common.types.SimpleType;
import dev.cel.common.types.TypeParamType;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelFunctionBinding;
import io.pgbackfill.core.event.EventCodec;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * The SQL-flavoured functions the spec's expressions may call on top of standard CEL. All are pure,
 * take and return plain values, and propagate NULL like SQL (a function of NULL is NULL, except
 * {@code coalesce}). None can reach Java classes, files or the network. Regular expressions use
 * RE2 (linear time), so a pattern from a spec cannot hang the pipeline.
 *
 * <pre>
 * lower(x) upper(x) trim(x)             before(x, sep)   text before the first sep, or x
 * after(x, sep)  text after the first sep, or NULL       split_part(x, sep, n)  as in PostgreSQL
 * substr(x, start, len)  1-based        regex_replace(x, pattern, replacement)
 * coalesce(a, b)  nullif(a, b)          json_get(x, 'a.b.0')  text at a JSON path, or NULL
 * to_int(x) to_double(x) to_text(x) to_bool(x) to_numeric(x, scale) to_date(x) to_timestamptz(x) to_uuid(x)
 * reject(reason)  sends the row to the DLQ with this reason (e.g. {@code s in ['a', 'b'] ? s : reject('unknown ' + s)})
 * </pre>
 */
final class CelFunctions {
    private CelFunctions() {
    }

    private static final CelType DYN = SimpleType.DYN;
    private static final CelType STRING = SimpleType.STRING;
    private static final CelType INT = SimpleType.INT;
    private static final CelType A = TypeParamType.create("A");

    /**
     * Every function with the type it really returns, so CEL's checker can refuse {@code to_double(x) / 100} or
     * {@code upper(id)} at spec check. Results are nullable (SQL NULL in, NULL out): a nullable string still goes
     * wherever a string goes and may be compared with {@code null}. Parameters are {@code dyn} only where the
     * function accepts several types (the to_* casts); {@code reject} returns a free type so it fits either
     * branch of a conditional.
     */
    static List<CelFunctionDecl> declarations() {
        List<CelFunctionDecl> out = new ArrayList<>();
        CelType text = NullableType.create(STRING);
        out.add(fn("lower", text, STRING));
        out.add(fn("upper", text, STRING));
        out.add(fn("trim", text, STRING));
        out.add(fn("before", text, STRING, STRING));
        out.add(fn("after", text, STRING, STRING));
        out.add(fn("split_part", text, STRING, STRING, INT));
        out.add(fn("substr", text, STRING, INT, INT));
        out.add(fn("regex_replace", text, STRING, STRING, STRING));
        out.add(fn("coalesce", A, A, A));
        out.add(fn("nullif", A, A, A));
        out.add(fn("json_get", text, STRING, STRING));
        out.add(fn("to_int", NullableType.create(INT), DYN));
        out.add(fn("to_double", NullableType.create(SimpleType.DOUBLE), DYN));
        out.add(fn("to_bool", NullableType.create(SimpleType.BOOL), DYN));
        // numeric, date, timestamptz and uuid have no CEL type: their values are the checked text the sink casts.
        for (String c : List.of("to_text", "to_date", "to_timestamptz", "to_uuid")) {
            out.add(fn(c, text, DYN));
        }
        out.add(fn("to_numeric", text, DYN, INT));
        out.add(fn("reject", TypeParamType.create("T"), STRING));
        return out;
    }

    /** The names of the functions above, for messages. */
    static final List<String> NAMES = declarations().stream().map(CelFunctionDecl::name).toList();

    private static CelFunctionDecl fn(String name, CelType result, CelType... params) {
        return CelFunctionDecl.newFunctionDeclaration(name, CelOverloadDecl.newGlobalOverload("pgb_" + name, result, List.of(params)));
    }

    interface F1 {
        Object apply(Object a) throws Exception;
    }

    interface F2 {
        Object apply(Object a, Object b) throws Exception;
    }

    interface F3 {
        Object apply(Object a, Object b, Object c) throws Exception;
    }

    /**
     * A strict function: NULL in any argument gives NULL without running the body. The body is what CEL's binding runs
     * and what {@link DirectCall} calls without the interpreter: one implementation, two ways in.
     */
    record Strict(String name, int arity, StrictBody body) {
        CelFunctionBinding binding() {
            List<Class<?>> params = java.util.Collections.nCopies(arity, Object.class);
            return CelFunctionBinding.from("pgb_" + name, params, args -> {
                for (Object a : args) {
                    if (CelNulls.isNull(a)) {
                        return CelNulls.NULL;
                    }
                }
                return call(name, () -> body.apply(args));
            });
        }
    }

    /** A strict function's body, on arguments that are not NULL. */
    interface StrictBody {
        Object apply(Object[] args) throws Exception;
    }

    /** The strict functions by name. */
    static final Map<String, Strict> STRICT = strictFunctions();

    static List<CelFunctionBinding> bindings() {
        List<CelFunctionBinding> b = new ArrayList<>();
        STRICT.values().forEach(f -> b.add(f.binding()));
        b.add(CelFunctionBinding.from("pgb_coalesce", Object.class, Object.class, (x, y) -> CelNulls.isNull(x) ? y : x));
        b.add(CelFunctionBinding.from("pgb_nullif", Object.class, Object.class, (x, y) -> !CelNulls.isNull(x) && x.equals(y) ? CelNulls.NULL : x));
        b.add(CelFunctionBinding.from("pgb_reject", Object.class, reason -> {
            String text = CelNulls.isNull(reason) ? "rejected (the reason given was NULL)" : str(reason);
            throw new CelEvaluationException("rejected: " + text, new Rejection(text));
        }));
        return b;
    }

    private static Map<String, Strict> strictFunctions() {
        List<Strict> b = new ArrayList<>();
        b.add(strict1("lower", a -> str(a).toLowerCase(Locale.ROOT)));
        b.add(strict1("upper", a -> str(a).toUpperCase(Locale.ROOT)));
        b.add(strict1("trim", a -> str(a).strip()));
        b.add(strict2("before", (a, s) -> {
            String x = str(a);
            int i = x.indexOf(str(s));
            return i < 0 ? x : x.substring(0, i);
        }));
        b.add(strict2("after", (a, s) -> {
            String x = str(a);
            String sep = str(s);
            int i = x.indexOf(sep);
            return i < 0 ? CelNulls.NULL : x.substring(i + sep.length());
        }));
        b.add(strict3("split_part", (a, s, n) -> {
            String x = str(a);
            String sep = str(s);
            long idx = num(n).longValue();
            if (idx == 0) {
                throw new IllegalArgumentException("split_part: field position must not be zero");
            }
            List<String> parts = new ArrayList<>();
            int from = 0;
            while (true) {
                int i = sep.isEmpty() ? -1 : x.indexOf(sep, from);
                if (i < 0) {
                    parts.add(x.substring(from));
                    break;
                }
                parts.add(x.substring(from, i));
                from = i + sep.length();
            }
            int k = (int) (idx > 0 ? idx - 1 : parts.size() + idx);
            return k >= 0 && k < parts.size() ? parts.get(k) : "";
        }));
        b.add(strict3("substr", (a, s, l) -> {
            String x = str(a);
            int[] cps = x.codePoints().toArray();
            long start = Math.max(1, num(s).longValue());
            long end = Math.min(cps.length, start - 1 + Math.max(0, num(l).longValue()));
            if (start - 1 >= end) {
                return "";
            }
            return new String(cps, (int) start - 1, (int) (end - start + 1));
        }));
        b.add(strict3("regex_replace", (a, p, r) -> com.google.re2j.Pattern.compile(str(p)).matcher(str(a)).replaceAll(str(r))));
        b.add(strict2("json_get", (a, p) -> {
            JsonNode n = EventCodec.MAPPER.readTree(str(a));
            for (String part : str(p).split("\\.")) {
                if (n == null) {
                    break;
                }
                n = n.isArray() && part.matches("\\d+") ? n.get(Integer.parseInt(part)) : n.get(part);
            }
            if (n == null || n.isNull()) {
                return CelNulls.NULL;
            }
            return n.isValueNode() ? n.asText() : n.toString();
        }));
        b.add(strict1("to_int", a -> {
            if (a instanceof Long) {
                return a;
            }
            if (a instanceof Double d) {
                if (d != Math.rint(d) || Double.isInfinite(d) || Math.abs(d) > 9.2e18) {
                    throw new IllegalArgumentException("cannot cast " + d + " to int: not an integer in range");
                }
                return d.longValue();
            }
            String s = str(a).strip();
            try {
                return Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("cannot cast '" + clip(s) + "' to int");
            }
        }));
        b.add(strict1("to_double", a -> {
            if (a instanceof Double || a instanceof Long) {
                return ((Number) a).doubleValue();
            }
            try {
                return Double.parseDouble(str(a).strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("cannot cast '" + clip(str(a)) + "' to double");
            }
        }));
        b.add(strict1("to_text", a -> a instanceof String ? a : TargetValues.text(a)));
        b.add(strict1("to_bool", a -> {
            if (a instanceof Boolean) {
                return a;
            }
            return switch (str(a).strip().toLowerCase(Locale.ROOT)) {
                case "t", "true", "y", "yes", "on", "1" -> Boolean.TRUE;
                case "f", "false", "n", "no", "off", "0" -> Boolean.FALSE;
                default -> throw new IllegalArgumentException("cannot cast '" + clip(str(a)) + "' to boolean");
            };
        }));
        b.add(strict1("to_date", a -> TargetValues.checkDate(str(a).strip())));
        b.add(strict1("to_timestamptz", a -> TargetValues.checkTimestamp(str(a).strip())));
        b.add(strict1("to_uuid", a -> {
            String s = str(a).strip();
            try {
                return UUID.fromString(s).toString();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("cannot cast '" + clip(s) + "' to uuid");
            }
        }));
        b.add(strict2("to_numeric", (a, sc) -> {
            String s = a instanceof String x ? x.strip() : TargetValues.text(a);
            try {
                return new BigDecimal(s).setScale((int) num(sc).longValue(), RoundingMode.HALF_UP).toPlainString();
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("cannot cast '" + clip(s) + "' to numeric");
            }
        }));
        Map<String, Strict> byName = new java.util.LinkedHashMap<>();
        b.forEach(f -> byName.put(f.name(), f));
        return java.util.Collections.unmodifiableMap(byName);
    }

    static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }

    private static String str(Object o) {
        return o instanceof String s ? s : TargetValues.text(o);
    }

    private static Number num(Object o) {
        if (o instanceof Number n) {
            return n;
        }
        return Long.parseLong(str(o).strip());
    }

    private static Strict strict1(String name, F1 f) {
        return new Strict(name, 1, a -> f.apply(a[0]));
    }

    private static Strict strict2(String name, F2 f) {
        return new Strict(name, 2, a -> f.apply(a[0], a[1]));
    }

    private static Strict strict3(String name, F3 f) {
        return new Strict(name, 3, a -> f.apply(a[0], a[1], a[2]));
    }

    interface Body {
        Object run() throws Exception;
    }

    private static Object call(String name, Body body) throws CelEvaluationException {
        try {
            return body.run();
        } catch (CelEvaluationException e) {
            throw e;
        } catch (Exception e) {
            throw new CelEvaluationException(name + ": " + e.getMessage(), new CastFailure(name + ": " + e.getMessage()));
        }
    }

    /** A row the spec rejected on purpose with {@code reject(reason)}: the reason is the author's. */
    static final class Rejection extends RuntimeException {
        Rejection(String reason) {
            super(reason, null, false, false);
        }
    }

    /** Marks a failed to_* cast, so the DLQ can say "cast failure" rather than "expression error". */
    static final class CastFailure extends RuntimeException {
        CastFailure(String message) {
            super(message, null, false, false);
        }
    }
}
