package pgsql

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
)

// FuzzAnalyze: whatever parses is analysed without a panic or an internal
// failure, and Analyze never returns nil. The seed corpus is the golden
// statements.
func FuzzAnalyze(f *testing.F) {
	for _, c := range readGoldenCases(f, "testdata/statements.sql") {
		f.Add(c.sql, c.env.SearchPathKnown)
	}
	env := testEnv()
	f.Fuzz(func(t *testing.T, text string, pathKnown bool) {
		stmts, err := Parse(text)
		if err != nil {
			return
		}
		e := env
		e.SearchPathKnown = pathKnown
		for _, s := range stmts {
			st := Analyze(s, e)
			if st == nil {
				t.Fatalf("%q: nil facts", text)
			}
			for _, u := range st.Unsupported {
				if strings.HasPrefix(u, "analyser failure") {
					t.Fatalf("%q: %s", text, u)
				}
			}
			if st.ChangesSession {
				e.SearchPathKnown = false
			}
		}
	})
}

// TestMutatedStatements replaces identifiers of the golden statements with
// names of relations, aliases, columns, whole rows and subqueries at random
// (fixed seed): every text that parses is analysed without an internal
// failure. It complements FuzzAnalyze, whose byte mutations rarely parse.
func TestMutatedStatements(t *testing.T) {
	cases := readGoldenCases(t, "testdata/statements.sql")
	words := []string{"p", "person", "gov.person", "id_card", "h", "household", "x", "r", "c", "pg_class", "*",
		"p.*", "(p).*", "id", "name", "1", "$1", "s", "u", "v", "t", "n", "g", "person_cards", "nested_cards", "card",
		"ordinality", "excluded", "lower", "unnest", "row_to_json", "pg_catalog.pg_stats", "LATERAL", "ROW(p.*)",
		"(SELECT 1)", "(SELECT id_card FROM person)"}
	keywords := map[string]bool{}
	for _, k := range strings.Fields(`SELECT FROM WHERE AND OR NOT IN IS NULL AS ON JOIN LEFT FULL CROSS NATURAL USING
		GROUP BY ORDER HAVING LIMIT OFFSET FETCH FIRST ROWS ONLY WITH RECURSIVE UNION ALL INTERSECT EXCEPT VALUES INSERT
		INTO UPDATE SET DELETE RETURNING COPY TO STDOUT STDIN EXPLAIN ANALYZE PREPARE EXECUTE DECLARE CURSOR FOR CASE
		WHEN THEN ELSE END DISTINCT OVER PARTITION WINDOW FILTER WITHIN CAST TABLE CONFLICT DO NOTHING EXISTS ANY ARRAY
		BETWEEN LIKE ILIKE SIMILAR ESCAPE COLLATE LATERAL`) {
		keywords[k] = true
	}
	ident := regexp.MustCompile(`[A-Za-z_][A-Za-z_0-9.]*|\*`)
	rng := rand.New(rand.NewSource(1))
	parsed := 0
	for range 25 {
		for _, c := range cases {
			text := ident.ReplaceAllStringFunc(c.sql, func(m string) string {
				if rng.Intn(6) == 0 && !keywords[strings.ToUpper(m)] {
					return words[rng.Intn(len(words))]
				}
				return m
			})
			list, err := analyzeText(text, c.env)
			if err != nil {
				continue
			}
			parsed++
			for _, f := range list {
				for _, u := range f.Unsupported {
					if strings.HasPrefix(u, "analyser failure") || strings.HasPrefix(u, "statement too complex") {
						t.Errorf("%q: %s", text, u)
					}
				}
			}
		}
	}
	if parsed < 1000 {
		t.Errorf("only %d mutated texts parsed", parsed)
	}
}
