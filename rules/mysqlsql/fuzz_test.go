package mysqlsql

import (
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	"SELECT name /*M!, id_card */ FROM person",
	"SELECT name FROM person /*!99999 LIMIT 1 */",
	`SELECT 'a\' AS a, id_card FROM person -- '`,
	`SELECT CONCAT("id_card") FROM person`,
	"SELECT 1 /*! '*/' */",
	"SELECT 1--1 # x\n",
	"SELECT /*+ MAX_EXECUTION_TIME(1) */ * FROM t",
	"WITH c(x) AS (SELECT id_card FROM person) SELECT x FROM c UNION SELECT name FROM person ORDER BY 1",
	"SELECT * FROM person NATURAL JOIN dept JOIN v_person USING (id)",
	"SELECT @v := (SELECT MAX(phone) FROM person p WHERE p.id = q.id) FROM person q GROUP BY 1 HAVING COUNT(*) > 1",
	"INSERT INTO mine SELECT * FROM v_contact ON DUPLICATE KEY UPDATE x = VALUES(y)",
	"UPDATE person p JOIN mine m ON m.x = p.id SET m.y = p.bank_card ORDER BY p.id LIMIT 3",
	"PREPARE p FROM 'SELECT id_card FROM person WHERE id = ?'",
	"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r",
}

// FuzzResolve: the reader never panics, refuses rather than guesses, and
// its output is a fixed point (resolving the server view changes nothing).
func FuzzResolve(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, uint8(0), true)
	}
	f.Fuzz(func(t *testing.T, text string, mode uint8, maria bool) {
		m := Mode(mode) & (ModeANSIQuotes | ModeNoBackslashEscapes | ModePipesAsConcat | ModeHighNotPrecedence | ModeIgnoreSpace)
		server := Server{Version: 101119, MariaDB: maria}
		out, err := Resolve(text, m, server)
		if err != nil {
			return
		}
		again, err := Resolve(out, m, server)
		if err != nil || again != out {
			t.Fatalf("resolution is not a fixed point:\n in  %q\n out %q\n again %q (%v)", text, out, again, err)
		}
		_ = AppendNormalized(nil, out, m)
	})
}

// FuzzAnalyze: parsing and analysing never panic, and whatever parses is
// analysed without an internal failure.
func FuzzAnalyze(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	a := NewAnalyzer(govCatalog())
	f.Fuzz(func(t *testing.T, text string) {
		resolved, err := Resolve(text, 0, maria1011)
		if err != nil {
			return
		}
		stmts, err := Parse(resolved, 0)
		if err != nil {
			return
		}
		db := "gov"
		for _, s := range stmts {
			st, newDB := a.Analyze(s, db, 0, Full)
			if newDB != "" {
				db = newDB
			}
			for _, u := range st.Unsupported {
				if strings.HasPrefix(u, "analyser failure") {
					t.Fatalf("%q: %s", resolved, u)
				}
			}
		}
	})
}
