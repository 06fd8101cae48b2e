-- Rollback of a same-database cutover (ops/runbooks/rollback.md): the old table, renamed <table>_<suffix> by the
-- cutover, becomes <table> again; the new table goes back to its own name; the serial column's sequence follows
-- the old table again. One transaction, nothing dropped. Writes made to the new table after the cutover are NOT
-- copied back (see rollback.md). Every name is a parameter, quoted by psql (identifiers) or checked by a cast.
--
--   psql "postgresql://…/app" -v ON_ERROR_STOP=1 -v schema=public -v table=users -v suffix=old \
--        -v new_table=users_v2 -v column=id -v sequence=public.users_id_seq -f ops/runbooks/rollback-same-database.sql
--   docker compose exec -T source-db psql -U postgres -d app -v ON_ERROR_STOP=1 -v schema=public -v table=users \
--        -v suffix=old -v new_table=users_v2 -v column=id -v sequence=public.users_id_seq < ops/runbooks/rollback-same-database.sql
--
-- Without a serial column, pass -v column= -v sequence= (empty): the sequence steps are skipped.
\set old_table :table '_' :suffix
BEGIN;
-- Like the cutover: wait at most 2 s for the table locks (writers queue behind a waiting lock), then fail cleanly.
SET LOCAL lock_timeout = '2s';
ALTER TABLE :"schema".:"table" RENAME TO :"new_table";
ALTER TABLE :"schema".:"old_table" RENAME TO :"table";
SELECT :'sequence' <> '' AS has_sequence \gset
\if :has_sequence
SELECT format('ALTER TABLE %I.%I ALTER COLUMN %I SET DEFAULT nextval(%L::regclass)', :'schema', :'table', :'column', :'sequence'::regclass)
\gexec
SELECT format('ALTER SEQUENCE %s OWNED BY %I.%I.%I', :'sequence'::regclass, :'schema', :'table', :'column')
\gexec
SELECT format('ALTER TABLE %I.%I ALTER COLUMN %I DROP DEFAULT', :'schema', :'new_table', :'column')
\gexec
\endif
COMMIT;
