package pgsql

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/dbfence/dbfence/fault"
)

// treeDepth is the nesting of protobuf messages in m, over which
// libpg_query's output and the decoding recurse.
func treeDepth(m protoreflect.Message) int {
	d := 0
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Kind() != protoreflect.MessageKind || fd.IsMap():
		case fd.IsList():
			for i, l := 0, v.List(); i < l.Len(); i++ {
				d = max(d, treeDepth(l.Get(i).Message()))
			}
		default:
			d = max(d, treeDepth(v.Message()))
		}
		return true
	})
	return d + 1
}

// depthSlack is the messages above and around the counted levels (the
// ParseResult, RawStmt, statement node and the fixed structure of DDL).
const depthSlack = 16

// checkDepthBound fails when text parses into a tree deeper than its
// estimate allows: two messages (a Node and its content) per level. It
// reports whether text was accepted and parsed.
func checkDepthBound(t *testing.T, text string) bool {
	t.Helper()
	est := depthEstimate(text, maxDepth)
	if est > maxDepth {
		return false
	}
	tree, err := pg.Parse(text)
	if err != nil {
		return false
	}
	if d := treeDepth(tree.ProtoReflect()); d > 2*est+depthSlack {
		t.Errorf("%.80q: estimate %d, tree %d messages deep", text, est, d)
	}
	return true
}

// shape builds statements of a shape at size n.
func shape(name string, n int) string {
	rep := strings.Repeat
	var b strings.Builder
	switch name {
	case "plus":
		return "SELECT 1" + rep("+1", n-1)
	case "concat":
		return "SELECT 'a'" + rep(" || 'a'", n-1)
	case "func":
		return "SELECT " + rep("abs(", n) + "1" + rep(")", n)
	case "not":
		return "SELECT " + rep("NOT ", n) + "true"
	case "minus":
		return "SELECT " + rep("- ", n) + "x FROM t"
	case "minusrun":
		return "SELECT " + rep("-+", n) + "x FROM t"
	case "hexminus":
		return "SELECT 0xE" + rep("-0xE", n)
	case "cast":
		return "SELECT 1" + rep("::int", n)
	case "parens":
		return "SELECT " + rep("(", n) + "1" + rep(")", n)
	case "field":
		return "SELECT " + rep("(", n) + "x" + rep(").f", n) + " FROM t"
	case "case":
		return "SELECT " + rep("CASE WHEN x THEN ", n) + "1" + rep(" ELSE 2 END", n) + " FROM t"
	case "array":
		return "SELECT " + rep("ARRAY[", n) + "1" + rep("]", n)
	case "subscript":
		return "SELECT " + rep("a[", n) + "1" + rep("]", n) + " FROM t"
	case "subquery":
		return "SELECT " + rep("(SELECT ", n) + "1" + rep(")", n)
	case "in":
		return "SELECT " + rep("x IN (", n) + "true" + rep(")", n) + " FROM t"
	case "between":
		return "SELECT " + rep("x BETWEEN 1 AND (", n) + "1" + rep(")", n) + " FROM t"
	case "union":
		return "SELECT 1" + rep(" UNION ALL SELECT 1", n-1)
	case "join":
		return "SELECT 1 FROM t" + rep(" JOIN t ON true", n)
	case "collate":
		return "SELECT 'a'" + rep(` COLLATE "C"`, n)
	case "timezone":
		return "SELECT now()" + rep(" AT TIME ZONE 'UTC'", n)
	case "and":
		return "SELECT * FROM t WHERE id = 1" + rep(" AND id = -1", n-1)
	case "or":
		return "SELECT * FROM t WHERE NOT id = 1" + rep(" OR NOT id BETWEEN 1 AND 2", n-1)
	case "row":
		return "SELECT " + rep("(", n) + "1" + rep(", 2)", n)
	case "in-list":
		b.WriteString("SELECT * FROM t WHERE id IN (0")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&b, ",%d", i)
		}
		b.WriteString(")")
	case "values":
		b.WriteString("INSERT INTO t (a, b, c) VALUES (0, -0, 'x')")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&b, ", (%d, -%d, 'it''s')", i, i)
		}
	default:
		panic(name)
	}
	return b.String()
}

func TestParseRefusesDeepNesting(t *testing.T) {
	tests := []struct {
		desc string
		text string
	}{
		{"30,000-term sum (overflows libpg_query's C stack)", shape("plus", 30000)},
		{"30,000-term concatenation", shape("concat", 30000)},
		{"2,500-term sum", shape("plus", 2500)},
		{"deep function nesting", shape("func", 20000)},
		{"deep NOT chain", shape("not", 20000)},
		{"deep prefix minus chain", shape("minus", 20000)},
		{"prefix operators in one run", shape("minusrun", 20000)},
		{"0xE-0xE-...", shape("hexminus", 30000)},
		{"deep cast chain", shape("cast", 30000)},
		{"deep CASE nesting", shape("case", 5000)},
		{"deep ARRAY nesting", shape("array", 5000)},
		{"deep subscript nesting", shape("subscript", 5000)},
		{"deep subquery nesting", shape("subquery", 2000)},
		{"deep IN nesting", shape("in", 5000)},
		{"deep BETWEEN nesting", shape("between", 5000)},
		{"60,000-branch UNION", shape("union", 60000)},
		{"30,000 JOINs", shape("join", 30000)},
		{"30,000 COLLATEs", shape("collate", 30000)},
		{"30,000 AT TIME ZONEs", shape("timezone", 30000)},
		{"field selection over nested parentheses", shape("field", 9000)},
		{"nested row constructors", shape("row", 5000)},
		{"20,000 nested parentheses", shape("parens", 20000)},
		{"sum after a string and a comment", "SELECT 'x''y', E'\\'', $q$ $$ $q$ /* /* */ */" + shape("plus", 30000)[6:]},
		{"second statement", "SELECT 1; " + shape("cast", 30000)},
	}
	for _, tc := range tests {
		_, err := Parse(tc.text)
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Kind != fault.ParseError ||
			!strings.HasPrefix(fe.Message, "dbfence ") || !strings.Contains(fe.Message, "too deeply nested") {
			t.Errorf("%s: got %v", tc.desc, err)
		}
	}
}

func TestParseAcceptsLargeFlatStatements(t *testing.T) {
	long := strings.Repeat("1+1*(2-3)::int || ", 20000)
	tests := []struct {
		desc  string
		text  string
		stmts int
	}{
		{"100,000-item IN list", shape("in-list", 100000), 1},
		{"20,000-row INSERT with negative numbers", shape("values", 20000), 1},
		{"30,000-term AND chain", shape("and", 30000), 1},
		{"OR chain of NOT and BETWEEN", shape("or", 20000), 1},
		{"1,000-term sum", shape("plus", 1000), 1},
		{"1,000 nested calls", shape("func", 1000), 1},
		{"1,000 casts", shape("cast", 1000), 1},
		{"1,000 JOINs", shape("join", 1000), 1},
		{"3,000-branch UNION ALL", shape("union", 3000), 1},
		{"5,000 nested parentheses", shape("parens", 5000), 1},
		{"long string literal", "SELECT '" + strings.Repeat("it''s 1+1 ", 100000) + "'", 1},
		{"long E string", "SELECT E'" + strings.Repeat(`\' 1+1 \\`, 100000) + "'", 1},
		{"long quoted identifier", `SELECT 1 AS "` + strings.Repeat(`a""+1`, 20000) + `"`, 1},
		{"comments", "-- " + long + "\n/* " + long + " /* nested */ " + long + " */ SELECT 1", 1},
		{"dollar-quoted DO body", "DO $body$ BEGIN PERFORM " + long + "1; END $body$", 1},
		{"function body", "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT " + long + "1 $$", 1},
		{"many statements", strings.Repeat("SELECT -1 + 1; ", 20000), 20000},
	}
	for _, tc := range tests {
		stmts, err := Parse(tc.text)
		if err != nil || len(stmts) != tc.stmts {
			t.Errorf("%s: got %d statements, %v", tc.desc, len(stmts), err)
		}
	}
}

func TestDepthEstimateLexical(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"SELECT 1", 3},
		{"SELECT 1+1+1", 5},
		{"select 1 + 1 + 1", 5},
		{"SELECT '1+1+1'", 3},
		{"SELECT 'it''s' + 1", 4},
		{`SELECT E'\'+1+1' + 1`, 4},
		{`SELECT e'\\' + 1`, 4},
		{`SELECT x'1F' + 1`, 4},
		{`SELECT '\' + 1`, 4}, // standard_conforming_strings: no escape
		{`SELECT "a+b""+c" + 1`, 4},
		{"SELECT $$1+1+1$$ + 1", 4},
		{"SELECT $a$ $$ +1+1 $a$ + 1", 4},
		{"SELECT $1 + $2", 4},
		{"SELECT 1 -- +1+1\n+ 1", 4},
		{"SELECT 1 /* +1 /* +1 */ +1 */ + 1", 4},
		{"SELECT 1 +/* */1", 4},
		{"SELECT 1e-5 + 1.5E+3", 4},
		{"SELECT 0xE-1", 4},
		{"SELECT 1=-1", 5},
		{"SELECT -+-x", 6},
		{"SELECT x->>'a'", 4},
		{"SELECT x::int::text", 5},
		{"SELECT f(x)", 4},
		{"SELECT (x)", 3},
		{"SELECT (x).f", 4},
		{"SELECT t.end, t.case FROM t", 3},
		{"SELECT a, b, c FROM t WHERE a = 1 AND b = 2 OR c = 3", 6},
		{"SELECT CASE WHEN a THEN b ELSE c END", 5},
		{"SELECT x BETWEEN 1 AND 2", 5},
		{"BEGIN; SELECT 1; END", 3},
	}
	for _, tc := range tests {
		if got := depthEstimate(tc.text, maxDepth); got != tc.want {
			t.Errorf("%q: got %d, want %d", tc.text, got, tc.want)
		}
		checkDepthBound(t, tc.text)
	}
}

// TestDepthEstimateBound checks that the estimate bounds the real tree
// depth for the golden statements and for every shape at small sizes.
func TestDepthEstimateBound(t *testing.T) {
	for _, c := range readGoldenCases(t, "testdata/statements.sql") {
		checkDepthBound(t, c.sql)
	}
	for _, name := range []string{"plus", "concat", "func", "not", "minus", "minusrun", "hexminus", "cast", "parens",
		"field", "case", "array", "subscript", "subquery", "in", "between", "union", "join", "collate", "timezone",
		"and", "or", "row", "in-list", "values"} {
		for _, n := range []int{1, 2, 3, 10, 100} {
			checkDepthBound(t, shape(name, n))
		}
	}
}

// depthForms are expressions with holes ({}), the last 8 of them leaves:
// operators, precedence levels, brackets and the constructs whose nodes
// nest deepest.
var depthForms = []string{"{} + {}", "{} || {} * {}", "- {}", "-+{}", "NOT {}", "{}::int", "({})", "abs({}, {})", "({}).f",
	"{}[{}]", "({})[{}:{}]", "ARRAY[{}, {}]", "CASE WHEN {} THEN {} ELSE {} END", "CASE {} WHEN {} THEN {} END",
	"{} IN ({}, {})", "{} NOT IN (SELECT {})", "{} BETWEEN {} AND {}", "{} NOT BETWEEN SYMMETRIC {} AND {}",
	"{} IS NULL", "{} IS NOT DISTINCT FROM {}", `{} COLLATE "C"`, "{} AT TIME ZONE {}", "(SELECT {})",
	"EXISTS (SELECT {} FROM t WHERE {})", "{} AND {}", "{} OR {}", "ROW({}, {})", "({}, {})", "{} = ANY({})",
	"{} LIKE {} ESCAPE {}", "{} ->> 'a'", "@ {}", "{} = {}", "{} OPERATOR(pg_catalog.+) {}", "f(a => {})",
	"{}::int[]", "count(*) FILTER (WHERE {}) OVER (PARTITION BY {} ORDER BY {})",
	"percentile_cont(0.5) WITHIN GROUP (ORDER BY {})", "string_agg({}, ',' ORDER BY {})", "json_object('a': {})",
	"json_array({}, {})", "json_value({}, '$' DEFAULT {} ON ERROR)", "xmlforest({} AS a)", "xmlelement(name a, {})",
	"x", "1", "'s'", "$1", "-1", "t.x", "0xE-1", "1e-1-1"}

// TestDepthEstimateNested checks the bound on each form nested 40 deep in
// parentheses, which add no node (other holes hold x): a form whose nodes
// the scan undercounts shows.
func TestDepthEstimateNested(t *testing.T) {
	for _, f := range depthForms {
		text := "x"
		for range 40 {
			text = strings.Replace(f, "{}", "("+text+")", 1)
		}
		text = strings.ReplaceAll(text, "{}", "x")
		if !checkDepthBound(t, "SELECT "+text) {
			t.Errorf("%.60q does not parse", text)
		}
	}
}

// TestDepthEstimateRandom checks the bound on random mixes of the forms
// (fixed seed): the byte mutations of FuzzDepthEstimate rarely build deep
// valid SQL.
func TestDepthEstimateRandom(t *testing.T) {
	const leaves = 8
	stmts := []string{"SELECT {}", "SELECT {}, {} FROM t t1 JOIN t t2 ON {} JOIN t t3 USING (x) WHERE {}",
		"SELECT {} UNION SELECT {} INTERSECT SELECT {}", "VALUES ({}, {}), ({})", "INSERT INTO t VALUES ({}) RETURNING {}",
		"UPDATE t SET a = {} WHERE {}", "SELECT * FROM (SELECT {}) s, LATERAL (SELECT {}) u",
		"WITH w AS (SELECT {}) SELECT {}", "SELECT {} GROUP BY {} HAVING {} ORDER BY {}"}
	rng := rand.New(rand.NewSource(1))
	var gen func(b *strings.Builder, form string, depth int)
	gen = func(b *strings.Builder, form string, depth int) {
		for {
			before, after, found := strings.Cut(form, "{}")
			b.WriteString(before)
			if !found {
				return
			}
			f := depthForms[len(depthForms)-leaves+rng.Intn(leaves)]
			if depth > 0 && b.Len() < 3000 && rng.Intn(8) > 0 {
				f = depthForms[rng.Intn(len(depthForms))]
			}
			gen(b, f, depth-1)
			form = after
		}
	}
	parsed := 0
	for i := range 20000 {
		var b strings.Builder
		gen(&b, stmts[rng.Intn(len(stmts))], 4+i%40)
		if checkDepthBound(t, b.String()) {
			parsed++
		}
	}
	if parsed < 2000 {
		t.Errorf("only %d random statements parsed", parsed)
	}
}

// FuzzDepthEstimate: the scan never panics, and whatever it accepts parses
// into a tree no deeper than the estimate allows (so within libpg_query's
// stack for accepted texts, as depth grows with the estimate).
func FuzzDepthEstimate(f *testing.F) {
	for _, s := range []string{"SELECT 1+1", "SELECT (x).f[1]::int", "SELECT E'\\'' || $a$x$a$ -- c\n/* /* */ */",
		"SELECT CASE WHEN a BETWEEN 1 AND 2 THEN -+-x END", "SELECT 1 UNION SELECT 2 FROM a JOIN b ON x IN (1, 2)",
		"SELECT NOT x IS NULL COLLATE \"C\" AT TIME ZONE 'UTC'", shape("field", 3), shape("row", 3)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 1<<12 {
			return
		}
		checkDepthBound(t, text)
	})
}

// BenchmarkDepthEstimate is the scan Parse adds on a typical statement.
func BenchmarkDepthEstimate(b *testing.B) {
	text := "SELECT p.name, p.id_card, h.member_name, h.relation FROM gov.person p JOIN household h ON h.person_id = p.id " +
		"WHERE p.id = $1 AND h.relation IN ('spouse', 'child') AND p.birth_date >= '1990-01-01'::date ORDER BY h.id LIMIT 10"
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if depthEstimate(text, maxDepth) > maxDepth {
			b.Fatal("refused")
		}
	}
}
