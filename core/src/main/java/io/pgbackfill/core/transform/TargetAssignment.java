package io.pgbackfill.core.transform;

import dev.cel.common.types.CelKind;
import dev.cel.common.types.CelType;
import dev.cel.common.types.NullableType;
import io.pgbackfill.core.catalog.ColumnType;
import java.util.Optional;
import java.util.Set;

/**
 * Whether an expression's CEL type may go into a target column, decided at spec check. The rule: a target type
 * CEL has a type for (integers, floats, boolean) needs a value of that type, converted explicitly
 * ({@code to_int(status)}), because text that is not a number would fail every row at run time; types CEL has
 * no type for (numeric, dates, timestamps, uuid, json, bytea, arrays, anything else) are carried as text and
 * checked per value ({@link TargetValues}), as the sink's cast would. Text columns take any scalar; {@code dyn}
 * (and NULL) cannot be judged before run time and passes.
 */
final class TargetAssignment {
    private static final Set<CelKind> UNKNOWN = Set.of(CelKind.DYN, CelKind.ANY, CelKind.TYPE_PARAM, CelKind.NULL_TYPE,
            CelKind.ERROR, CelKind.UNSPECIFIED);
    private static final Set<CelKind> NUMBERS = Set.of(CelKind.INT, CelKind.UINT, CelKind.DOUBLE);
    private static final Set<CelKind> SCALARS = Set.of(CelKind.STRING, CelKind.INT, CelKind.UINT, CelKind.DOUBLE, CelKind.BOOL,
            CelKind.BYTES, CelKind.TIMESTAMP);

    private TargetAssignment() {
    }

    /** The value's type without its nullability: SQL NULL may go anywhere NOT NULL allows (checked per row). */
    static CelType base(CelType t) {
        return t instanceof NullableType n ? n.targetType() : t;
    }

    /** Empty when a value of {@code type} may go into a column of {@code target}, else why not and what to write instead. */
    static Optional<String> check(CelType type, ColumnType target) {
        CelKind k = base(type).kind();
        if (UNKNOWN.contains(k) || allowed(k, target.kind())) {
            return Optional.empty();
        }
        return Optional.of(TypeNames.of(type) + " value into " + target.sql() + " column" + hint(k, target.kind()));
    }

    private static boolean allowed(CelKind k, ColumnType.Kind target) {
        return switch (target) {
            case INT2, INT4, INT8 -> k == CelKind.INT || k == CelKind.UINT;
            case FLOAT4, FLOAT8 -> NUMBERS.contains(k);
            case NUMERIC -> NUMBERS.contains(k) || k == CelKind.STRING;
            case BOOL -> k == CelKind.BOOL;
            case TEXT, VARCHAR, CHAR -> SCALARS.contains(k);
            case DATE, TIMESTAMP, TIMESTAMPTZ -> k == CelKind.STRING || k == CelKind.TIMESTAMP;
            case TIME, UUID -> k == CelKind.STRING;
            case JSON, JSONB -> k == CelKind.STRING || k == CelKind.LIST || k == CelKind.MAP || NUMBERS.contains(k) || k == CelKind.BOOL;
            case BYTEA -> k == CelKind.STRING || k == CelKind.BYTES;
            case ARRAY -> k == CelKind.LIST || k == CelKind.STRING;
            case OTHER -> true;
        };
    }

    private static String hint(CelKind k, ColumnType.Kind target) {
        return switch (target) {
            case INT2, INT4, INT8 -> switch (k) {
                case STRING -> ": convert it with to_int(...), which sends a row whose text is not an integer to the DLQ";
                case DOUBLE -> ": convert it with to_int(...) (refuses a fraction) or int(...) (drops it)";
                case BOOL -> ": write (x ? 1 : 0)";
                default -> ": compute an int";
            };
            case FLOAT4, FLOAT8 -> k == CelKind.STRING ? ": convert it with to_double(...)" : ": compute a double";
            case NUMERIC -> ": compute a number, or numeric text with to_numeric(..., scale)";
            case BOOL -> switch (k) {
                case STRING -> ": convert it with to_bool(...)";
                case INT, UINT, DOUBLE -> ": write a comparison (x != 0)";
                default -> ": compute a bool";
            };
            case TEXT, VARCHAR, CHAR -> ": convert it with to_text(...) (lists and maps become JSON)";
            case DATE -> ": write the date as text with to_date(...)";
            case TIMESTAMP, TIMESTAMPTZ -> ": write the timestamp as text with to_timestamptz(...)";
            case UUID -> ": write the uuid as text with to_uuid(...)";
            case TIME -> ": write the time as text (to_text(...))";
            default -> ": convert it with to_text(...)";
        };
    }
}
