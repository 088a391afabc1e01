package mysqlsql

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/dbfence/dbfence/rules/facts"
)

// analyzeText resolves, parses and analyses one statement in database gov.
func analyzeText(t testing.TB, a *Analyzer, text string) *facts.Statement {
	t.Helper()
	resolved, err := Resolve(text, 0, maria1011)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	stmts, err := Parse(resolved, 0)
	if err != nil || len(stmts) != 1 {
		t.Fatalf("Parse: %v (%d statements)", err, len(stmts))
	}
	st, _ := a.Analyze(stmts[0], "gov", 0, Full)
	return st
}

// TestLineageLeaks: red-team statements whose output once came out with a
// lineage missing the personal column it shows. The output must now name
// that column (or be unknown), or the statement must be unsupported.
func TestLineageLeaks(t *testing.T) {
	a := NewAnalyzer(govCatalog())
	tests := []struct {
		desc, sql string
		out       int    // 1-based output that shows the value
		col       string // the base column it shows
	}{
		{desc: "outer column behind a system table",
			sql: "SELECT id, (SELECT id_card FROM information_schema.engines LIMIT 1) x FROM person WHERE id=1",
			out: 2, col: "gov.person.id_card"},
		{desc: "outer column behind a qualified system table",
			sql: "SELECT (SELECT e.id_card FROM information_schema.engines e LIMIT 1) x FROM person e WHERE id=1",
			out: 1, col: "gov.person.id_card"},
		{desc: "dotted capital I folds to i in the server",
			sql: "SELECT (SELECT relation FROM (SELECT id_card AS RELATİON FROM person WHERE id=1) d) x FROM household WHERE household.id=11",
			out: 1, col: "gov.person.id_card"},
		{desc: "long s does not fold to s in the server",
			sql: "SELECT (SELECT address FROM (SELECT 'x' AS addreſſ) d) a FROM person WHERE id=1",
			out: 1, col: "gov.person.address"},
		{desc: "Kelvin sign in a column name",
			sql: "SELECT \u212a FROM (SELECT id_card AS k FROM person WHERE id=1) d",
			out: 1, col: "gov.person.id_card"},
		{desc: "derived table sees the CTE shadowing a table",
			sql: "WITH household AS (SELECT id_card AS relation FROM person WHERE id=1) SELECT relation FROM (SELECT relation FROM household) d",
			out: 1, col: "gov.person.id_card"},
		{desc: "derived table in a subquery sees the outer CTE",
			sql: "WITH household AS (SELECT id_card AS relation FROM person WHERE id=1) SELECT (SELECT relation FROM (SELECT relation FROM household) d) x",
			out: 1, col: "gov.person.id_card"},
		{desc: "recursive WITH: forward reference to a CTE shadowing a view",
			sql: "WITH RECURSIVE a AS (SELECT dept FROM person_public WHERE id=1), person_public AS (SELECT id, id_card AS dept FROM person) SELECT dept FROM a",
			out: 1, col: "gov.person.id_card"},
		{desc: "recursive CTE moving a value one column per step",
			sql: "WITH RECURSIVE r(n,a,b,c) AS (SELECT 1, CAST('x' AS CHAR(64)), CAST('y' AS CHAR(64)), CAST('z' AS CHAR(64)) UNION ALL SELECT n+1, b, c, id_card FROM r JOIN person ON person.id=1 WHERE n<4) SELECT n+0, CONCAT(a) FROM r",
			out: 2, col: "gov.person.id_card"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			st := analyzeText(t, a, tc.sql)
			if len(st.Unsupported) > 0 {
				return
			}
			if len(st.Outputs) < tc.out {
				t.Fatalf("%d outputs, want at least %d", len(st.Outputs), tc.out)
			}
			lin := st.Outputs[tc.out-1].Lineage
			if lin.Unknown || strings.Contains(lin.String(), tc.col) {
				return
			}
			var b strings.Builder
			facts.Describe(&b, st, "  ")
			t.Errorf("output %d shows %s but its lineage is %s:\n%s", tc.out, tc.col, lin, b.String())
		})
	}
}

// TestLineageUnderstood: statements the fixes above must keep analysing,
// with the lineage of each output.
func TestLineageUnderstood(t *testing.T) {
	a := NewAnalyzer(govCatalog())
	tests := []struct {
		desc, sql string
		want      []string
	}{
		{desc: "CJK alias has no case",
			sql:  "SELECT name AS 姓名 FROM person WHERE id=1",
			want: []string{"gov.person.name"}},
		{desc: "CJK alias read by an outer query",
			sql:  "SELECT 姓名 FROM (SELECT name AS 姓名 FROM person WHERE id=1) d",
			want: []string{"gov.person.name"}},
		{desc: "ASCII names fold",
			sql:  "SELECT Id_Card FROM (SELECT ID_CARD FROM person WHERE id=1) d",
			want: []string{"gov.person.id_card"}},
		{desc: "system table column",
			sql:  "SELECT engine FROM information_schema.engines",
			want: []string{"constant"}},
		{desc: "system table column in a correlated subquery",
			sql:  "SELECT id, (SELECT engine FROM information_schema.engines LIMIT 1) x FROM person WHERE id=1",
			want: []string{"gov.person.id", "constant"}},
		{desc: "derived table over a CTE",
			sql:  "WITH c AS (SELECT id FROM person WHERE id=1) SELECT * FROM (SELECT * FROM c) d",
			want: []string{"gov.person.id"}},
		{desc: "recursive CTE",
			sql:  "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r",
			want: []string{"constant"}},
		{desc: "recursive WITH: backward reference",
			sql:  "WITH RECURSIVE a AS (SELECT id, dept FROM person WHERE id=1), b AS (SELECT dept FROM a) SELECT dept FROM b",
			want: []string{"gov.person.dept"}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			st := analyzeText(t, a, tc.sql)
			if len(st.Unsupported) > 0 {
				t.Fatalf("unsupported: %v", st.Unsupported)
			}
			var got []string
			for _, o := range st.Outputs {
				got = append(got, o.Lineage.String())
			}
			if strings.Join(got, "; ") != strings.Join(tc.want, "; ") {
				t.Errorf("lineage %q, want %q", got, tc.want)
			}
		})
	}
}

// nestedRecursiveWith nests d recursive WITHs, each re-analysed until its
// lineage settles: the work multiplies with the depth.
func nestedRecursiveWith(d int) string {
	q := "SELECT id_card FROM person"
	for i := 0; i < d; i++ {
		q = "WITH RECURSIVE r(n,a,b,c) AS (SELECT 1, 'x', 'y', (" + q + " LIMIT 1) UNION ALL SELECT n+1, b, c, a FROM r WHERE n<4) SELECT c FROM r"
	}
	return q
}

// TestDeepExpressionsAreRefused: nesting deep enough to exhaust the stack
// must be refused as too complex, not crash the process (a stack overflow
// cannot be recovered), and so must nesting that would take too long. The
// stack is lowered so that the depths stay quick.
func TestDeepExpressionsAreRefused(t *testing.T) {
	defer debug.SetMaxStack(debug.SetMaxStack(16 << 20))
	a := NewAnalyzer(govCatalog())
	const n = 50000
	for _, tc := range []struct{ desc, text string }{
		{"parentheses", "SELECT " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n)},
		{"additions", "SELECT 1" + strings.Repeat("+1", n)},
		{"AND chain", "SELECT id FROM person WHERE id=1" + strings.Repeat(" AND id=1", n)},
		{"subqueries", "SELECT " + strings.Repeat("(SELECT ", n/10) + "1" + strings.Repeat(")", n/10)},
		{"derived tables", "SELECT * FROM " + strings.Repeat("(SELECT * FROM ", n/10) + "person" + strings.Repeat(") d", n/10)},
		{"nested recursive WITHs", "SELECT (" + nestedRecursiveWith(8) + " LIMIT 1) x"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			stmts, err := Parse(tc.text, 0)
			if err != nil {
				t.Skipf("the parser refuses it: %v", err)
			}
			for _, depth := range []Depth{Shallow, Full} {
				st, _ := a.Analyze(stmts[0], "gov", 0, depth)
				if depth == Full && len(st.Unsupported) == 0 {
					t.Errorf("analysed without complaint")
				}
			}
		})
	}
}

// TestLiteralKindsDecideLookups: the decision cache keys texts by their
// literals' kinds (AppendShape); within a kind, whether `col = literal` is
// an exact lookup must not change.
func TestLiteralKindsDecideLookups(t *testing.T) {
	for _, lit := range []string{
		"1", "0", "000000000000000000001", "999999999999999", "0999999999999999", "1000000000000000",
		"9223372036854775807", "18446744073709551615", "99999999999999999999", "1.0", "1.", "6222025947583294000.0",
		"1e3", "1.5e-3", "0x1F", "0b101", "'a'", `"a"`, "'6222025947583294654'", "?",
	} {
		text := "SELECT id FROM person WHERE bank_card = " + lit
		stmts, err := Parse(text, 0)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		lookup := isLookupLiteral(stmts[0].(*ast.SelectStmt).Where.(*ast.BinaryOperationExpr).R)
		shape := string(AppendShape(nil, text, 0))
		kind := shape[strings.IndexByte(shape, 0)+1:]
		if want := kind == "s" || kind == "i" || kind == "p"; lookup != want {
			t.Errorf("%s: kind %q, but lookup %v", lit, kind, lookup)
		}
	}
}

// TestCompareNames: identifiers compare as the server's utf8mb3_general_ci
// does for ASCII and caseless characters; a non-ASCII letter with case
// leaves the comparison undecided unless other characters settle it.
func TestCompareNames(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want nameCmp
	}{
		{"id_card", "ID_Card", namesEqual},
		{"id", "idx", namesDiffer},
		{"姓名", "姓名", namesEqual},
		{"姓名", "姓", namesDiffer},
		{"a姓", "A姓", namesEqual},
		{"ª", "a", namesDiffer},
		{"Äpfel", "Äpfel", namesEqual},
		{"id", "Größe", namesDiffer},
		{"Äa", "äb", namesDiffer},
		{"RELATİON", "relation", namesUncertain},
		{"ıd", "id", namesUncertain},
		{"addreſſ", "address", namesUncertain},
		{"\u212a", "k", namesUncertain},
		{"äpfel", "Äpfel", namesUncertain},
		{"é", "e", namesUncertain},
		{"ǰ", "j", namesUncertain},
		{"x\xff", "x\xfe", namesUncertain},
		{"😀", "😁", namesUncertain},
	} {
		if got := compareNames(tc.a, tc.b); got != tc.want {
			t.Errorf("compareNames(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
