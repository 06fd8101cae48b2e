-- The new table on target-db (runs once, when the data volume is first created). The sink adds its own
-- bookkeeping (an LSN column and the pgbackfill schema) when it starts.
CREATE TABLE users_v2 (id bigint PRIMARY KEY, first_name text, last_name text, email text, created_at timestamptz);
