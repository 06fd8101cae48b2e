package io.pgbackfill.core.transform;

import io.pgbackfill.core.catalog.TableSchema;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CEL checker errors rewritten for the person who wrote the spec: what is wrong in their terms, and the fix
 * (which conversion function to call). The location (file:line:column) is added by the caller.
 */
final class CheckMessages {
    private static final Pattern NO_OVERLOAD = Pattern.compile("found no matching overload for '([^']+)' applied to '\\((.*)\\)'(?: \\(candidates: (.*)\\))?");
    private static final Map<String, String> OPERATORS = Map.ofEntries(Map.entry("_+_", "+"), Map.entry("_-_", "-"), Map.entry("_*_", "*"),
            Map.entry("_/_", "/"), Map.entry("_%_", "%"), Map.entry("_==_", "=="), Map.entry("_!=_", "!="), Map.entry("_<_", "<"),
            Map.entry("_<=_", "<="), Map.entry("_>_", ">"), Map.entry("_>=_", ">="), Map.entry("_?_:_", "?:"), Map.entry("_[_]", "[]"),
            Map.entry("@in", "in"), Map.entry("-_", "-"), Map.entry("!_", "!"), Map.entry("_&&_", "&&"), Map.entry("_||_", "||"));
    private static final Set<String> ARITHMETIC = Set.of("_+_", "_-_", "_*_", "_/_", "_%_");
    private static final Set<String> COMPARISON = Set.of("_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_");

    private CheckMessages() {
    }

    static String friendly(String celMessage, String expression, TableSchema src) {
        String m = celMessage.replaceFirst("^ERROR: <input>:\\d+:\\d+: ", "");
        int nl = m.indexOf('\n');
        m = nl > 0 ? m.substring(0, nl) : m;
        if (m.startsWith("undeclared reference to '")) {
            int from = "undeclared reference to '".length();
            String name = m.substring(from, m.indexOf('\'', from));
            if (Pattern.compile("(?<![\\w.])" + Pattern.quote(name) + "\\s*\\(").matcher(expression).find()) {
                return "unknown function '" + name + "' (functions: " + String.join(", ", CelFunctions.NAMES)
                        + ", and CEL's own, e.g. size, matches, startsWith, int, double, string)";
            }
            if (src != null) {
                return "unknown column or function '" + name + "' (source " + src.name() + " has columns " + src.columns().keySet() + ")";
            }
            return "unknown name '" + name + "'";
        }
        Matcher o = NO_OVERLOAD.matcher(m);
        if (o.find()) {
            return noOverload(o.group(1), List.of(TypeNames.plain(o.group(2)).split(",\\s*")), o.group(3) == null ? "" : TypeNames.plain(o.group(3)));
        }
        return TypeNames.plain(m);
    }

    private static String noOverload(String function, List<String> args, String candidates) {
        String op = OPERATORS.getOrDefault(function, function);
        String types = String.join(" and ", args);
        if (ARITHMETIC.contains(function) && args.contains("int") && args.contains("double")) {
            return "cannot " + op + " " + types + ": CEL never mixes int and double; make both double (100.0 rather than 100, "
                    + "or to_double(x)) or both int (to_int(x))";
        }
        if (ARITHMETIC.contains(function) && args.contains("string")) {
            return "cannot " + op + " " + types + ": convert first, with to_text(x) to join text or to_int(x) / to_double(x) to compute"
                    + (args.contains("null") ? " (a NULL literal: use coalesce(x, default))" : "");
        }
        if (ARITHMETIC.contains(function)) {
            return "cannot " + op + " " + types + ": give both the same type (to_int(x), to_double(x), to_text(x))";
        }
        if (COMPARISON.contains(function)) {
            return "cannot compare " + types + " with " + op + ": convert one side (to_int(x), to_double(x), to_text(x), to_bool(x)), "
                    + "or write the literal as the column's type ('1' for a text column, 1 for an int)";
        }
        if (function.equals("_?_:_")) {
            List<String> branches = args.subList(Math.min(1, args.size()), args.size());
            return "the two branches of ?: have different types (" + String.join(" and ", branches) + "): give both the same type, "
                    + "with to_text(x), to_int(x), to_double(x), to_numeric(x, scale) or a literal of the other type ('0' rather than 0); "
                    + "to send the row to the DLQ instead, write reject('why') in that branch";
        }
        if (function.equals("@in")) {
            return "cannot test " + args.get(0) + " in " + (args.size() > 1 ? args.get(1) : "that") + ": the value and the list's elements need the same type";
        }
        if (function.equals("coalesce") || function.equals("nullif")) {
            return function + " needs two values of the same type, not (" + String.join(", ", args) + "): convert one "
                    + "(to_text(x), to_int(x), to_double(x)) or write the default as the column's type ('0' for text, 0 for an int)";
        }
        if (CelFunctions.NAMES.contains(function)) {
            return function + " takes " + candidates + ", not (" + String.join(", ", args) + "): convert the argument first "
                    + "(to_text(x) for text, to_int(x) for a number)";
        }
        return "cannot apply " + op + " to (" + String.join(", ", args) + ")" + (candidates.isEmpty() ? "" : "; it takes " + candidates);
    }
}
