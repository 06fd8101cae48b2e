package io.pgbackfill.ops;

/**
 * The users → users_v2 migration the demo, chaos, connection and operator tests run (the transform of
 * ops/examples/users-split.yaml, with created_at), as spec YAML: one definition instead of one per test.
 */
public final class UsersSplitSpec {
    private UsersSplitSpec() {
    }

    /** The {@code tables:} section migrating {@code public.<sourceTable>} into {@code public.users_v2}, ending in a newline. */
    public static String tables(String sourceTable) {
        return """
                tables:
                  - source: public.%s
                    target: public.users_v2
                    columns:
                      id: id
                      first_name: before(name, ' ')
                      last_name: after(name, ' ')
                      email: lower(email)
                      created_at: created_at
                """.formatted(sourceTable);
    }
}
