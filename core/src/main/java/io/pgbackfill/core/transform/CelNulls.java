package io.pgbackfill.core.transform;

/** SQL NULL inside CEL: CEL's null value; a Java null never reaches an expression. */
final class CelNulls {
    static final Object NULL = com.google.protobuf.NullValue.NULL_VALUE;

    private CelNulls() {
    }

    static boolean isNull(Object o) {
        return o == null || o instanceof com.google.protobuf.NullValue || o instanceof dev.cel.common.values.NullValue;
    }

    static Object toCel(Object v) {
        return v == null ? NULL : v;
    }
}
