package rules

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/dbfence/dbfence/rules/catalog"
	"github.com/dbfence/dbfence/rules/facts"
	"github.com/dbfence/dbfence/rules/mysqlsql"
)

var update = flag.Bool("update", false, "rewrite golden files")

// govCatalog is the schema of the catalogue's examples, plus views, a second
// table, another database and the sysbench tables.
func govCatalog() *catalog.Catalog {
	cols := func(names ...string) []catalog.Column {
		out := make([]catalog.Column, len(names))
		for i, n := range names {
			out[i] = catalog.Column{Name: n}
		}
		return out
	}
	return catalog.New(catalog.Options{}, []*catalog.Table{
		{Database: "gov", Name: "person", Columns: cols("id", "name", "id_card", "phone", "address", "bank_card", "birthday", "dept")},
		{Database: "gov", Name: "dept", Columns: cols("id", "dname", "city")},
		{Database: "gov", Name: "v_person", Columns: cols("id", "name", "card", "dept"),
			View: &catalog.View{Definition: "select `gov`.`person`.`id` AS `id`,`gov`.`person`.`name` AS `name`,`gov`.`person`.`id_card` AS `card`,`gov`.`person`.`dept` AS `dept` from `gov`.`person`"}},
		{Database: "gov", Name: "v_contact", Columns: cols("pid", "contact"),
			View: &catalog.View{Definition: "select `p`.`id` AS `pid`,concat(`p`.`phone`,' ',`p`.`address`) AS `contact` from `gov`.`person` `p` where `p`.`dept` = 3"}},
		{Database: "gov", Name: "v_dept", Columns: cols("id", "dname"),
			View: &catalog.View{Definition: "select `gov`.`dept`.`id` AS `id`,`gov`.`dept`.`dname` AS `dname` from `gov`.`dept`"}},
		{Database: "gov", Name: "v_nested", Columns: cols("card"),
			View: &catalog.View{Definition: "select `gov`.`v_person`.`card` AS `card` from `gov`.`v_person`"}},
		{Database: "gov", Name: "v_broken", Columns: cols("a"), View: &catalog.View{Definition: "select frobnicate from"}},
		{Database: "gov", Name: "mine", Columns: cols("x", "y")},
		{Database: "hr", Name: "staff", Columns: cols("id", "name", "phone")},
		{Database: "sbtest", Name: "sbtest1", Columns: cols("id", "k", "c", "pad")},
		{Database: "sbtest", Name: "sbtest2", Columns: cols("id", "k", "c", "pad")},
		{Database: "sbtest", Name: "sbtest3", Columns: cols("id", "k", "c", "pad")},
		{Database: "sbtest", Name: "sbtest4", Columns: cols("id", "k", "c", "pad")},
	})
}

// goldenCase is one statement text of testdata/statements.sql.
type goldenCase struct {
	comment string
	mode    SQLMode
	db      string
	charset string
	sql     string
}

// readGoldenCases reads entries separated by blank lines. Lines starting
// with "# " are comments; "@mode X,Y", "@db name" and "@charset cs" set the
// session for the entry; "@each col1 col2" expands {c} in the entry once
// per column.
func readGoldenCases(t *testing.T, file string) []goldenCase {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []goldenCase
	cur := goldenCase{db: "gov"}
	var each []string
	var sql []string
	flush := func() {
		if len(sql) > 0 {
			text := strings.Join(sql, "\n")
			if len(each) == 0 {
				c := cur
				c.sql = text
				cases = append(cases, c)
			}
			for _, col := range each {
				c := cur
				c.sql = strings.ReplaceAll(text, "{c}", col)
				cases = append(cases, c)
			}
		}
		cur, each, sql = goldenCase{db: "gov"}, nil, nil
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case strings.HasPrefix(line, "# "):
			cur.comment = strings.TrimPrefix(line, "# ")
		case strings.HasPrefix(line, "@mode "):
			cur.mode = ParseSQLMode(strings.TrimPrefix(line, "@mode "))
		case strings.HasPrefix(line, "@db "):
			cur.db = strings.TrimSpace(strings.TrimPrefix(line, "@db "))
		case strings.HasPrefix(line, "@charset "):
			cur.charset = strings.TrimSpace(strings.TrimPrefix(line, "@charset "))
		case strings.HasPrefix(line, "@each "):
			each = strings.Fields(strings.TrimPrefix(line, "@each "))
		default:
			sql = append(sql, line)
		}
	}
	flush()
	return cases
}

// describeVerdict renders a verdict for golden files.
func describeVerdict(b *strings.Builder, role string, v *Verdict) {
	if v.Refusal != nil && len(v.Statements) == 0 {
		code, state := v.Refusal.Kind.MySQL()
		fmt.Fprintf(b, "%s: refused %s %d/%s: %s\n", role, v.Refusal.Kind, code, state, v.Refusal.Message)
		return
	}
	if v.Refusal != nil {
		code, _ := v.Refusal.Kind.MySQL()
		fmt.Fprintf(b, "%s: refused %s %d\n", role, v.Refusal.Kind, code)
	} else {
		fmt.Fprintf(b, "%s: forward %q\n", role, v.Forward)
	}
	for i, sv := range v.Statements {
		fmt.Fprintf(b, "  %d %s %s rule=%s", i+1, sv.Kind, sv.Outcome, sv.Rule)
		if sv.Outcome != Allow {
			fmt.Fprintf(b, " reason=%q", sv.Reason)
		}
		if sv.RowCap > 0 {
			fmt.Fprintf(b, " row_cap=%d", sv.RowCap)
		}
		if sv.Monitor {
			b.WriteString(" monitor")
		}
		b.WriteString("\n")
		for j, c := range sv.Columns {
			treat := "plain"
			if c.Masker != nil {
				treat = "mask " + c.Masker.(redactMasker).algorithm
			}
			fmt.Fprintf(b, "    col %d %s class=%s level=%s org=%s.%s.%s\n", j+1, treat, c.Class, c.Level, c.OrgDatabase, c.OrgTable, c.OrgColumn)
		}
	}
}

// TestGoldenDecisions runs every statement of testdata/statements.sql
// through the analyser and through the engine for the officer, clerk,
// analyst and watched (monitor) roles, and compares with
// testdata/decisions.golden (regenerate with -update).
func TestGoldenDecisions(t *testing.T) {
	cat := govCatalog()
	e, err := NewEngine(loadTestPolicy(t), cat, testMasks, nil)
	if err != nil {
		t.Fatal(err)
	}
	an := mysqlsql.NewAnalyzer(cat)
	cases := readGoldenCases(t, "testdata/statements.sql")
	var b strings.Builder
	for _, c := range cases {
		if c.comment != "" {
			fmt.Fprintf(&b, "# %s\n", c.comment)
		}
		fmt.Fprintf(&b, "SQL: %s\n", c.sql)
		if c.mode != 0 || c.db != "gov" || c.charset != "" {
			fmt.Fprintf(&b, "session: mode=%d db=%s charset=%s\n", c.mode, c.db, c.charset)
		}
		// The facts, as the analyser sees them for a restricted role.
		if resolved, err := mysqlsql.Resolve(c.sql, mysqlsql.Mode(c.mode), mysqlsql.Server{Version: 101119, MariaDB: true}); err == nil {
			if stmts, err := mysqlsql.Parse(resolved, mysqlsql.Mode(c.mode)); err == nil {
				db := c.db
				for i, s := range stmts {
					f, newDB := an.Analyze(s, db, mysqlsql.Mode(c.mode), mysqlsql.Full)
					if newDB != "" {
						db = newDB
					}
					fmt.Fprintf(&b, "facts %d:\n", i+1)
					facts.Describe(&b, f, "  ")
				}
			}
		}
		for _, user := range []string{"officer", "clerk", "analyst", "monitor", "dba"} {
			sess := mariaSession(user)
			sess.SQLMode, sess.Database = c.mode, c.db
			if c.charset != "" {
				sess.Charset = c.charset
			}
			role := user
			if user == "monitor" {
				role = "watched"
			}
			text := c.sql
			if c.charset == "gbk" {
				text, _ = simplifiedchinese.GBK.NewEncoder().String(text)
			}
			describeVerdict(&b, role, e.CheckMySQL(sess, text))
		}
		b.WriteString("\n")
	}
	got := b.String()
	const golden = "testdata/decisions.golden"
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
