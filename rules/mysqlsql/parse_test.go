package mysqlsql

import (
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// TestParseReadsModes shows the catalogue's class 17 examples parse as the
// server reads them under each mode.
func TestParseReadsModes(t *testing.T) {
	tests := []struct {
		desc       string
		text       string
		mode       Mode
		wantFields int
		wantColumn string // name of a column reference expected among the fields
	}{
		{desc: "class 17: backslash escape by default hides nothing", text: `SELECT 'a\' AS a, id_card FROM person -- '`, wantFields: 1},
		{desc: "class 17: NO_BACKSLASH_ESCAPES exposes id_card", text: `SELECT 'a\' AS a, id_card FROM person -- '`, mode: ModeNoBackslashEscapes, wantFields: 2, wantColumn: "id_card"},
		{desc: "class 17: ANSI_QUOTES makes \"id_card\" a column", text: `SELECT CONCAT("id_card") FROM person`, mode: ModeANSIQuotes, wantFields: 1, wantColumn: "id_card"},
		{desc: "class 17: PIPES_AS_CONCAT", text: `SELECT name || id_card FROM person`, mode: ModePipesAsConcat, wantFields: 1, wantColumn: "id_card"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			resolved, err := Resolve(tc.text, tc.mode, maria1011)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			stmts, err := Parse(resolved, tc.mode)
			if err != nil {
				t.Fatalf("Parse(%q): %v", resolved, err)
			}
			sel := stmts[0].(*ast.SelectStmt)
			if len(sel.Fields.Fields) != tc.wantFields {
				t.Fatalf("%d fields, want %d", len(sel.Fields.Fields), tc.wantFields)
			}
			found := false
			sel.Fields.Accept(visitorFunc(func(n ast.Node) {
				if c, ok := n.(*ast.ColumnNameExpr); ok && c.Name.Name.L == tc.wantColumn {
					found = true
				}
			}))
			if tc.wantColumn != "" && !found {
				t.Errorf("no reference to column %s in %q", tc.wantColumn, resolved)
			}
			if tc.mode == ModePipesAsConcat {
				if _, ok := sel.Fields.Fields[0].Expr.(*ast.FuncCallExpr); !ok {
					t.Errorf("|| under PIPES_AS_CONCAT parsed as %T, want a CONCAT call", sel.Fields.Fields[0].Expr)
				}
			}
		})
	}
}

func TestParseRefusesGarbage(t *testing.T) {
	for _, text := range []string{"SELEC 1", "", "SELECT FROM WHERE", ";",
		"SELECT " + strings.Repeat("0", 117) + ".0000000000", // the parser's decimal panics
	} {
		if _, err := Parse(text, 0); err == nil {
			t.Errorf("Parse(%q) succeeded, want a ParseError", text)
		}
	}
}

type visitorFunc func(ast.Node)

func (f visitorFunc) Enter(n ast.Node) (ast.Node, bool) { f(n); return n, false }
func (f visitorFunc) Leave(n ast.Node) (ast.Node, bool) { return n, true }
