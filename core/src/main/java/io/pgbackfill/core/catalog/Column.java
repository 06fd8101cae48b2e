package io.pgbackfill.core.catalog;

/** A column of a table in the catalog. */
public record Column(String name, ColumnType type, boolean notNull) {
}
