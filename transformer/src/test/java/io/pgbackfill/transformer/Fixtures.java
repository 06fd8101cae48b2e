package io.pgbackfill.transformer;

import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.catalog.ColumnType;
import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import io.pgbackfill.core.sql.TableName;
import io.pgbackfill.core.transform.MigrationPlan;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The demo migration compiled against in-code catalogs: no database needed. */
final class Fixtures {
    private Fixtures() {
    }

    static final String SPEC = """
            name: users-split
            source: {jdbcUrl: "jdbc:postgresql://h/db"}
            kafka: {partitions: 1}
            tables:
              - source: public.users
                target: public.users_v2
                columns:
                  id: id
                  first_name: before(name, ' ')
                  last_name: after(name, ' ')
                  email: lower(email)
                  created_at: created_at
                  score: to_int(score)
            """;

    static MigrationPlan plan() {
        PipelineSpec spec = SpecLoader.parse(SPEC, "users-split.yaml");
        return MigrationPlan.compile(spec, "users-split.yaml",
                Map.of("public.users", schema("public.users", "id:bigint", "name:text", "email:text", "created_at:timestamp with time zone", "score:text")),
                Map.of("public.users_v2", schema("public.users_v2", "id:bigint", "first_name:text", "last_name:text", "email:text",
                        "created_at:timestamp with time zone", "score:integer")), true);
    }

    static TableSchema schema(String name, String... cols) {
        Map<String, Column> m = new LinkedHashMap<>();
        for (String c : cols) {
            String[] p = c.split(":");
            m.put(p[0], new Column(p[0], ColumnType.parse(p[1]), p[0].equals("id")));
        }
        return new TableSchema(TableName.parse(name), m, List.of("id"), "d", 0);
    }
}
