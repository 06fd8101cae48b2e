package io.pgbackfill.core.transform;

import dev.cel.common.types.CelType;
import dev.cel.common.types.NullableType;
import dev.cel.common.types.SimpleType;
import io.pgbackfill.core.catalog.ColumnType;

/**
 * The CEL type of a source column, from its catalog type and the canonical form its values arrive in
 * ({@link io.pgbackfill.core.event.CanonicalValues}): integers are {@code int}, floats {@code double}, booleans
 * {@code bool}; numeric, dates, timestamps, uuid, json and bytea arrive as text and are {@code string}. Each is
 * nullable (CEL's wrapper type): it may be compared with {@code null} and still goes wherever its type goes.
 * Arrays and types without a canonical form stay {@code dyn}.
 */
final class SourceCelTypes {
    private SourceCelTypes() {
    }

    static CelType of(ColumnType type) {
        return switch (type.kind()) {
            case INT2, INT4, INT8 -> NullableType.create(SimpleType.INT);
            // NaN and ±Infinity arrive as text; arithmetic on them fails per row, as it would in SQL.
            case FLOAT4, FLOAT8 -> NullableType.create(SimpleType.DOUBLE);
            case BOOL -> NullableType.create(SimpleType.BOOL);
            case NUMERIC, TEXT, VARCHAR, CHAR, DATE, TIMESTAMP, TIMESTAMPTZ, TIME, UUID, JSON, JSONB, BYTEA -> NullableType.create(SimpleType.STRING);
            case ARRAY, OTHER -> SimpleType.DYN;
        };
    }
}
