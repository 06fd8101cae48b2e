package io.pgbackfill.core.sql;

/** A schema-qualified table name, both parts validated; {@code users} means {@code public.users}. */
public record TableName(SqlIdentifier schema, SqlIdentifier table) {

    public static TableName parse(String qualified) {
        if (qualified == null || qualified.isBlank()) {
            throw new IllegalArgumentException("table name is empty");
        }
        int dot = qualified.indexOf('.');
        if (dot < 0) {
            return new TableName(SqlIdentifier.of("public"), SqlIdentifier.of(qualified));
        }
        if (qualified.indexOf('.', dot + 1) >= 0) {
            throw new IllegalArgumentException("'" + SqlIdentifier.printable(qualified) + "' is not a valid table name (schema.table)");
        }
        return new TableName(SqlIdentifier.of(qualified.substring(0, dot)), SqlIdentifier.of(qualified.substring(dot + 1)));
    }

    public String quoted() {
        return schema.quoted() + "." + table.quoted();
    }

    /** schema.table, unquoted: Debezium's data-collection id and our topic suffix. */
    public String id() {
        return schema.name() + "." + table.name();
    }

    @Override
    public String toString() {
        return id();
    }
}
