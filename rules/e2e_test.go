package rules

import (
	"context"
	"database/sql"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/dbfence/dbfence/rules/catalog"
)

const e2eDB = "dbfence_rules_e2e"

func e2eDSN() string {
	if d := os.Getenv("DBFENCE_TEST_MYSQL_DSN"); d != "" {
		return d
	}
	return "root@tcp(127.0.0.1:3306)/"
}

// e2ePolicy masks every personal column of the test database for clerk.
const e2ePolicy = `
policy:
  version: e2e
  classification:
    - {column: "` + e2eDB + `.person.name", class: name, level: 3}
    - {column: "` + e2eDB + `.person.id_card", class: id_card, level: 4}
    - {column: "` + e2eDB + `.person.phone", class: phone, level: 3}
    - {column: "` + e2eDB + `.person.address", class: address, level: 3}
    - {column: "` + e2eDB + `.person.bank_card", class: bank_card, level: 4}
  principals:
    - {users: [clerk], role: clerk}
  default_role: unrestricted
  roles:
    clerk:
      row_cap: 100
      classes:
        name: {action: mask, algorithm: name}
        id_card: {action: mask, algorithm: id_card}
        phone: {action: mask, algorithm: phone}
        address: {action: mask, algorithm: address}
        bank_card: {action: mask, algorithm: bank_card}
`

// TestNoPlaintextThroughEngine runs the catalogue's attacks against the real
// MariaDB: each attack is first shown to recover plaintext from the raw
// database, then decided by the engine for clerk; allowed texts are run as
// forwarded, their result columns masked per the plan, and no hidden value
// (nor its reverse or hex form) may appear in what the client would get.
func TestNoPlaintextThroughEngine(t *testing.T) {
	db, err := sql.Open("mysql", e2eDSN())
	if err == nil {
		err = db.Ping()
	}
	if err != nil {
		t.Skipf("no test database: %v", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	setup := []string{
		"DROP DATABASE IF EXISTS " + e2eDB,
		"CREATE DATABASE " + e2eDB,
		"CREATE TABLE " + e2eDB + ".person (id INT PRIMARY KEY, name VARCHAR(20), id_card CHAR(18), phone VARCHAR(11), address VARCHAR(60), bank_card VARCHAR(19), birthday DATE, dept INT)",
		"CREATE TABLE " + e2eDB + ".dept (id INT PRIMARY KEY, dname VARCHAR(20))",
		"CREATE VIEW " + e2eDB + ".v_person AS SELECT id, name, id_card AS card, dept FROM " + e2eDB + ".person",
		"INSERT INTO " + e2eDB + ".person VALUES (7, 'Zhangsanfeng', '110105194912310025', '13912345678', 'Chaoyang District Beijing', '6222021234567890123', '1949-12-31', 1), (8, 'Lisimingyue', '310104198807070047', '13787654321', 'Xuhui District Shanghai', '6228489876543210987', '1988-07-07', 2)",
		"INSERT INTO " + e2eDB + ".dept VALUES (7, 'civil'), (8, 'tax')",
	}
	for _, q := range setup {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	defer db.Exec("DROP DATABASE IF EXISTS " + e2eDB)

	var hidden []string
	rows, err := db.Query("SELECT name, id_card, phone, address, bank_card FROM " + e2eDB + ".person")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v [5]string
		if err := rows.Scan(&v[0], &v[1], &v[2], &v[3], &v[4]); err != nil {
			t.Fatal(err)
		}
		hidden = append(hidden, v[:]...)
	}
	rows.Close()

	cat, err := catalog.LoadMySQL(context.Background(), e2eDSN(), catalog.LoadOptions{Databases: []string{e2eDB}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := PolicyFromConfig([]byte(e2ePolicy), "e2e.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(p, cat, testMasks, nil)
	if err != nil {
		t.Fatal(err)
	}
	var version string
	db.QueryRow("SELECT @@version").Scan(&version)
	sess := &Session{Protocol: ProtocolMySQL, User: "clerk", Database: e2eDB, ServerVersion: e2eServerVersion(version),
		MariaDB: strings.Contains(version, "MariaDB"), Charset: "utf8mb4"}
	if _, err := db.Exec("USE " + e2eDB); err != nil {
		t.Fatal(err)
	}

	// allowed are the attacks the engine lets through masked; every other
	// one must be refused.
	allowed := map[string]bool{"direct lookup": true, "star": true, "alias": true, "view": true, "view star": true,
		"CTE column list": true, "derived table": true, "UNION ALL masked": true, "NATURAL JOIN": true,
		"executable comment": true, "LIMIT within cap": true, "exact lookup by id_card": true}
	attacks := []struct {
		desc string
		sql  string
	}{
		{"direct lookup", "SELECT name, id_card, phone, address, bank_card FROM person WHERE id = 7"},
		{"star", "SELECT * FROM person WHERE id = 7"},
		{"alias", "SELECT id_card AS x FROM person WHERE id = 7"},
		{"view", "SELECT card FROM v_person WHERE id = 7"},
		{"view star", "SELECT * FROM v_person WHERE id = 8"},
		{"CTE column list", "WITH c(x) AS (SELECT id_card FROM person WHERE id = 7) SELECT x FROM c"},
		{"derived table", "SELECT x FROM (SELECT phone AS x FROM person WHERE id = 7) d"},
		{"CONCAT", "SELECT CONCAT(id_card, '') FROM person WHERE id = 7"},
		{"REVERSE", "SELECT REVERSE(phone) FROM person WHERE id = 7"},
		{"HEX", "SELECT HEX(bank_card) FROM person WHERE id = 7"},
		{"arithmetic", "SELECT phone | 0 FROM person WHERE id = 7"},
		{"CAST", "SELECT CAST(id_card AS CHAR) FROM person WHERE id = 7"},
		{"COLLATE", "SELECT address COLLATE utf8mb4_bin FROM person WHERE id = 7"},
		{"JSON", "SELECT JSON_OBJECT('a', id_card) FROM person WHERE id = 7"},
		{"scalar subquery", "SELECT (SELECT id_card FROM person WHERE id = 7) AS s"},
		{"UNION", "SELECT dept FROM person WHERE id = 7 UNION SELECT id_card FROM person WHERE id = 7"},
		{"UNION ALL masked", "SELECT name FROM person WHERE id = 7 UNION ALL SELECT name FROM person WHERE id = 8"},
		{"NATURAL JOIN", "SELECT * FROM person NATURAL JOIN dept WHERE person.id = 7"},
		{"NATURAL JOIN on a masked column", "SELECT * FROM person NATURAL JOIN v_person WHERE id = 7"},
		{"MAX", "SELECT MAX(id_card) FROM person"},
		{"GROUP_CONCAT", "SELECT GROUP_CONCAT(phone) FROM person"},
		{"LAG", "SELECT LAG(phone) OVER (ORDER BY id) FROM person WHERE id < 100"},
		{"executable comment", "SELECT dept /*M!, id_card */ FROM person WHERE id = 7"},
		{"executable comment with function", "SELECT dept /*M!, CONCAT(id_card, '') */ FROM person WHERE id = 7"},
		{"ExtractValue error", "SELECT ExtractValue(1, CONCAT(0x7e, (SELECT id_card FROM person WHERE id = 7)))"},
		{"variable", "SELECT @v := id_card FROM person WHERE id = 7"},
		{"IF", "SELECT IF(id > 0, bank_card, '') FROM person WHERE id = 7"},
		{"bulk", "SELECT name, id_card FROM person"},
		{"LIMIT within cap", "SELECT name, id_card FROM person LIMIT 2"},
		{"exact lookup by id_card", "SELECT id, name FROM person WHERE id_card = '110105194912310025'"},
	}
	for _, a := range attacks {
		t.Run(a.desc, func(t *testing.T) {
			// First the exploit works on the raw database.
			raw, _, err := runMasked(db, &Verdict{Forward: a.sql, Statements: []StatementVerdict{{}}})
			if err != nil {
				raw = err.Error()
			}
			if !containsAny(raw, hidden) {
				t.Fatalf("the attack recovers nothing from the raw database: %s", raw)
			}
			v := e.CheckMySQL(sess, a.sql)
			if v.Refusal != nil {
				if v.Forward != "" {
					t.Fatalf("refused but forwarded %q", v.Forward)
				}
				if allowed[a.desc] {
					t.Errorf("refused (%v), expected allowed with masks", v.Refusal)
				}
				return
			}
			if !allowed[a.desc] {
				t.Errorf("allowed, expected a refusal")
			}
			got, ncols, err := runMasked(db, v)
			if err != nil {
				t.Fatalf("server error on %q: %v", v.Forward, err)
			}
			if plan := v.Statements[0].Columns; plan != nil && len(plan) != ncols {
				t.Fatalf("plan has %d columns, result has %d", len(plan), ncols)
			}
			for _, h := range hidden {
				for _, form := range []string{h, reverse(h), hex.EncodeToString([]byte(h)), strings.ToUpper(hex.EncodeToString([]byte(h)))} {
					if strings.Contains(got, form) {
						t.Fatalf("plaintext %q reached the client through %q: %s", h, v.Forward, got)
					}
				}
			}
		})
	}
}

// runMasked runs a verdict's forwarded text and applies its column plan to
// the first result set, as the protocol engine does.
func runMasked(db *sql.DB, v *Verdict) (string, int, error) {
	rows, err := db.Query(v.Forward)
	if err != nil {
		return "", 0, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	plan := v.Statements[0].Columns
	var b strings.Builder
	for rows.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", 0, err
		}
		for i, val := range vals {
			if i < len(plan) && plan[i].Masker != nil && val != nil {
				val = plan[i].Masker.Mask(nil, val)
			}
			b.Write(val)
			b.WriteByte('|')
		}
		b.WriteByte('\n')
	}
	return b.String(), len(cols), rows.Err()
}

// containsAny reports whether out holds a hidden value or a prefix of one
// long enough to identify it (error messages truncate).
func containsAny(out string, hidden []string) bool {
	for _, h := range hidden {
		if strings.Contains(out, h) || strings.Contains(out, reverse(h)) || strings.Contains(strings.ToUpper(out), strings.ToUpper(hex.EncodeToString([]byte(h)))) {
			return true
		}
		if len(h) > 12 && strings.Contains(out, h[:12]) {
			return true
		}
	}
	return false
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

func e2eServerVersion(v string) uint32 {
	parts := strings.SplitN(strings.SplitN(v, "-", 2)[0], ".", 3)
	var n [3]uint32
	for i := 0; i < len(parts) && i < 3; i++ {
		x, _ := strconv.Atoi(parts[i])
		n[i] = uint32(x)
	}
	return n[0]*10000 + n[1]*100 + n[2]
}
