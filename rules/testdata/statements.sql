# baseline: a clerk looking a citizen up by id
SELECT name, id_card, phone FROM person WHERE id = 7

# baseline: non-personal columns
SELECT id, dept FROM person WHERE id = 7

# baseline: every column through *
SELECT * FROM person WHERE id = 7

# baseline: t.* of one side of a join
SELECT p.*, d.dname FROM person p JOIN dept d ON p.dept = d.id WHERE p.id = 7

# baseline: qualified by database
SELECT gov.person.name FROM gov.person WHERE gov.person.id = 7

# baseline: another database by USE'd name
@db hr
SELECT name, phone FROM staff WHERE id = 1

# baseline: no database selected
@db 
SELECT name FROM person WHERE id = 1

# baseline: unknown table
SELECT a FROM nosuch WHERE id = 1

# baseline: unknown column
SELECT nosuchcol FROM person WHERE id = 1

# baseline: case of table names (lower_case_table_names=0: PERSON is another table)
SELECT name FROM PERSON WHERE id = 1

# baseline: column names are case-insensitive
SELECT NAME, Id_Card FROM person WHERE ID = 1

# baseline: constant select
SELECT 1, 'a', NOW(), DATABASE(), USER(), VERSION()

# baseline: count of rows
SELECT COUNT(*) FROM person

# baseline: count of a non-personal column
SELECT dept, COUNT(*) FROM person GROUP BY dept

# class 1: alias
@each name id_card phone address bank_card birthday dept
SELECT {c} AS x FROM person WHERE id = 7

# class 1: alias in a derived table
SELECT x FROM (SELECT id_card AS x FROM person WHERE id = 7) d

# class 1: CTE column list
WITH c(x) AS (SELECT id_card FROM person WHERE id = 7) SELECT x FROM c

# class 1: CTE without column list
WITH c AS (SELECT id, phone FROM person) SELECT phone FROM c WHERE id = 7

# class 1: view renaming a column
SELECT card FROM v_person WHERE id = 7

# class 1: view computing a column
SELECT contact FROM v_contact WHERE pid = 7

# class 1: view over a view
SELECT card FROM v_nested

# class 1: star over a view
SELECT * FROM v_person WHERE id = 7

# class 1: view without personal data
SELECT * FROM v_dept

# class 1: broken view definition
SELECT a FROM v_broken

# class 2: functions over each masked column
@each name id_card phone address bank_card birthday
SELECT CONCAT({c}, '') FROM person WHERE id = 7

@each name id_card phone address bank_card birthday
SELECT LOWER({c}) FROM person WHERE id = 7

@each id_card phone bank_card
SELECT HEX({c}) FROM person WHERE id = 7

@each id_card phone address
SELECT REVERSE({c}) FROM person WHERE id = 7

@each id_card phone
SELECT SUBSTR({c}, 4, 4) FROM person WHERE id = 7

@each id_card phone bank_card
SELECT {c} + 0 FROM person WHERE id = 7

@each id_card phone birthday
SELECT CAST({c} AS CHAR) FROM person WHERE id = 7

# class 2: collation
SELECT id_card COLLATE utf8mb4_bin FROM person WHERE id = 7

# class 2: JSON
SELECT JSON_OBJECT('a', id_card) FROM person WHERE id = 7

# class 2: CONVERT
SELECT CONVERT(address USING gbk) FROM person WHERE id = 7

# class 2: CASE laundering
SELECT CASE WHEN id > 0 THEN phone END FROM person WHERE id = 7

# class 2: IF / IFNULL / COALESCE
SELECT IF(1, id_card, ''), IFNULL(phone, ''), COALESCE(address, '') FROM person WHERE id = 7

# class 2: arithmetic on a non-personal column is fine
SELECT id + 1, UPPER(dept) FROM person WHERE id = 7

# class 2: date functions on birthday
SELECT YEAR(birthday), DATE_FORMAT(birthday, '%Y') FROM person WHERE id = 7

# class 2: parenthesised column is still direct
SELECT (id_card) FROM person WHERE id = 7

# class 2: string concatenation with PIPES_AS_CONCAT
@mode PIPES_AS_CONCAT
SELECT name || id_card FROM person WHERE id = 7

# class 2: || is OR by default
SELECT name || id_card FROM person WHERE id = 7

# class 3: scalar subquery
SELECT (SELECT id_card FROM person WHERE id = 7) AS s

# class 3: correlated subquery
SELECT d.dname, (SELECT MAX(p.phone) FROM person p WHERE p.dept = d.id) FROM dept d

# class 3: derived table with star
SELECT * FROM (SELECT * FROM person) d WHERE id = 7

# class 3: derived table filtering on an alias of a masked column
SELECT x FROM (SELECT id_card x FROM person) d WHERE x LIKE '1101%'

# class 3: nested derived tables
SELECT y FROM (SELECT x AS y FROM (SELECT phone AS x, id FROM person) a WHERE id = 7) b

# class 3: subquery in FROM with a function
SELECT x FROM (SELECT UPPER(address) x FROM person) d

# class 3: IN subquery on non-personal columns
SELECT name FROM person WHERE dept IN (SELECT id FROM dept WHERE city = 'Beijing') AND id = 7

# class 3: EXISTS with a masked column condition
SELECT id FROM dept d WHERE EXISTS (SELECT 1 FROM person p WHERE p.dept = d.id AND p.id_card LIKE '11%')

# class 3: EXISTS with an exact lookup
SELECT id FROM dept d WHERE EXISTS (SELECT 1 FROM person p WHERE p.dept = d.id AND p.id_card = '110105194912310025')

# class 3: JSON_TABLE is not understood (refused)
SELECT j.v FROM person, JSON_TABLE(JSON_ARRAY(id_card), '$[*]' COLUMNS (v VARCHAR(20) PATH '$')) j

# class 3: LATERAL is not understood (refused)
SELECT l.x FROM person p, LATERAL (SELECT p.id_card AS x) l

# class 4: UNION of a masked and a plain column
SELECT name FROM person WHERE id = 7 UNION SELECT id_card FROM person WHERE id = 8

# class 4: UNION of plain columns
SELECT dept FROM person UNION SELECT id FROM dept

# class 4: UNION ALL of the same masked column
SELECT name FROM person WHERE id = 7 UNION ALL SELECT name FROM person WHERE id = 8

# class 4: UNION hiding a function in the second arm
SELECT name FROM person WHERE id = 7 UNION SELECT CONCAT(name, '') FROM person WHERE id = 8

# class 4: EXCEPT and INTERSECT
SELECT id FROM person EXCEPT SELECT id FROM dept

SELECT phone FROM person INTERSECT SELECT phone FROM hr.staff

# class 4: UNION with ORDER BY position
SELECT name, id_card FROM person WHERE id = 7 UNION SELECT name, id_card FROM person WHERE id = 8 ORDER BY 2

# class 5: NATURAL JOIN changes the column count
SELECT * FROM person NATURAL JOIN dept WHERE person.id = 7

# class 5: USING
SELECT * FROM person JOIN v_person USING (id) WHERE id = 7

# class 5: USING on a masked column
SELECT * FROM person JOIN hr.staff USING (phone)

# class 5: TABLE statement
TABLE person

# class 5: HANDLER (refused)
HANDLER person READ FIRST

# class 5: star over two tables
SELECT * FROM person, dept WHERE person.id = 7 AND dept.id = person.dept

# class 5: star over an unknown table
SELECT * FROM nosuch

# class 6: aggregates and windows
@each name id_card phone
SELECT MAX({c}) FROM person

@each name id_card phone
SELECT GROUP_CONCAT({c}) FROM person

SELECT JSON_ARRAYAGG(address) FROM person

SELECT LAG(phone) OVER () FROM person

SELECT FIRST_VALUE(id_card) OVER (ORDER BY id) FROM person WHERE id < 10

SELECT ROW_NUMBER() OVER (PARTITION BY dept ORDER BY birthday) FROM person WHERE id < 10

SELECT ROW_NUMBER() OVER w FROM person WHERE id < 10 WINDOW w AS (ORDER BY id_card)

SELECT COUNT(DISTINCT id_card) FROM person

SELECT GROUP_CONCAT(id ORDER BY id_card) FROM person

SELECT dept, COUNT(*), MIN(id) FROM person GROUP BY dept HAVING COUNT(*) > 1

# class 7: row-shaping oracles
@each name id_card phone address bank_card birthday
SELECT id FROM person WHERE {c} LIKE '1101%'

@each name id_card phone
SELECT id FROM person WHERE {c} > '5'

@each name id_card phone
SELECT id FROM person ORDER BY {c} LIMIT 10

@each name id_card phone birthday
SELECT COUNT(*) FROM person GROUP BY {c}

@each name id_card phone
SELECT DISTINCT {c} FROM person WHERE id < 10

SELECT COUNT(*) FROM person GROUP BY SUBSTR(id_card, 7, 1)

SELECT id FROM person WHERE SUBSTR(id_card, 1, 6) = '110105'

SELECT id FROM person WHERE id_card BETWEEN '1' AND '2'

SELECT id FROM person WHERE id_card REGEXP '^11'

SELECT id FROM person WHERE id_card IS NULL

SELECT id FROM person ORDER BY 2

SELECT id, id_card FROM person WHERE id < 10 ORDER BY 2

SELECT id, id_card FROM person WHERE id < 10 ORDER BY '2'

SELECT id, phone AS p FROM person WHERE id < 10 ORDER BY p

SELECT dept, COUNT(*) FROM person GROUP BY dept HAVING MAX(phone) > '139'

SELECT p.id FROM person p JOIN hr.staff s ON p.phone = s.phone

SELECT p.id FROM person p JOIN dept d ON p.dept = d.id AND p.id_card LIKE '11%'

SELECT id FROM person WHERE id_card = phone

# class 7: exact lookups are allowed
SELECT id, name FROM person WHERE id_card = '110105194912310025'

SELECT id, name FROM person WHERE '110105194912310025' = id_card

SELECT id, name FROM person WHERE id_card IN ('110105194912310025', '110105195001010011')

SELECT id, name FROM person WHERE phone = '13800138000' OR id_card = '1101'

SELECT id, name FROM person WHERE NOT (phone = '13800138000')

SELECT id FROM person WHERE id_card = ?

SELECT id FROM person WHERE phone = 13800138000

SELECT id FROM person WHERE phone = -1

SELECT id FROM person WHERE id_card IN (SELECT id_card FROM person WHERE id = 1)

SELECT id FROM person WHERE id_card = CONCAT('1101', '05')

SELECT id FROM person WHERE LOWER(id_card) = '11'

SELECT id FROM person p JOIN dept d ON p.id_card = '1101' WHERE p.dept = d.id

# class 8: errors carrying values
SELECT ExtractValue(1, CONCAT(0x7e, (SELECT id_card FROM person WHERE id = 7)))

SELECT UpdateXML(1, CONCAT(0x7e, phone), 1) FROM person WHERE id = 7

SELECT id FROM person WHERE address = 0

SHOW WARNINGS

SHOW ERRORS

SHOW COUNT(*) WARNINGS

GET DIAGNOSTICS CONDITION 1 @m = MESSAGE_TEXT

SET sql_mode = (SELECT id_card FROM person WHERE id = 7)

EXPLAIN SELECT name FROM person WHERE id = 7

EXPLAIN SELECT id FROM person WHERE id_card LIKE '11%'

EXPLAIN ANALYZE SELECT id FROM person WHERE id = 7

EXPLAIN FORMAT = JSON SELECT id FROM person WHERE id = 7

DESCRIBE person

# class 9: variables and settings
SELECT @v := id_card FROM person WHERE id = 7

SELECT @v := dept FROM person WHERE id = 7

SELECT id_card INTO @v FROM person WHERE id = 7

SELECT id_card FROM person WHERE id = 7 INTO @v

SET @v = (SELECT phone FROM person WHERE id = 7)

SET @v = 1

SET @v = (SELECT dept FROM person WHERE id = 7)

SELECT @v

SET @@session.sql_mode = (SELECT address FROM person WHERE id = 7)

DO @v := (SELECT bank_card FROM person WHERE id = 7)

SET @a = 'x', @@session.autocommit = 1

# class 10: copy into a table
INSERT INTO mine SELECT phone, 1 FROM person

INSERT INTO mine (x) SELECT dept FROM person

INSERT INTO mine VALUES (1, 2)

INSERT INTO mine VALUES ((SELECT id_card FROM person WHERE id = 7), 1)

INSERT INTO mine SET x = 1, y = 2

INSERT INTO mine (x, y) VALUES (1, 2) ON DUPLICATE KEY UPDATE y = (SELECT phone FROM person WHERE id = 7)

REPLACE INTO mine SELECT address, 1 FROM person

UPDATE mine SET x = (SELECT address FROM person WHERE id = 7)

UPDATE person SET name = id_card WHERE id = 7

UPDATE person SET dept = 3 WHERE id = 7

UPDATE person SET dept = 3 WHERE id_card LIKE '11%'

UPDATE person SET phone = '13800138000' WHERE id_card = '1101'

UPDATE person p JOIN mine m ON m.x = p.id SET m.y = p.bank_card

DELETE FROM person WHERE id = 7

DELETE FROM person WHERE phone LIKE '138%'

DELETE p FROM person p JOIN dept d ON p.dept = d.id WHERE d.city = 'x'

CREATE TABLE c AS SELECT id_card FROM person

CREATE TEMPORARY TABLE c AS SELECT id, dept FROM person

CREATE TABLE c (id INT)

# class 11: files and server-side export
SELECT id_card FROM person INTO OUTFILE '/tmp/x'

SELECT id FROM person INTO DUMPFILE '/tmp/x'

SELECT LOAD_FILE('/etc/passwd')

LOAD DATA INFILE '/tmp/x' INTO TABLE mine

# class 12: code objects
CALL get_person(7)

CREATE VIEW v2 AS SELECT id_card FROM person

CREATE FUNCTION f() RETURNS INT RETURN 1

DROP TABLE mine

ALTER TABLE person ADD COLUMN z INT

TRUNCATE TABLE mine

SELECT get_name(7)

SELECT gov.get_name(7)

SELECT id, my_udf(id_card) FROM person WHERE id = 7

# class 13: dynamic SQL
PREPARE p FROM @s

PREPARE p FROM 'SELECT id_card FROM person WHERE id = ?'

PREPARE p FROM 'SELECT CONCAT(id_card, '''') FROM person WHERE id = ?'

PREPARE p FROM 'SELECT dept FROM person WHERE id = ?'

PREPARE p FROM 'SELECT 1 /*!99999 , id_card */ FROM person'

EXECUTE p

EXECUTE p USING @a

DEALLOCATE PREPARE p

EXECUTE IMMEDIATE 'SELECT id_card FROM person'

EXECUTE IMMEDIATE CONCAT('SELECT id_card ', 'FROM person')

# class 15: multiple statements
SELECT 1; SELECT id_card FROM person WHERE id = 7

SELECT 1; SELECT CONCAT(id_card, '') FROM person WHERE id = 7

SELECT name FROM person WHERE id = 7; SELECT dept FROM person WHERE id = 8

SET NAMES gbk; SELECT 1

SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SELECT 'a\' AS a, id_card FROM person -- '

SELECT 1; SET sql_mode = ''

USE hr; SELECT name, phone FROM staff WHERE id = 1

USE hr; SELECT name FROM person WHERE id = 1

# class 16: executable comments
SELECT name /*M!, id_card */ FROM person WHERE id = 7

SELECT name /*M!, CONCAT(id_card, '') */ FROM person WHERE id = 7

SELECT name FROM person /*!99999 LIMIT 1 */

SELECT name FROM person /*!40101 LIMIT 1 */

SELECT name /*!50700 , id_card */ FROM person WHERE id = 7

SELECT /*!40001 SQL_NO_CACHE */ * FROM person

SELECT name /*T!, id_card */ FROM person WHERE id = 7

SELECT name /* , id_card */ FROM person WHERE id = 7

SELECT 1 /*! +1 /* x */ */

SELECT name /*!1234 , id_card */ FROM person

# class 17: sql_mode and escaping
@mode NO_BACKSLASH_ESCAPES
SELECT 'a\' AS a, id_card FROM person -- '

SELECT 'a\' AS a, id_card FROM person -- '

@mode ANSI_QUOTES
SELECT CONCAT("id_card") FROM person WHERE id = 7

SELECT CONCAT("id_card") FROM person WHERE id = 7

@mode ANSI_QUOTES
SELECT "id_card" FROM person WHERE id = 7

@mode ANSI
SELECT name || phone FROM person WHERE id = 7

@mode HIGH_NOT_PRECEDENCE
SELECT id FROM person WHERE NOT id_card = '1'

@mode ORACLE
SELECT 1

# class 18: character sets
@charset gbk
SELECT '縗', id_card FROM person WHERE id = 7 -- '

@charset gbk
SELECT name FROM person WHERE id = 7

@charset latin1
SELECT name FROM person WHERE id = 7

@charset ujis
SELECT 1

SET NAMES gbk

SET CHARACTER SET gbk

SET character_set_client = gbk

# class 19: name resolution
SELECT name FROM gov.person WHERE id = 7

@db hr
SELECT name FROM gov.person WHERE id = 7

SELECT `id_card` FROM `person` WHERE `id` = 7

SELECT p.id_card FROM person AS p WHERE p.id = 7

SELECT P.id_card FROM person AS p WHERE p.id = 7

SELECT id_card FROM person p, person q WHERE p.id = 7

USE sbtest

# class 20: identity switches
SET ROLE clerk_role

SET ROLE NONE

SET DEFAULT ROLE ALL TO clerk

SET PASSWORD = 'x'

# class 21: catalog and statistics
SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'gov'

SELECT * FROM information_schema.tables

SELECT * FROM information_schema.processlist

SELECT * FROM information_schema.statistics

SELECT * FROM performance_schema.events_statements_history

SELECT * FROM mysql.user

SELECT * FROM sys.session

SELECT id_card FROM person PROCEDURE ANALYSE()

SHOW PROCESSLIST

SHOW FULL PROCESSLIST

SHOW TABLES

SHOW DATABASES

SHOW COLUMNS FROM person

SHOW CREATE TABLE person

SHOW CREATE TABLE mine

SHOW VARIABLES LIKE 'sql_mode'

SHOW GRANTS

SHOW TRIGGERS

SHOW TABLE STATUS

SHOW INDEX FROM person

SHOW ENGINE INNODB STATUS

SHOW BINLOG EVENTS

# class 22: federation
CREATE TABLE f (id INT) ENGINE=FEDERATED CONNECTION='mysql://u@h/db/t'

# class 24: bulk export
SELECT * FROM person

SELECT name FROM person

SELECT name FROM person LIMIT 100

SELECT name FROM person LIMIT 101

SELECT name FROM person LIMIT 10, 50

SELECT name FROM person WHERE dept = 3

SELECT dept FROM person

SELECT id FROM person WHERE id > 1000 ORDER BY id LIMIT 100

SELECT /*!40001 SQL_NO_CACHE */ * FROM person

SELECT name FROM person LIMIT ?

# class 25: a classified column with a level rule only
SELECT birthday FROM person WHERE id = 7

# statement kinds
BEGIN

START TRANSACTION READ ONLY

COMMIT

ROLLBACK

SAVEPOINT s1

KILL 5

FLUSH TABLES

LOCK TABLES person READ

UNLOCK TABLES

ANALYZE TABLE person

GRANT SELECT ON gov.* TO u

CREATE USER u IDENTIFIED BY 'x'

DROP USER u

DO 1

DO SLEEP(1)

SELECT SLEEP(1)

SELECT BENCHMARK(1000000, MD5('x'))

SELECT GET_LOCK('x', 1)

# tables
SELECT x FROM mine

SELECT name FROM hr.staff WHERE id = 1

SELECT * FROM other.t

# sysbench
@db sbtest
SELECT c FROM sbtest1 WHERE id = 4711

@db sbtest
SELECT c FROM sbtest1 WHERE id BETWEEN 1 AND 100

@db sbtest
SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN 1 AND 100

@db sbtest
SELECT c FROM sbtest1 WHERE id BETWEEN 1 AND 100 ORDER BY c

@db sbtest
SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN 1 AND 100 ORDER BY c

@db sbtest
UPDATE sbtest1 SET k = k + 1 WHERE id = 10

@db sbtest
UPDATE sbtest1 SET c = 'x' WHERE id = 10

@db sbtest
DELETE FROM sbtest1 WHERE id = 10

@db sbtest
INSERT INTO sbtest1 (id, k, c, pad) VALUES (10, 1, 'c', 'pad')

@db sbtest
SELECT a.c, b.c, c.c, d.c FROM sbtest1 a JOIN sbtest2 b ON a.id = b.id JOIN sbtest3 c ON b.id = c.id JOIN sbtest4 d ON c.id = d.id WHERE a.id = 5

# parse errors
SELEC 1

SELECT * FROM

SELECT 'unterminated

SELECT id FROM person WHERE id = 1 /* unterminated

# CTE variants
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r

WITH RECURSIVE r(x) AS (SELECT id_card FROM person WHERE id = 7 UNION ALL SELECT CONCAT(x, '') FROM r WHERE LENGTH(x) < 5) SELECT x FROM r

WITH a AS (SELECT id, name FROM person), b AS (SELECT name FROM a WHERE id = 7) SELECT name FROM b

WITH a AS (SELECT phone FROM person) SELECT COUNT(*) FROM a WHERE phone LIKE '138%'

# correlated name resolution
SELECT id FROM person p WHERE EXISTS (SELECT 1 FROM dept d WHERE d.id = p.dept AND p.phone LIKE '1%')

SELECT (SELECT dname FROM dept WHERE id = p.dept) FROM person p WHERE p.id = 7

SELECT (SELECT name) FROM person WHERE id = 7

# server settings
SET GLOBAL general_log_file = '/var/www/x.php'

SET @@global.general_log = 1

SET SESSION character_set_results = 'latin1'; SELECT 1

SET TRANSACTION ISOLATION LEVEL READ COMMITTED

# red team: a system table in a subquery does not hide the outer column
SELECT id, (SELECT id_card FROM information_schema.engines LIMIT 1) x FROM person WHERE id = 7

# red team: the server folds İ to i in names, Go does not
SELECT (SELECT city FROM (SELECT id_card AS cİty FROM person WHERE id = 7) d) x FROM dept WHERE dept.id = 1

# red team: Go folds ſ to s in names, the server does not
SELECT (SELECT address FROM (SELECT 'x' AS addreſſ) d) a FROM person WHERE id = 7

# red team: names without case compare exactly
SELECT 姓名 FROM (SELECT name AS 姓名 FROM person WHERE id = 7) d

# red team: a derived table sees the CTE that shadows a table
WITH dept AS (SELECT id, id_card AS dname FROM person WHERE id = 7) SELECT dname FROM (SELECT dname FROM dept) d

# red team: a derived table over a CTE
WITH c AS (SELECT id FROM person WHERE id = 7) SELECT * FROM (SELECT * FROM c) d

# red team: WITH RECURSIVE sees later CTEs
WITH RECURSIVE a AS (SELECT dept FROM v_person WHERE id = 7), v_person AS (SELECT id, id_card AS dept FROM person) SELECT dept FROM a

# red team: a recursive CTE moves a value one column per step
WITH RECURSIVE r(n,a,b,c) AS (SELECT 1, CAST('x' AS CHAR(64)), CAST('y' AS CHAR(64)), CAST('z' AS CHAR(64)) UNION ALL SELECT n+1, b, c, id_card FROM r JOIN person ON person.id=7 WHERE n<4) SELECT n+0, CONCAT(a) FROM r
