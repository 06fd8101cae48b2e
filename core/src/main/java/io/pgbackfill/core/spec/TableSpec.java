package io.pgbackfill.core.spec;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.pgbackfill.core.sql.TableName;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One table of a migration: where rows come from, where they go, and how each target column is
 * computed. {@code columns} maps target column to a CEL expression over the source row; order is kept.
 * {@code key}: target key columns (default: the source primary key names). {@code filter}: rows
 * for which it is false are not migrated (and are deleted from the target if they stop matching).
 * {@code mapper}: a {@link io.pgbackfill.core.transform.RowMapper} class for what expressions cannot say.
 * {@code reverse}: optional, each old-table column as a CEL expression over a new-table row, for the reverse stream
 * after cutover ({@link io.pgbackfill.core.reverse.ReversePipeline}).
 */
public record TableSpec(
        @JsonProperty(required = true) SpecText source,
        @JsonProperty(required = true) SpecText target,
        List<SpecText> key,
        SpecText filter,
        Map<String, SpecText> columns,
        SpecText mapper,
        ReverseMapping reverse) {

    public TableSpec(SpecText source, SpecText target, List<SpecText> key, SpecText filter, Map<String, SpecText> columns, SpecText mapper) {
        this(source, target, key, filter, columns, mapper, null);
    }

    public TableSpec {
        columns = columns == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(columns));
        key = key == null ? List.of() : List.copyOf(key);
    }

    public TableName sourceName() {
        return TableName.parse(source.text());
    }

    public TableName targetName() {
        return TableName.parse(target.text());
    }
}
