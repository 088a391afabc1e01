# baseline: a clerk looks a citizen up by id
SELECT name, id_card, phone FROM person WHERE id = 7

# schema-qualified names resolve without the search_path
SELECT name FROM gov.person WHERE id = $1

# TABLE is SELECT * (catalog column order, all columns direct)
TABLE gov.person

# * and alias.* in catalog order
SELECT * FROM person p WHERE p.id = 1

SELECT p.*, h.relation FROM person p JOIN household h ON h.person_id = p.id WHERE p.id = 1

# column aliases of a FROM item rename, the origin stays the real column
SELECT a, b FROM person AS p(a, b) WHERE a = 3

# output alias
SELECT id_card AS card FROM person WHERE id = 1

# exact lookups: literal, parameter, cast, IN list, = ANY
SELECT name FROM person WHERE id_card = '110105194912310021'

SELECT name FROM person WHERE '110105194912310021' = id_card

SELECT name FROM person WHERE id_card = $1::text

SELECT name FROM person WHERE id_card IN ('1', '2', $3)

SELECT name FROM person WHERE id_card NOT IN ('1', '2')

SELECT name FROM person WHERE id_card = ANY('{1,2}')

SELECT name FROM person WHERE id_card = ANY($1)

SELECT name FROM person WHERE id_card = ANY(ARRAY['1', '2'])

SELECT name FROM person WHERE NOT (id_card = '1') AND (id = 1 OR id = 2)

SELECT name FROM person WHERE id_card OPERATOR(pg_catalog.=) '1'

# not exact lookups
SELECT name FROM person WHERE id_card LIKE '1101%'

SELECT name FROM person WHERE id_card <> '1'

SELECT name FROM person WHERE lower(id_card) = '1'

SELECT name FROM person WHERE id_card > '1'

SELECT name FROM person WHERE id_card BETWEEN '1' AND '2'

SELECT name FROM person WHERE id_card ~ '^11'

SELECT name FROM person WHERE id_card = name

SELECT name FROM person WHERE id_card IS NULL

SELECT name FROM person WHERE id_card IS DISTINCT FROM '1'

SELECT name FROM person WHERE id_card SIMILAR TO '11%'

SELECT name FROM person WHERE id_card ILIKE '11%' ESCAPE '!'

# transformations
SELECT upper(name), length(id_card), substring(phone FROM 1 FOR 3) FROM person WHERE id = 1

SELECT name || ' ' || address AS label FROM person WHERE id = 1

SELECT id_card::text, CAST(phone AS varchar(20)), birthday::date FROM person WHERE id = 1

SELECT name COLLATE "C" FROM person WHERE id = 1

SELECT CASE WHEN id_card LIKE '11%' THEN 'beijing' ELSE 'other' END FROM person WHERE id = 1

SELECT coalesce(phone, address), nullif(name, ''), greatest(id, dept) FROM person WHERE id = 1

SELECT extract(year FROM birthday), age(birthday), date_trunc('month', created_at) FROM person WHERE id = 1

SELECT md5(id_card), encode(sha256(id_card::bytea), 'hex') FROM person WHERE id = 1

SELECT format('%s-%s', name, phone), concat_ws(',', name, address) FROM person WHERE id = 1

SELECT regexp_replace(id_card, '\d', '*', 'g'), left(bank_card, 4) FROM person WHERE id = 1

SELECT ARRAY[name, phone], (ARRAY[name, phone])[1] FROM person WHERE id = 1

SELECT jsonb_build_object('card', id_card) ->> 'card' FROM person WHERE id = 1

SELECT birthday + interval '1 day', now(), current_date, current_user, $1 FROM person WHERE id = 1

SELECT 1, 'x', NULL, true, -5, 1.5

# whole-row references are every column, read through the row
SELECT p FROM person p WHERE p.id = 1

SELECT person FROM gov.person WHERE id = 1

SELECT row_to_json(p) FROM person p WHERE p.id = 1

SELECT to_jsonb(p), to_json(p.*) FROM person p WHERE p.id = 1

SELECT json_agg(p), jsonb_agg(p) FROM person p

SELECT hstore(p) FROM person p WHERE p.id = 1

SELECT ROW(p.*) FROM person p WHERE p.id = 1

SELECT p::text FROM person p WHERE p.id = 1

SELECT (p.*)::text FROM person p WHERE p.id = 1

SELECT (p).id_card, (p).name FROM person p WHERE p.id = 1

SELECT (p).* FROM person p WHERE p.id = 1

SELECT p.row_to_json FROM person p WHERE p.id = 1

SELECT h FROM household h WHERE h.id = 1

SELECT s FROM (SELECT name, id_card FROM person) s WHERE s.name = 'x'

# a column of that name wins over the whole row
SELECT id FROM person id WHERE id.id = 1

# joins
SELECT p.name, h.member_name FROM person p JOIN household h ON h.person_id = p.id WHERE p.id = 1

SELECT p.name, h.member_name FROM person p LEFT JOIN household h ON h.person_id = p.id AND h.relation = 'spouse' WHERE p.id = 1

SELECT * FROM person JOIN household USING (id) WHERE id = 1

SELECT id, person.id, household.id FROM person FULL JOIN household USING (id) WHERE person.id = 1

SELECT * FROM person NATURAL JOIN household WHERE id = 1

SELECT * FROM person_public NATURAL JOIN person_cards

SELECT j.name, j.relation FROM (person p JOIN household h ON h.person_id = p.id) AS j WHERE j.id = 1

SELECT u.id FROM person JOIN household USING (id) AS u

SELECT p.name, h.member_name FROM person p, household h WHERE h.person_id = p.id AND p.id = 1

SELECT p.name FROM person p CROSS JOIN household h WHERE p.id = 1

SELECT p.name FROM person p JOIN household h ON p.id_card = h.member_id_card

# subqueries in FROM, LATERAL, functions in FROM
SELECT s.card FROM (SELECT id, id_card AS card FROM person) s WHERE s.id = 1

SELECT s.x FROM (SELECT upper(name) AS x FROM person WHERE id = 1) s

SELECT x.c FROM person p, LATERAL (SELECT p.id_card AS c) x WHERE p.id = 1

SELECT p.name, h.cnt FROM person p JOIN LATERAL (SELECT count(*) AS cnt FROM household WHERE person_id = p.id) h ON true WHERE p.id = 1

SELECT g FROM generate_series(1, 10) g

SELECT n, ordinality FROM person p, unnest(ARRAY[p.name, p.phone]) WITH ORDINALITY AS u(n) WHERE p.id = 1

SELECT key, value FROM person p, jsonb_each(to_jsonb(p)) WHERE p.id = 1

SELECT r.a FROM person p, jsonb_to_record(to_jsonb(p)) AS r(a text, id_card text) WHERE p.id = 1

SELECT * FROM ROWS FROM (generate_series(1, 2), unnest(ARRAY['a'])) AS t(x, y)

SELECT * FROM gov.lookup_people('x')

SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(x, y)

SELECT name FROM person TABLESAMPLE bernoulli (10) WHERE id = 1

# CTEs
WITH c AS (SELECT id, id_card FROM person) SELECT id_card FROM c WHERE id = 1

WITH c(k, v) AS (SELECT id, name FROM person) SELECT k, v FROM c WHERE k = 1

WITH a AS (SELECT id, name FROM person), b AS (SELECT name FROM a) SELECT name FROM b

WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r

WITH RECURSIVE chain(id, card) AS (SELECT id, id_card FROM person WHERE id = 1 UNION SELECT h.id, h.member_id_card FROM household h JOIN chain c ON h.person_id = c.id) SELECT card FROM chain

WITH RECURSIVE r(a, b) AS (SELECT 1, id_card FROM person WHERE id = 1 UNION ALL SELECT b, a::text FROM r) SELECT a FROM r

WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SEARCH DEPTH FIRST BY n SET ord SELECT * FROM t LIMIT 5

WITH RECURSIVE x AS (SELECT * FROM y), y AS (SELECT id FROM person) SELECT id FROM x

WITH d AS (DELETE FROM person WHERE id = 1 RETURNING id_card) SELECT * FROM d

WITH u AS (UPDATE person SET name = 'x' WHERE id = 1 RETURNING *) SELECT name FROM u

WITH c AS MATERIALIZED (SELECT name FROM person) SELECT name FROM c WHERE name = 'x'

WITH person AS (SELECT 1 AS id) SELECT id FROM person

# set operations: lineage merged per position, no origins
SELECT name FROM person WHERE id = 1 UNION SELECT member_name FROM household WHERE id = 2

SELECT name FROM person WHERE id = 1 UNION ALL SELECT member_name FROM household

SELECT id_card FROM person INTERSECT SELECT member_id_card FROM household

SELECT id FROM person EXCEPT SELECT person_id FROM household ORDER BY 1 LIMIT 10

(SELECT name FROM person ORDER BY id LIMIT 1) UNION ALL (SELECT member_name FROM household LIMIT 2)

VALUES (1, 'a'), (2, 'b') ORDER BY 1

# subqueries in expressions (correlated references resolve outward)
SELECT name, (SELECT max(member_name) FROM household h WHERE h.person_id = p.id) FROM person p WHERE p.id = 1

SELECT name FROM person p WHERE EXISTS (SELECT 1 FROM household h WHERE h.person_id = p.id AND h.member_id_card = '1')

SELECT name FROM person WHERE id IN (SELECT person_id FROM household WHERE relation = 'child')

SELECT name FROM person WHERE id = ANY (SELECT person_id FROM household)

SELECT ARRAY(SELECT id_card FROM person WHERE dept = 3)

SELECT (SELECT id_card FROM person WHERE id = 1) AS c

SELECT name FROM person p WHERE p.id = 1 AND (SELECT count(*) FROM household h WHERE h.member_id_card = p.id_card) > 0

# aggregates, FILTER, ordered aggregates, grouping
SELECT dept, count(*) FROM person GROUP BY dept

SELECT dept, count(*) FILTER (WHERE id_card LIKE '11%') FROM person GROUP BY dept

SELECT dept, count(*) FILTER (WHERE id_card = '1') FROM person GROUP BY dept

SELECT string_agg(name, ',' ORDER BY id_card) FROM person WHERE dept = 3

SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY id_card) FROM person WHERE dept = 3

SELECT mode() WITHIN GROUP (ORDER BY bank_card) FROM person

SELECT array_agg(DISTINCT dept) FROM person

SELECT dept, max(birthday) FROM person GROUP BY 1 HAVING count(*) > 1

SELECT dept AS d, count(*) FROM person GROUP BY d

SELECT substr(id_card, 1, 6) AS region, count(*) FROM person GROUP BY region

SELECT dept, count(*) FROM person GROUP BY ROLLUP (dept, (name, phone))

SELECT dept, birthday, count(*) FROM person GROUP BY CUBE (dept, birthday)

SELECT dept, GROUPING(dept), count(*) FROM person GROUP BY GROUPING SETS ((dept), ())

SELECT dept FROM person GROUP BY dept HAVING max(id_card) = '1'

# window functions
SELECT name, row_number() OVER (PARTITION BY dept ORDER BY birthday) FROM person WHERE dept = 3

SELECT name, rank() OVER w FROM person WHERE dept = 3 WINDOW w AS (ORDER BY id_card)

SELECT name, lag(phone) OVER (ORDER BY id) FROM person WHERE dept = 3

SELECT sum(id) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM person WHERE dept = 3

# DISTINCT, DISTINCT ON, ORDER BY by alias, position, expression
SELECT DISTINCT dept FROM person

SELECT DISTINCT ON (dept) dept, name FROM person ORDER BY dept, birthday

SELECT DISTINCT ON (2) dept, id_card FROM person ORDER BY 2

SELECT name AS n FROM person WHERE dept = 3 ORDER BY n

SELECT name, id_card FROM person WHERE dept = 3 ORDER BY 2

SELECT name FROM person WHERE dept = 3 ORDER BY id_card DESC NULLS LAST

SELECT name FROM person WHERE dept = 3 ORDER BY 5

SELECT name FROM person WHERE dept = 3 ORDER BY id USING <

# LIMIT, OFFSET, FETCH
SELECT name FROM person LIMIT 10

SELECT name FROM person LIMIT $1

SELECT name FROM person LIMIT 10 OFFSET 20

SELECT name FROM person FETCH FIRST 5 ROWS ONLY

SELECT name FROM person ORDER BY dept FETCH FIRST 5 ROWS WITH TIES

SELECT name FROM person LIMIT ALL

SELECT name FROM person OFFSET 5

SELECT name FROM person LIMIT (SELECT length(id_card) FROM person WHERE id = 1)

SELECT name FROM person LIMIT 5000000000

# views are expanded through their definition; origins are the view
SELECT id, name FROM person_public WHERE id = 1

SELECT * FROM gov.person_contact WHERE pid = 1

SELECT card FROM person_cards WHERE id = 1

SELECT card FROM nested_cards

SELECT pc.card FROM person_cards pc WHERE pc.card = '1'

SELECT card FROM masked_view WHERE id = 1

SELECT a FROM broken_view

SELECT x.name FROM (SELECT name FROM person_public) x

SELECT member_id_card FROM household_2024 WHERE id = 1

# case-sensitive names: quoted identifiers keep their case
SELECT "Name" FROM "Dept" WHERE "Id" = 1

SELECT name FROM dept

SELECT "NAME" FROM person WHERE id = 1

# system relations: known columns, no personal data, recorded as system objects
SELECT relname FROM pg_class WHERE relnamespace = 2200

SELECT c.relname, n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'

SELECT most_common_vals FROM pg_stats WHERE tablename = 'person' AND attname = 'id_card'

SELECT query FROM pg_stat_activity

SELECT stavalues1 FROM pg_statistic

SELECT * FROM pg_tables WHERE schemaname = 'gov'

SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'gov' AND table_name = 'person'

SELECT table_name FROM information_schema.tables WHERE table_schema = 'gov'

SELECT * FROM pg_catalog.pg_proc

SELECT ctid, xmin, tableoid FROM person WHERE id = 1

# psql \d and driver catalog queries
SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname OPERATOR(pg_catalog.~) '^(person)$' COLLATE pg_catalog.default AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 2, 3

SELECT a.attname, pg_catalog.format_type(a.atttypid, NULL), a.attnotnull FROM pg_catalog.pg_attribute a WHERE a.attrelid = '16384' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum

SELECT pg_catalog.pg_get_userbyid(c.relowner), pg_catalog.obj_description(c.oid, 'pg_class'), pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size(c.oid)) FROM pg_catalog.pg_class c WHERE c.oid = 16384

SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' ORDER BY 1

SELECT current_schema(), current_schemas(false), current_database(), version(), current_setting('search_path'), session_user

SELECT t.typname FROM pg_type t WHERE t.oid = $1::regclass::oid

# functions: unknown, dangerous, schema-qualified
SELECT gov.mask(id_card) FROM person WHERE id = 1

SELECT my_func(1)

SELECT public.lower(name) FROM person WHERE id = 1

SELECT pg_catalog.lower(name) FROM person WHERE id = 1

SELECT set_config('search_path', 'evil', false)

SELECT pg_read_file('/etc/passwd')

SELECT pg_catalog.pg_read_binary_file('global/pg_control')

SELECT pg_ls_dir('.')

SELECT lo_import('/etc/passwd'), lo_export(1, '/tmp/x'), loread(0, 10)

SELECT dblink('host=x', 'SELECT 1'), dblink_connect('x')

SELECT query_to_xml('SELECT id_card FROM gov.person', true, true, '')

SELECT table_to_xml('gov.person', true, true, '')

SELECT pg_sleep(10)

SELECT pg_advisory_lock(1), pg_try_advisory_xact_lock(2)

SELECT pg_terminate_backend(123), pg_cancel_backend(123), pg_reload_conf()

SELECT pg_notify('ch', name) FROM person WHERE id = 1

SELECT pg_stat_get_activity(NULL)

SELECT nextval('gov.person_id_seq'), currval('gov.person_id_seq')

SELECT txid_current(), pg_current_xact_id_if_assigned()

SELECT ts_stat('SELECT to_tsvector(id_card) FROM gov.person')

SELECT count(*) FROM person p WHERE p.name = 'x' AND gov.check(p.id_card)

# operators
SELECT name FROM person WHERE id = 1 AND phone <=> 'x'

SELECT name FROM person WHERE id OPERATOR(evil.=) 1

SELECT (to_jsonb(p) -> 'name'), to_jsonb(p) ? 'id_card' FROM person p WHERE p.id = 1

SELECT id FROM person WHERE ARRAY[dept] && ARRAY[1, 2] AND id = 1

# casts to types outside pg_catalog may run user code
SELECT id::evil.mytype FROM person WHERE id = 1

SELECT id::int, id::integer, id::bigint, name::character varying(10), created_at::timestamptz, '1'::regclass FROM person WHERE id = 1

# search_path resolution
@path public, gov
SELECT id, nick FROM person WHERE id = 1

@path gov
SELECT name FROM person WHERE id = 1

@path "$user", gov
@user gov
SELECT name FROM person WHERE id = 1

@path unknown
SELECT name FROM person WHERE id = 1

@path unknown
SELECT name FROM gov.person WHERE id = 1

@path unknown
SELECT lower(name) FROM gov.person WHERE id = 1

@path evil, pg_catalog, gov
SELECT lower(name) FROM person WHERE id = 1

@path evil, pg_catalog, gov
SELECT pg_catalog.lower(name) FROM person WHERE id OPERATOR(pg_catalog.=) 1

@path nosuchschema, pg_catalog, gov
SELECT lower(name) FROM person WHERE id = 1

@path gov, pg_catalog
SELECT lower(name) FROM person WHERE id = 1

@path pg_temp, gov
SELECT name FROM person WHERE id = 1

@path gov
SELECT relname FROM pg_class

# INSERT
INSERT INTO person (id, name) VALUES (1, 'x')

INSERT INTO audit (id, note) SELECT id, id_card FROM person WHERE id = 1

INSERT INTO audit (note) SELECT upper(name) FROM person

INSERT INTO person (id, name) VALUES (1, 'x') RETURNING id, id_card

INSERT INTO person AS p (id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE p.id_card = '1' RETURNING *

INSERT INTO audit (id, note) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET note = (SELECT id_card FROM person WHERE id = 1)

INSERT INTO audit DEFAULT VALUES

INSERT INTO person_public (id, name) VALUES (1, 'x')

WITH src AS (SELECT id, bank_card FROM person WHERE id = 1) INSERT INTO audit SELECT id, bank_card FROM src

INSERT INTO nowhere VALUES (1)

# UPDATE
UPDATE person SET phone = '123' WHERE id = 1

UPDATE person SET phone = '123'

UPDATE person SET phone = address WHERE id = 1

UPDATE audit a SET note = p.id_card FROM person p WHERE p.id = a.id

UPDATE audit SET (id, note) = (SELECT id, name FROM person WHERE id = 1) WHERE id = 2

UPDATE person SET name = 'x' WHERE id = 1 RETURNING id_card

UPDATE person SET name = 'x' WHERE id_card LIKE '11%'

UPDATE person SET name = DEFAULT WHERE CURRENT OF c1

# DELETE
DELETE FROM person WHERE id = 1

DELETE FROM person

DELETE FROM household h USING person p WHERE p.id = h.person_id AND p.id_card = '1' RETURNING h.member_id_card

# MERGE is not analysed
MERGE INTO audit a USING person p ON a.id = p.id WHEN MATCHED THEN UPDATE SET note = p.id_card

# SELECT INTO / CREATE TABLE AS / materialized views are DDL with a flow
SELECT id_card INTO stash FROM person

CREATE TABLE stash AS SELECT name, phone FROM person

CREATE MATERIALIZED VIEW gov.cards AS SELECT id_card FROM person WITH NO DATA

CREATE VIEW v AS SELECT id_card FROM gov.person

CREATE TABLE t (id int)

DROP TABLE gov.household, audit

TRUNCATE person

ALTER TABLE person ADD COLUMN x int

CREATE INDEX ON person (id_card)

GRANT SELECT ON person TO clerk

CREATE ROLE x

CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'

# COPY
COPY person TO STDOUT

COPY person (id, id_card) TO STDOUT WITH (FORMAT csv)

COPY (SELECT name, upper(phone) FROM person WHERE id = 1) TO STDOUT

COPY person (id, name) TO STDOUT WITH CSV HEADER DELIMITER ';' QUOTE '''' ESCAPE '\' FORCE QUOTE *

COPY person (id, name) TO STDOUT (FORMAT text, NULL 'x', HEADER)

COPY person (id, name) TO STDOUT (FORMAT binary)

COPY person (id, name) TO STDOUT (ENCODING 'GBK')

COPY person TO '/tmp/person.csv'

COPY (SELECT 1) TO PROGRAM 'curl http://x'

COPY audit FROM STDIN

COPY audit FROM '/etc/passwd'

COPY audit FROM PROGRAM 'id'

# session statements
SET search_path = gov, public

SET search_path TO DEFAULT

SET ROLE admin

RESET ROLE

SET SESSION AUTHORIZATION postgres

SET client_encoding = 'GBK'

SET NAMES 'GBK'

SET standard_conforming_strings = off

RESET ALL

RESET client_encoding

SET LOCAL statement_timeout = '5s'

SET TIME ZONE 'UTC'

SET TRANSACTION ISOLATION LEVEL SERIALIZABLE

SHOW search_path

SHOW ALL

ALTER SYSTEM SET log_statement = 'all'

DISCARD ALL

# transactions: a rollback may revert a SET
BEGIN

START TRANSACTION READ ONLY

COMMIT

END

ROLLBACK

ABORT

SAVEPOINT s1

RELEASE SAVEPOINT s1

ROLLBACK TO SAVEPOINT s1

PREPARE TRANSACTION 'x'

COMMIT PREPARED 'x'

# multi-statement text: after SET the search_path is unknown
SET search_path = evil, pg_catalog; SELECT lower(name) FROM person WHERE id = 1

BEGIN; SELECT name FROM person WHERE id = 1; COMMIT

# EXPLAIN
EXPLAIN SELECT name FROM person WHERE id_card LIKE '11%'

EXPLAIN ANALYZE SELECT name FROM person WHERE id = 1

EXPLAIN (ANALYZE true, FORMAT json) SELECT 1

EXPLAIN (ANALYZE off) SELECT 1

EXPLAIN (ANALYZE 0) SELECT 1

EXPLAIN (ANALYZE maybe) SELECT 1

EXPLAIN UPDATE person SET name = 'x' WHERE id = 1

EXPLAIN EXECUTE p1

# PREPARE / EXECUTE / DEALLOCATE
PREPARE p1 (int) AS SELECT name, id_card FROM person WHERE id = $1

PREPARE p2 AS SELECT set_config('role', 'x', false)

PREPARE p3 (evil.t) AS SELECT 1

EXECUTE p1 (1)

DEALLOCATE p1

# cursors
DECLARE c1 CURSOR FOR SELECT name, id_card FROM person WHERE dept = 3

DECLARE c2 CURSOR WITH HOLD FOR SELECT * FROM person

FETCH 10 FROM c1

MOVE NEXT IN c1

CLOSE c1

# code and notifications
DO $$ BEGIN PERFORM 1; END $$

CALL gov.refresh(1)

LISTEN ch

NOTIFY ch, 'hello'

UNLISTEN *

LOCK TABLE person IN ACCESS SHARE MODE

VACUUM person

# SQL/JSON and XML constructors
SELECT json_object('card' VALUE id_card), json_array(name, phone) FROM person WHERE id = 1

SELECT json_arrayagg(name ORDER BY id_card) FROM person

SELECT json_value(to_jsonb(p), '$.name') FROM person p WHERE p.id = 1

SELECT xmlelement(name card, id_card), xmlforest(name AS n) FROM person WHERE id = 1

SELECT id_card IS JSON FROM person WHERE id = 1

SELECT * FROM XMLTABLE('/a' PASSING '<a/>' COLUMNS x text)

# row locks are not refused here (the server checks the UPDATE privilege)
SELECT * FROM person WHERE id = 1 FOR UPDATE

SELECT name FROM person WHERE id = 1 AND id_card IS NOT NULL

# unnest of an array of a composite type returns the composite's columns
SELECT * FROM unnest($1) u, person q WHERE q.id = 1

SELECT * FROM person p, unnest(ARRAY[p]) u WHERE p.id = 1

SELECT * FROM unnest($1::int[]) u, person q WHERE q.id = u

SELECT * FROM unnest(ARRAY[1, 2], ARRAY['a', 'b']) AS u(n, s)

SELECT * FROM person p, CAST(p AS gov.person) c WHERE p.id = 1

SELECT * FROM CURRENT_DATE AS d, CAST('1' AS int) AS i

# set-returning functions shape the row count through their arguments
SELECT count(*) FROM person p, generate_series(1, ascii(substr(p.id_card, 1, 1))) g WHERE p.id = 1

SELECT count(*) FROM (SELECT generate_series(1, length(id_card)) FROM person WHERE id = 1) s

SELECT count(*) FROM person p JOIN LATERAL regexp_split_to_table(p.id_card, '') x ON true WHERE p.id = 1
