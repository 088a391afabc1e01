package main

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	gomysql "github.com/go-sql-driver/mysql"
)

// The bypass suite plays every class of ../shared/guide/bypass-catalogue.md
// that applies to MySQL against the demo, as the clerk (masked personal
// data). For each technique it first proves the exploit recovers plaintext
// when run directly on the database, then asserts that through dbfence not
// one character of the hidden part of any value comes back: not in result
// cells, and not in error or warning text.

// citizen is the ground truth of one person, read directly from MariaDB.
type citizen struct {
	id                                     int
	name, idCard, phone, address, bankCard string
}

// hidden returns the parts of a citizen's values that the clerk's masks hide.
// Only parts long enough not to match by chance are listed.
func (c citizen) hidden() []string {
	h := []string{c.idCard[6:14], c.bankCard[6 : len(c.bankCard)-4]}
	if len(c.phone) == 11 {
		h = append(h, c.phone[3:7])
	}
	if r := []rune(c.address); len(r) > 12 {
		h = append(h, string(r[len(r)-8:]))
	}
	if r := []rune(c.name); len(r) >= 3 {
		h = append(h, string(r[len(r)-2:])) // given name (surname kept)
	}
	return h
}

type groundTruth map[int]citizen

func loadTruth(t *testing.T) groundTruth {
	db, err := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/gov")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT id, name, id_card, phone, address, bank_card FROM person")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	g := groundTruth{}
	for rows.Next() {
		var c citizen
		if err := rows.Scan(&c.id, &c.name, &c.idCard, &c.phone, &c.address, &c.bankCard); err != nil {
			t.Fatal(err)
		}
		g[c.id] = c
	}
	return g
}

// leak returns a description of the first hidden part found in text, for
// the citizens ids (all citizens when ids is empty: then only the parts of 8
// characters or more, which do not occur by chance).
func (g groundTruth) leak(text string, ids []int) string {
	check := func(c citizen) string {
		for _, h := range c.hidden() {
			if len(ids) == 0 && utf8.RuneCountInString(h) < 8 {
				continue
			}
			if strings.Contains(text, h) {
				return fmt.Sprintf("hidden part %q of citizen %d in %q", h, c.id, text)
			}
		}
		return ""
	}
	if len(ids) > 0 {
		for _, id := range ids {
			if s := check(g[id]); s != "" {
				return s
			}
		}
		return ""
	}
	for _, c := range g {
		if s := check(c); s != "" {
			return s
		}
	}
	return ""
}

// expectation says what dbfence must do with a technique.
type expectation int

const (
	noLeak  expectation = iota // answered or refused, but nothing hidden comes back
	masked                     // must be answered (a clerk's normal work), masked
	refused                    // must be refused (inference oracles, exports, code)
)

type technique struct {
	class string
	desc  string
	// steps run in order on one connection; the last step's result and every
	// step's error and warnings are checked.
	steps []string
	// args are bound to the last step (forcing the binary protocol).
	args   []any
	ids    []int
	expect expectation
	// leaksDirectly is false for techniques whose direct run shows no value
	// (pure inference oracles); otherwise the direct run must leak.
	leaksDirectly bool
	params        string
}

func techniques() []technique {
	one := []int{1}
	t := func(class, desc string, expect expectation, direct bool, steps ...string) technique {
		return technique{class: class, desc: desc, steps: steps, ids: one, expect: expect, leaksDirectly: direct}
	}
	return []technique{
		// A. Lineage evasion.
		t("1", "alias", masked, true, "SELECT id_card AS x, phone AS y, bank_card AS z FROM person WHERE id = 1"),
		t("1", "CTE column list", noLeak, true, "WITH c(x) AS (SELECT id_card FROM person WHERE id = 1) SELECT x FROM c"),
		t("1", "view over a masked column", masked, true, "SELECT id_card FROM dbf_v_idcard WHERE id = 1"),
		t("2", "CONCAT", noLeak, true, "SELECT CONCAT(id_card, '') FROM person WHERE id = 1"),
		t("2", "LOWER address", noLeak, true, "SELECT LOWER(address) FROM person WHERE id = 1"),
		t("2", "HEX", noLeak, false, "SELECT HEX(id_card) FROM person WHERE id = 1"),
		t("2", "REVERSE", noLeak, false, "SELECT REVERSE(REVERSE(bank_card)) FROM person WHERE id = 1"),
		t("2", "SUBSTR", noLeak, true, "SELECT SUBSTR(id_card, 7, 8) FROM person WHERE id = 1"),
		t("2", "arithmetic", noLeak, true, "SELECT id_card + 0 FROM person WHERE id = 1"),
		t("2", "CAST", noLeak, true, "SELECT CAST(id_card AS CHAR) FROM person WHERE id = 1"),
		t("2", "CONVERT USING", noLeak, true, "SELECT CONVERT(id_card USING utf8mb4) FROM person WHERE id = 1"),
		t("2", "COLLATE", noLeak, true, "SELECT id_card COLLATE utf8mb4_bin FROM person WHERE id = 1"),
		t("2", "JSON_OBJECT", noLeak, true, "SELECT JSON_OBJECT('a', id_card) FROM person WHERE id = 1"),
		t("2", "REPLACE", noLeak, true, "SELECT REPLACE(bank_card, '', '') FROM person WHERE id = 1"),
		t("2", "CASE", noLeak, true, "SELECT CASE WHEN id = 1 THEN id_card END FROM person WHERE id = 1"),
		t("2", "IFNULL", noLeak, true, "SELECT IFNULL(id_card, 'x') FROM person WHERE id = 1"),
		t("3", "scalar subquery", noLeak, true, "SELECT (SELECT id_card FROM person WHERE id = 1) AS x"),
		t("3", "derived table", noLeak, true, "SELECT x FROM (SELECT id_card AS x FROM person WHERE id = 1) d"),
		t("3", "JSON_TABLE", noLeak, true, "SELECT j.v FROM JSON_TABLE((SELECT JSON_ARRAY(id_card) FROM person WHERE id = 1), '$[*]' COLUMNS (v VARCHAR(32) PATH '$')) j"),
		t("4", "UNION", noLeak, true, "SELECT name FROM person WHERE id = 2 UNION SELECT id_card FROM person WHERE id = 1"),
		t("4", "UNION ALL into a plain column", noLeak, true, "SELECT dept FROM person WHERE id = 2 UNION ALL SELECT bank_card FROM person WHERE id = 1"),
		t("5", "t.* star", masked, true, "SELECT p.* FROM person p WHERE p.id = 1"),
		t("5", "NATURAL JOIN", noLeak, true, "SELECT * FROM person NATURAL JOIN person_public WHERE id = 1"),
		t("5", "HANDLER", refused, true, "HANDLER person OPEN", "HANDLER person READ FIRST"),
		t("6", "MAX", noLeak, true, "SELECT MAX(id_card) FROM person WHERE id = 1"),
		t("6", "GROUP_CONCAT", noLeak, true, "SELECT GROUP_CONCAT(phone) FROM person WHERE id = 1"),
		t("6", "JSON_ARRAYAGG", noLeak, true, "SELECT JSON_ARRAYAGG(bank_card) FROM person WHERE id = 1"),
		t("6", "LAG window", noLeak, true, "SELECT LAG(id_card) OVER (ORDER BY id) FROM person WHERE id IN (1, 2)"),
		// B. Inference.
		t("7", "LIKE oracle", refused, false, "SELECT id FROM person WHERE id_card LIKE '130638%'"),
		t("7", "SHOW ... WHERE over a hidden value", refused, false, "SHOW TABLES WHERE (SELECT id_card FROM gov.person WHERE id = 1) LIKE '1306%'"),
		t("7", "float literal matching a range of stored strings", refused, false, "SELECT id FROM person WHERE bank_card = 6222025947583294000.0"),
		t("7", "IN-list search over 11 candidates", refused, false, "SELECT id FROM person WHERE id_card IN ('1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11')"),
		t("7", "ORDER BY oracle", refused, false, "SELECT id FROM person ORDER BY id_card LIMIT 5"),
		t("7", "GROUP BY oracle", refused, false, "SELECT COUNT(*) FROM person GROUP BY SUBSTR(id_card, 7, 1)"),
		t("7", "range oracle", refused, false, "SELECT id FROM person WHERE phone > '138' LIMIT 5"),
		t("7", "join on a masked column", refused, false, "SELECT a.id FROM person a JOIN person b ON a.id_card = b.id_card WHERE a.id = 1"),
		t("8", "ExtractValue error", noLeak, true, "SELECT ExtractValue(1, CONCAT(0x7e, (SELECT id_card FROM person WHERE id = 1)))"),
		t("8", "SET sql_mode error", noLeak, true, "SET sql_mode = (SELECT id_card FROM person WHERE id = 1)"),
		t("8", "truncation warnings", noLeak, true, "SELECT id FROM person WHERE id = 1 AND address = 0", "SHOW WARNINGS"),
		// C. Laundering through session state, tables and code.
		t("9", "assignment in select", noLeak, true, "SELECT @v := id_card FROM person WHERE id = 1", "SELECT @v"),
		t("9", "SELECT INTO variable", noLeak, true, "SELECT id_card INTO @v FROM person WHERE id = 1", "SELECT @v"),
		t("9", "SET from subquery", noLeak, true, "SET @v = (SELECT id_card FROM person WHERE id = 1)", "SELECT @v"),
		t("10", "CREATE TEMPORARY TABLE AS SELECT", noLeak, true, "CREATE TEMPORARY TABLE dbf_tmp AS SELECT id_card FROM person WHERE id = 1", "SELECT * FROM dbf_tmp"),
		t("11", "INTO OUTFILE", refused, false, "SELECT id_card INTO OUTFILE '/tmp/dbfence-bypass-outfile' FROM person WHERE id = 1"),
		t("11", "LOAD_FILE", refused, false, "SELECT LOAD_FILE('/etc/hostname')"),
		t("12", "CALL a routine", refused, true, "CALL dbf_get_id_card(1)"),
		t("13", "PREPARE from a variable", refused, true, "SET @s = 'SELECT id_card FROM person WHERE id = 1'", "PREPARE s FROM @s", "EXECUTE s"),
		t("13", "EXECUTE IMMEDIATE", noLeak, true, "EXECUTE IMMEDIATE 'SELECT id_card FROM person WHERE id = 1'"),
		t("13", "PREPARE from a literal", noLeak, true, "PREPARE s FROM 'SELECT id_card FROM person WHERE id = 1'", "EXECUTE s"),
		// D. Protocol and parser differentials.
		{class: "14", desc: "binary protocol (server-side prepared)", steps: []string{"SELECT id_card, phone, bank_card, name, address FROM person WHERE id = ?"}, args: []any{1}, ids: one, expect: masked, leaksDirectly: true},
		{class: "15", desc: "multi-statement", steps: []string{"SELECT 1; SELECT id_card FROM person WHERE id = 1"}, ids: one, expect: noLeak, leaksDirectly: true, params: "multiStatements=true"},
		t("16", "MariaDB executable comment", masked, true, "SELECT name /*M!, id_card */ FROM person WHERE id = 1"),
		t("16", "versioned executable comment", masked, true, "SELECT /*!50000 id_card, */ name FROM person WHERE id = 1"),
		t("16", "unreachable version hides a LIMIT", noLeak, true, "SELECT id_card FROM person /*!99999 WHERE id = 1 */"),
		t("17", "ANSI_QUOTES", noLeak, true, "SET sql_mode = 'ANSI_QUOTES'", `SELECT CONCAT("id_card") FROM person WHERE id = 1`),
		t("17", "NO_BACKSLASH_ESCAPES", noLeak, true, "SET sql_mode = 'NO_BACKSLASH_ESCAPES'", `SELECT 'a\' AS a, CONCAT(id_card, '') FROM person WHERE id = 1 -- '`),
		t("17", "PIPES_AS_CONCAT", noLeak, true, "SET sql_mode = 'PIPES_AS_CONCAT'", "SELECT id_card || '' FROM person WHERE id = 1"),
		t("18", "GBK 0xbf5c", noLeak, true, "SET NAMES gbk", "SELECT '\xbf\x5c' , CONCAT(id_card, '') FROM person WHERE id = 1 -- '"),
		t("18", "latin1 no-break space as whitespace", noLeak, true, "SET NAMES latin1",
			"SELECT 'a' AS x\xa0UNION\xa0ALL\xa0SELECT\xa0id_card\xa0FROM\xa0person\xa0LIMIT\xa02"),
		t("18", "latin1 no-break space after --", noLeak, true, "SET NAMES latin1",
			"SELECT CONCAT(dept) AS d FROM person WHERE id = 2 --\xa0 '\n/*M! UNION ALL SELECT id_card FROM person WHERE id = 1 */ -- '"),
		t("19", "other database, qualified", noLeak, true, "USE mysql", "SELECT CONCAT(id_card, '') FROM gov.person WHERE id = 1"),
		t("19", "quoted identifiers", masked, true, "SELECT `id_card` FROM `gov`.`person` WHERE `id` = 1"),
		t("21", "PROCEDURE ANALYSE", refused, true, "SELECT id_card FROM person WHERE id = 1 PROCEDURE ANALYSE()"),
		t("21", "processlist", refused, false, "SELECT * FROM information_schema.PROCESSLIST"),
		t("21", "mysql schema", refused, false, "SELECT * FROM mysql.user"),
		{class: "24", desc: "full-table dump read", steps: []string{"SELECT /*!40001 SQL_NO_CACHE */ * FROM person"}, expect: refused, leaksDirectly: true},
		{class: "24", desc: "LIMIT over the row cap", steps: []string{"SELECT id, id_card FROM person LIMIT 500"}, expect: refused, leaksDirectly: true},
	}
}

// runSteps runs a technique's steps on one connection and returns every
// piece of text the client received (cells, error messages, warnings) and
// the last step's error.
func runSteps(db *sql.DB, tc technique) (received []string, lastErr error) {
	conn, err := db.Conn(ctxBackground())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	for i, step := range tc.steps {
		var args []any
		if i == len(tc.steps)-1 {
			args = tc.args
		}
		rows, err := conn.QueryContext(ctxBackground(), step, args...)
		lastErr = err
		if err != nil {
			received = append(received, err.Error())
			continue
		}
		for {
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]sql.RawBytes, len(cols))
				ptrs := make([]any, len(cols))
				for j := range vals {
					ptrs[j] = &vals[j]
				}
				if err := rows.Scan(ptrs...); err != nil {
					received = append(received, err.Error())
					break
				}
				for _, v := range vals {
					received = append(received, string(v))
				}
			}
			if err := rows.Err(); err != nil {
				lastErr = err
				received = append(received, err.Error())
			}
			if !rows.NextResultSet() {
				break
			}
		}
		rows.Close()
		if i == len(tc.steps)-1 && lastErr == nil {
			lastErr = rows.Err()
		}
	}
	return received, lastErr
}

func TestBypassCatalogueClerkGetsNoHiddenCharacter(t *testing.T) {
	root, err := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/gov?multiStatements=true")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, s := range []string{
		"CREATE OR REPLACE VIEW gov.dbf_v_idcard AS SELECT id, id_card FROM gov.person",
		"CREATE OR REPLACE PROCEDURE gov.dbf_get_id_card(pid INT) SELECT id_card FROM gov.person WHERE id = pid",
		"GRANT EXECUTE ON gov.* TO 'clerk'@'%'",
		"GRANT CREATE TEMPORARY TABLES ON gov.* TO 'clerk'@'%'",
	} {
		if _, err := root.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	addr, _ := demoProxy(t, nil)
	truth := loadTruth(t)
	for _, tc := range techniques() {
		t.Run(tc.class+" "+tc.desc, func(t *testing.T) {
			if tc.leaksDirectly {
				direct, _ := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/gov?"+tc.params)
				got, _ := runSteps(direct, tc)
				direct.Close()
				if truth.leak(strings.Join(got, "\x00"), tc.ids) == "" {
					t.Fatalf("the exploit does not leak even directly (test is wrong): %q", got)
				}
			}
			db := dbAs(t, addr, "clerk", tc.params)
			got, err := runSteps(db, tc)
			for _, text := range got {
				if l := truth.leak(text, tc.ids); l != "" {
					t.Fatalf("LEAK through dbfence: %s", l)
				}
			}
			var me *gomysql.MySQLError
			switch tc.expect {
			case masked:
				if err != nil {
					t.Fatalf("a clerk's masked read was refused: %v", err)
				}
				if len(got) == 0 {
					t.Fatal("no rows")
				}
			case refused:
				// By dbfence, not a (redacted) server error, which can itself
				// be the oracle.
				if err == nil || !errors.As(err, &me) || !strings.Contains(me.Message, "dbfence") || strings.Contains(me.Message, "withheld") {
					t.Fatalf("not refused by dbfence (%v); received %q", err, got)
				}
			}
		})
	}
}
