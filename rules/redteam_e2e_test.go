package rules

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/dbfence/dbfence/rules/catalog"
)

// TestRedTeamThroughEngine runs the red-team review's lineage attacks against
// the real MariaDB, as TestNoPlaintextThroughEngine does: each recovers
// plaintext from the raw database, and through the engine for clerk it is
// refused or its result holds no hidden value once masked.
func TestRedTeamThroughEngine(t *testing.T) {
	const rtDB = "dbfence_rules_redteam"
	db, err := sql.Open("mysql", e2eDSN())
	if err == nil {
		err = db.Ping()
	}
	if err != nil {
		t.Skipf("no test database: %v", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		"DROP DATABASE IF EXISTS " + rtDB,
		"CREATE DATABASE " + rtDB,
		"CREATE TABLE " + rtDB + ".person (id INT PRIMARY KEY, name VARCHAR(20), id_card CHAR(18), phone VARCHAR(11), address VARCHAR(60), bank_card VARCHAR(19), birthday DATE, dept VARCHAR(20))",
		"CREATE TABLE " + rtDB + ".household (id INT PRIMARY KEY, person_id INT, member_name VARCHAR(20), member_id_card CHAR(18), relation VARCHAR(16))",
		"CREATE VIEW " + rtDB + ".person_public AS SELECT id, name, dept FROM " + rtDB + ".person",
		"INSERT INTO " + rtDB + ".person VALUES (7, 'Zhangsanfeng', '110105194912310025', '13912345678', 'Chaoyang District Beijing', '6222021234567890123', '1949-12-31', 'civil')",
		"INSERT INTO " + rtDB + ".household VALUES (11, 7, 'Zhangwuji', '110105197001010011', 'son')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	defer db.Exec("DROP DATABASE IF EXISTS " + rtDB)
	if _, err := db.Exec("USE " + rtDB); err != nil {
		t.Fatal(err)
	}
	hidden := []string{"Zhangsanfeng", "110105194912310025", "13912345678", "Chaoyang District Beijing", "6222021234567890123"}

	cat, err := catalog.LoadMySQL(context.Background(), e2eDSN(), catalog.LoadOptions{Databases: []string{rtDB}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := PolicyFromConfig([]byte(strings.ReplaceAll(e2ePolicy, e2eDB, rtDB)), "redteam.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(p, cat, testMasks, nil)
	if err != nil {
		t.Fatal(err)
	}
	var version string
	db.QueryRow("SELECT @@version").Scan(&version)
	sess := &Session{Protocol: ProtocolMySQL, User: "clerk", Database: rtDB, ServerVersion: e2eServerVersion(version),
		MariaDB: strings.Contains(version, "MariaDB"), Charset: "utf8mb4"}

	for _, a := range []struct{ desc, sql string }{
		{"system table hides the outer column", "SELECT id, (SELECT id_card FROM information_schema.engines LIMIT 1) x FROM person WHERE id=7"},
		{"system table alias hides the outer one", "SELECT (SELECT e.id_card FROM information_schema.engines e LIMIT 1) x FROM person e WHERE id=7"},
		{"dotted capital I", "SELECT (SELECT relation FROM (SELECT id_card AS RELATİON FROM person WHERE id=7) d) x FROM household WHERE household.id=11"},
		{"long s", "SELECT (SELECT address FROM (SELECT 'x' AS addreſſ) d) a FROM person WHERE id=7"},
		{"dotted capital I in a CTE name", "WITH PERSON_PUBLİC AS (SELECT id, id_card AS dept FROM person) SELECT dept FROM person_public WHERE id=7"},
		{"derived table over a shadowing CTE", "WITH household AS (SELECT id_card AS relation FROM person WHERE id=7) SELECT relation FROM (SELECT relation FROM household) d"},
		{"recursive WITH forward reference", "WITH RECURSIVE a AS (SELECT dept FROM person_public WHERE id=7), person_public AS (SELECT id, id_card AS dept FROM person) SELECT dept FROM a"},
		{"recursive CTE four steps deep", "WITH RECURSIVE r(n,a,b,c) AS (SELECT 1, CAST('x' AS CHAR(64)), CAST('y' AS CHAR(64)), CAST('z' AS CHAR(64)) UNION ALL SELECT n+1, b, c, id_card FROM r JOIN person ON person.id=7 WHERE n<4) SELECT n+0, CONCAT(a) FROM r"},
	} {
		t.Run(a.desc, func(t *testing.T) {
			raw, _, err := runMasked(db, &Verdict{Forward: a.sql, Statements: []StatementVerdict{{}}})
			if err != nil {
				raw = err.Error()
			}
			if !containsAny(raw, hidden) {
				t.Fatalf("the attack recovers nothing from the raw database: %s", raw)
			}
			v := e.CheckMySQL(sess, a.sql)
			if v.Refusal != nil {
				return
			}
			got, _, err := runMasked(db, v)
			if err != nil {
				t.Fatalf("server error on %q: %v", v.Forward, err)
			}
			if containsAny(got, hidden) {
				t.Fatalf("plaintext reached the client through %q: %s", v.Forward, got)
			}
		})
	}
}
