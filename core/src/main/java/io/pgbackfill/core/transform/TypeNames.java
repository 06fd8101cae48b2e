package io.pgbackfill.core.transform;

import dev.cel.common.types.CelType;
import dev.cel.common.types.NullableType;

/** CEL types as a data engineer reads them: {@code string}, not {@code wrapper(string)}. */
final class TypeNames {
    private TypeNames() {
    }

    static String of(CelType t) {
        return t instanceof NullableType n ? of(n.targetType()) : t.name();
    }

    /** A CEL checker message with {@code wrapper(x)} (our nullable columns and results) shown as {@code x}. */
    static String plain(String message) {
        return message.replaceAll("wrapper\\(([a-z_.]+)\\)", "$1");
    }
}
