package pgsql

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/dbfence/dbfence/rules/facts"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenCase is one entry of testdata/statements.sql.
type goldenCase struct {
	comment string
	env     Env
	envNote string
	sql     string
}

// readGoldenCases reads entries separated by blank lines. Lines starting
// with "# " are comments; "@path a, b" sets the search_path ("@path unknown":
// not known) and "@user u" the current user for the entry.
func readGoldenCases(t testing.TB, file string) []goldenCase {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []goldenCase
	base := testEnv()
	cur := goldenCase{env: base}
	var sql []string
	flush := func() {
		if len(sql) > 0 {
			cur.sql = strings.Join(sql, "\n")
			cases = append(cases, cur)
		}
		cur, sql = goldenCase{env: base}, nil
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case strings.HasPrefix(line, "# "):
			cur.comment = strings.TrimPrefix(line, "# ")
		case strings.HasPrefix(line, "@path "):
			v := strings.TrimSpace(strings.TrimPrefix(line, "@path "))
			cur.envNote += " path=" + v
			if v == "unknown" {
				cur.env.SearchPath, cur.env.SearchPathKnown = nil, false
				continue
			}
			cur.env.SearchPath = nil
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					cur.env.SearchPath = append(cur.env.SearchPath, p)
				}
			}
		case strings.HasPrefix(line, "@user "):
			cur.env.User = strings.TrimSpace(strings.TrimPrefix(line, "@user "))
			cur.envNote += " user=" + cur.env.User
		default:
			sql = append(sql, line)
		}
	}
	flush()
	return cases
}

// analyzeText parses text and analyses each statement as the engine does:
// after a statement that changes the session, the search_path is unknown.
func analyzeText(text string, env Env) ([]*facts.Statement, error) {
	stmts, err := Parse(text)
	if err != nil {
		return nil, err
	}
	out := make([]*facts.Statement, len(stmts))
	for i, s := range stmts {
		out[i] = Analyze(s, env)
		if out[i].ChangesSession {
			env.SearchPathKnown = false
		}
	}
	return out, nil
}

// TestGoldenLineage analyses every entry of testdata/statements.sql and
// compares the facts with testdata/lineage.golden (regenerate with
// go test ./rules/pgsql -update, then review the difference: it is the spec).
func TestGoldenLineage(t *testing.T) {
	cases := readGoldenCases(t, "testdata/statements.sql")
	var b strings.Builder
	for _, c := range cases {
		if c.comment != "" {
			fmt.Fprintf(&b, "# %s\n", c.comment)
		}
		fmt.Fprintf(&b, "SQL: %s\n", c.sql)
		if c.envNote != "" {
			fmt.Fprintf(&b, "env:%s\n", c.envNote)
		}
		list, err := analyzeText(c.sql, c.env)
		if err != nil {
			fmt.Fprintf(&b, "parse error: %v\n\n", err)
			continue
		}
		for i, f := range list {
			fmt.Fprintf(&b, "facts %d:\n", i+1)
			facts.Describe(&b, f, "  ")
		}
		b.WriteString("\n")
	}
	got := b.String()
	const golden = "testdata/lineage.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run with -update after checking)", golden, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs in length: got %d lines, want %d", golden, len(gl), len(wl))
	}
	t.Logf("%d statement texts", len(cases))
}
