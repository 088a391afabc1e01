package mysqlsql

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/dbfence/dbfence/rules/catalog"
	"github.com/dbfence/dbfence/rules/facts"
)

// Analyzer turns MySQL syntax trees into facts. It is safe for concurrent
// use; it reads the catalog snapshot it was built with.
type Analyzer struct {
	cat *catalog.Catalog
}

// NewAnalyzer returns an analyser over a catalog snapshot (nil: an empty
// catalog, under which every table is unknown).
func NewAnalyzer(cat *catalog.Catalog) *Analyzer {
	if cat == nil {
		cat = catalog.New(catalog.Options{}, nil)
	}
	return &Analyzer{cat: cat}
}

// Catalog returns the snapshot the analyser reads.
func (a *Analyzer) Catalog() *catalog.Catalog { return a.cat }

// Depth selects how much an analysis finds out.
type Depth uint8

const (
	// Shallow finds the kind, session effects, dynamic SQL and literal
	// dependence only: enough for an unrestricted role.
	Shallow Depth = iota
	// Full adds objects, lineage, row shaping, flows and everything else the
	// decision for a restricted role needs.
	Full
)

// Analyze describes one parsed statement. db is the current database;
// mode is needed to read the literal of PREPARE p FROM '...'. The returned
// newDB is the current database after the statement ("" when unchanged).
func (a *Analyzer) Analyze(stmt ast.StmtNode, db string, mode Mode, depth Depth) (st *facts.Statement, newDB string) {
	st = &facts.Statement{Kind: Kind(stmt), Limit: -1}
	newDB = sessionEffects(stmt, st)
	switch s := stmt.(type) {
	case *ast.PrepareStmt:
		a.analyzePrepare(s, db, mode, depth, st)
	case *ast.ExecuteStmt:
		st.Dynamic = true
		st.OutputsUnknown = true
	}
	if depth == Full {
		a.analyzeFull(stmt, db, st)
	} else {
		markLiteralDependence(stmt, st)
	}
	return st, newDB
}

// analyzePrepare analyses PREPARE p FROM 'text' as the statement it
// prepares; PREPARE p FROM @v is dynamic SQL.
func (a *Analyzer) analyzePrepare(s *ast.PrepareStmt, db string, mode Mode, depth Depth, st *facts.Statement) {
	st.LiteralDependent = true
	if s.SQLVar != nil {
		st.Dynamic = true
		return
	}
	// The server reads the prepared text under the session's modes, with
	// executable comments; the literal is resolved exactly like a query.
	// Executable comments inside the literal are refused rather than
	// resolved: nothing else tells how the server version applies there.
	if hasExecutableComment(s.SQLText) {
		st.AddUnsupported("prepared text with executable comments")
		return
	}
	text, err := Resolve(s.SQLText, mode, Server{})
	if err != nil {
		st.AddUnsupported("prepared text that cannot be read")
		return
	}
	stmts, err := Parse(text, mode)
	if err != nil || len(stmts) != 1 {
		st.AddUnsupported("prepared text that does not parse as one statement")
		return
	}
	inner, _ := a.Analyze(stmts[0], db, mode, depth)
	st.Prepared = inner
	if inner.ChangesSession {
		st.ChangesSession = true
	}
}

// hasExecutableComment reports whether text may hold /*! or /*M!.
func hasExecutableComment(text string) bool {
	for i := 0; i+2 < len(text); i++ {
		if text[i] == '/' && text[i+1] == '*' && (text[i+2] == '!' || text[i+2] == 'M') {
			return true
		}
	}
	return false
}

// markLiteralDependence sets LiteralDependent for the constructs whose
// meaning depends on literal values: LIMIT counts and literals in ORDER BY
// and GROUP BY (an integer there is a column position).
func markLiteralDependence(stmt ast.StmtNode, st *facts.Statement) {
	v := &literalDependence{st: st}
	stmt.Accept(v)
}

type literalDependence struct {
	st    *facts.Statement
	depth int
}

// Enter implements ast.Visitor; it stops descending once dependence is found.
// It does not descend past maxDepth (the stack is not unbounded): a tree that
// deep is taken as literal-dependent, and the full analysis refuses it.
func (v *literalDependence) Enter(n ast.Node) (ast.Node, bool) {
	if v.depth++; v.depth > maxDepth {
		v.st.LiteralDependent = true
	}
	switch x := n.(type) {
	case *ast.Limit:
		v.st.LiteralDependent = true
	case *ast.ByItem:
		switch x.Expr.(type) {
		case ast.ValueExpr, *ast.PositionExpr:
			v.st.LiteralDependent = true
		}
	case *ast.PrepareStmt:
		v.st.LiteralDependent = true
	}
	return n, v.st.LiteralDependent
}

// Leave implements ast.Visitor.
func (v *literalDependence) Leave(n ast.Node) (ast.Node, bool) {
	v.depth--
	return n, true
}
