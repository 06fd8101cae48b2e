-- The application's database on source-db (runs once, when the data volume is first created).
-- Same table and data shapes as the demo (ops/src/main/java/io/pgbackfill/ops/demo/DemoData.java): one-, two- and
-- three-word names, NULL names and emails, unicode and emoji, mixed-case emails. The new table users_v2 lives on
-- target-db (target-init.sql): this migration moves data to another cluster.
CREATE TABLE users (id bigserial PRIMARY KEY, name text, email text, created_at timestamptz);

INSERT INTO users (name, email, created_at)
SELECT CASE WHEN g % 17 = 0 THEN NULL
            WHEN g % 7 = 0 THEN (ARRAY['Ana','João','Zoë','Müller','李','Émilie','Олег','Priya','O''Brien','Sam 🙂'])[1 + g % 10]
            ELSE (ARRAY['Ana','João','Zoë','Müller','李','Émilie','Олег','Priya','O''Brien','Sam 🙂'])[1 + g % 10] || ' '
                 || (ARRAY['Silva','Souza Lima','Ng','van der Berg','小龍','Kowalski','Nakamura','de la Cruz','Smith','Ødegaard'])[1 + (g / 10) % 10]
       END,
       CASE WHEN g % 23 = 0 THEN NULL ELSE 'User.' || g || '@Example.COM' END,
       timestamptz '2020-01-01 00:00:00+00' + g * interval '37 seconds 123457 microseconds'
FROM generate_series(1, 100000) g;

ANALYZE users;
