package mysqlsql

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/dbfence/dbfence/rules/catalog"
	"github.com/dbfence/dbfence/rules/facts"
)

// maxViewDepth bounds view-in-view resolution; deeper nesting is unknown lineage.
const maxViewDepth = 16

// maxDepth bounds the walker's recursion into expressions, conditions,
// queries and joins: a stack overflow cannot be recovered and would end the
// whole process, so deeper nesting is refused as too complex.
const maxDepth = 1000

// maxReanalysis bounds the steps spent re-analysing the queries of a
// recursive WITH until their lineage settles (nested WITHs multiply).
const maxReanalysis = 1 << 18

// tooComplex is the panic that abandons an analysis at maxDepth or
// maxReanalysis; analyzeFull records it as unsupported.
type tooComplex string

// relColumn is one column of a row source as seen by the query reading it.
type relColumn struct {
	name string
	lin  facts.Lineage
	// org* is what the server reports as the column's origin when an outer
	// query reads it by name (see facts.Output).
	orgDB, orgTable, orgColumn string
	// hidden columns were merged by USING/NATURAL: reachable by qualified name only.
	hidden bool
}

// relation is a row source visible in a scope (table, view, CTE, derived table).
type relation struct {
	name string // alias or table name
	db   string // database of a base table or view; "" otherwise
	cols []relColumn
	// opaque: columns not known but not personal data (system schema tables).
	opaque bool
	// unknown: columns not known and treated as sensitive (why says why).
	unknown bool
	why     string
	// shared: cols belongs to the catalog snapshot; clone before changing it.
	shared bool
	// view: the relation is a view.
	view bool
}

// ownColumns makes rel's columns safe to modify.
func (rel *relation) ownColumns() {
	if rel.shared {
		rel.cols, rel.shared = slices.Clone(rel.cols), false
	}
}

// cteDef is a common table expression visible in a scope.
type cteDef struct {
	name string
	cols []relColumn
	// pending is true while the names of a recursive WITH's columns are
	// being found: its columns are not known yet.
	pending bool
}

// scope is one query block's name space.
type scope struct {
	parent *scope
	rels   []*relation
	ctes   []*cteDef
	// outputs are the select list, which GROUP BY, HAVING and ORDER BY may
	// name by alias or position; aliases is true while analysing those.
	outputs []facts.Output
	aliases bool
	// top is true for the outermost query block of the statement.
	top bool
}

// lookupCTE finds the CTE a table name refers to, innermost first. The
// server compares CTE names ignoring case whatever lower_case_table_names.
func (w *walker) lookupCTE(sc *scope, name string) *cteDef {
	for s := sc; s != nil; s = s.parent {
		for _, c := range s.ctes {
			if w.sameName(c.name, name) {
				return c
			}
		}
	}
	return nil
}

// walker analyses one statement.
type walker struct {
	a         *Analyzer
	st        *facts.Statement
	db        string
	viewDepth int
	// inView suppresses row-shaping facts: a view's own WHERE is fixed by
	// its definer, not chosen by the user.
	inView bool
	// depth is the current recursion depth (see maxDepth).
	depth int
	// rework counts the steps of analyses whose facts are discarded (see
	// maxReanalysis); reworking is true during one.
	rework    int
	reworking bool
}

// down enters one level of recursion; up leaves it.
func (w *walker) down() {
	w.depth++
	if w.depth > maxDepth {
		panic(tooComplex(fmt.Sprintf("statement nested more than %d levels deep", maxDepth)))
	}
	if w.reworking {
		w.rework++
		if w.rework > maxReanalysis {
			panic(tooComplex("recursive WITH too costly to analyse"))
		}
	}
}

func (w *walker) up() { w.depth-- }

// analyzeFull fills objects, lineage, shaping and flows. It never panics:
// an internal failure becomes an Unsupported entry (the statement is then
// refused for restricted roles).
func (a *Analyzer) analyzeFull(stmt ast.StmtNode, db string, st *facts.Statement) {
	markLiteralDependence(stmt, st)
	w := &walker{a: a, st: st, db: db}
	defer func() {
		if r := recover(); r != nil {
			if tc, ok := r.(tooComplex); ok {
				st.AddUnsupported(string(tc))
			} else {
				st.AddUnsupported(fmt.Sprintf("analyser failure: %v", r))
			}
		}
		w.st = st // a panic may leave a scratch statement in place
		w.finish()
	}()
	w.statement(stmt)
}

// finish sorts and de-duplicates the list facts so results are deterministic.
func (w *walker) finish() {
	st := w.st
	sortObjects := func(list []facts.Object) []facts.Object {
		slices.SortFunc(list, facts.CompareObjects)
		return slices.Compact(list)
	}
	st.Reads = sortObjects(st.Reads)
	st.Writes = sortObjects(st.Writes)
	st.SystemObjects = sortObjects(st.SystemObjects)
	for _, l := range []*[]string{&st.Functions, &st.UnknownFunctions, &st.Dangerous} {
		slices.Sort(*l)
		*l = slices.Compact(*l)
	}
	slices.SortStableFunc(st.Shaping, func(a, b facts.Shaping) int {
		if c := facts.CompareColumns(a.Column, b.Column); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.Position), string(b.Position)); c != 0 {
			return c
		}
		if a.ExactLookup == b.ExactLookup {
			return 0
		}
		if a.ExactLookup {
			return -1
		}
		return 1
	})
	st.Shaping = slices.Compact(st.Shaping)
}

// statement dispatches on the statement type.
func (w *walker) statement(stmt ast.StmtNode) {
	st := w.st
	switch s := stmt.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		st.Outputs = w.resultSet(s.(ast.ResultSetNode), nil, true)
	case *ast.InsertStmt:
		w.insert(s)
	case *ast.UpdateStmt:
		w.update(s)
	case *ast.DeleteStmt:
		w.delete(s)
	case *ast.SetStmt:
		for _, v := range s.Variables {
			if v.Value == nil || v.Name == ast.SetNames || v.Name == ast.SetCharset {
				continue
			}
			var lin facts.Lineage
			if cn, ok := v.Value.(*ast.ColumnNameExpr); ok && cn.Name.Table.L == "" {
				// SET x = name: the server reads a bare name as a value
				// (ON, gbk, ...), never as a column.
			} else {
				lin = w.expr(v.Value, &scope{})
			}
			target := facts.ToVariable
			if v.IsSystem {
				target = facts.ToSetting
			}
			st.Flows = append(st.Flows, facts.Flow{Target: target, Name: asciiLower(v.Name), Lineage: lin})
		}
	case *ast.DoStmt:
		for _, e := range s.Exprs {
			w.expr(e, &scope{})
		}
	case *ast.ShowStmt:
		w.show(s)
	case *ast.ExplainStmt:
		st.ExplainAnalyze = s.Analyze
		inner := &facts.Statement{Kind: Kind(s.Stmt), Limit: -1}
		iw := &walker{a: w.a, st: inner, db: w.db}
		iw.statement(s.Stmt)
		st.Reads, st.SystemObjects, st.Shaping = inner.Reads, inner.SystemObjects, inner.Shaping
		st.Functions, st.UnknownFunctions, st.Dangerous = inner.Functions, inner.UnknownFunctions, inner.Dangerous
		st.Unsupported = append(st.Unsupported, inner.Unsupported...)
		st.ShapingUnknown = inner.ShapingUnknown
		if inner.Dynamic || inner.Kind != "select" && inner.Kind != "show" && inner.Kind != "insert" && inner.Kind != "update" && inner.Kind != "delete" && inner.Kind != "replace" {
			st.AddUnsupported("EXPLAIN of a " + inner.Kind + " statement")
		}
	case *ast.CreateTableStmt:
		obj := w.objectOf(s.Table)
		st.Writes = append(st.Writes, obj)
		if s.Select != nil {
			outs := w.resultSet(s.Select, nil, false)
			st.Flows = append(st.Flows, facts.Flow{Target: facts.ToTable, Name: obj.String(), Lineage: mergeOutputs(outs)})
		}
		if s.ReferTable != nil {
			w.tableName(s.ReferTable, &scope{})
		}
	case *ast.CreateViewStmt:
		obj := w.objectOf(s.ViewName)
		st.Writes = append(st.Writes, obj)
		outs := w.resultSet(s.Select.(ast.ResultSetNode), nil, false)
		st.Flows = append(st.Flows, facts.Flow{Target: facts.ToTable, Name: obj.String(), Lineage: mergeOutputs(outs)})
	case *ast.LoadDataStmt:
		if s.Table != nil {
			obj := w.objectOf(s.Table)
			st.Writes = append(st.Writes, obj)
			st.Flows = append(st.Flows, facts.Flow{Target: facts.ToTable, Name: obj.String(), Lineage: facts.Unknown("file")})
		}
	case *ast.CallStmt:
		st.OutputsUnknown = true
		st.UnknownFunctions = append(st.UnknownFunctions, asciiLower(s.Procedure.FnName.O))
	case *ast.PrepareStmt, *ast.ExecuteStmt, *ast.DeallocateStmt, *ast.UseStmt,
		*ast.BeginStmt, *ast.CommitStmt, *ast.RollbackStmt, *ast.SavepointStmt, *ast.ReleaseSavepointStmt,
		*ast.SetRoleStmt, *ast.SetDefaultRoleStmt, *ast.KillStmt:
		// Nothing beyond the kind and session effects.
	case *ast.DropTableStmt:
		for _, t := range s.Tables {
			st.Writes = append(st.Writes, w.objectOf(t))
		}
	case *ast.TruncateTableStmt:
		st.Writes = append(st.Writes, w.objectOf(s.Table))
	case *ast.AlterTableStmt:
		st.Writes = append(st.Writes, w.objectOf(s.Table))
	default:
		// DDL and administrative statements without data flows of their own
		// are decided by kind; anything else is recorded as not understood.
		if Kind(stmt) != "ddl" && Kind(stmt) != "grant" && Kind(stmt) != "user" && Kind(stmt) != "flush" &&
			Kind(stmt) != "lock" && Kind(stmt) != "admin" && Kind(stmt) != "analyze" {
			st.AddUnsupported(fmt.Sprintf("statement %T", stmt))
		}
	}
}

// objectOf names a table without reading it.
func (w *walker) objectOf(tn *ast.TableName) facts.Object {
	db := tn.Schema.O
	if db == "" {
		db = w.db
	}
	if t, ok := w.a.cat.Table(db, tn.Name.O); ok {
		return facts.Object{Database: t.Database, Name: t.Name, View: t.View != nil}
	}
	if d, ok := w.a.cat.Database(db); ok {
		db = d
	}
	return facts.Object{Database: db, Name: tn.Name.O}
}

// mergeOutputs is the lineage of a whole row: the union of its columns.
func mergeOutputs(outs []facts.Output) facts.Lineage {
	var lin facts.Lineage
	for _, o := range outs {
		lin = facts.Merge(lin, o.Lineage)
	}
	return lin
}

// resultSet analyses a query expression and returns its output columns.
// top is true for the statement's outermost query (WHERE/LIMIT facts).
func (w *walker) resultSet(n ast.ResultSetNode, parent *scope, top bool) []facts.Output {
	outs := w.resultSetOutputs(n, parent, top)
	if !w.inView {
		for _, o := range outs {
			w.st.Evaluated = facts.Merge(w.st.Evaluated, o.Lineage)
		}
	}
	return outs
}

func (w *walker) resultSetOutputs(n ast.ResultSetNode, parent *scope, top bool) []facts.Output {
	w.down()
	defer w.up()
	switch x := n.(type) {
	case *ast.SelectStmt:
		return w.selectStmt(x, parent, top)
	case *ast.SetOprStmt:
		return w.setOpr(x, parent, top)
	case *ast.SubqueryExpr:
		return w.resultSet(x.Query, parent, top)
	}
	w.st.AddUnsupported(fmt.Sprintf("query of type %T", n))
	w.st.OutputsUnknown = true
	return nil
}

// with registers the CTEs of a WITH clause in sc.
func (w *walker) with(wc *ast.WithClause, sc *scope) {
	w.st.CTEs = true
	if wc.IsRecursive {
		w.recursiveWith(wc, sc)
		return
	}
	// Each CTE sees the ones before it, not itself nor later ones.
	for _, c := range wc.CTEs {
		outs := w.resultSet(c.Query.Query, sc, sc.top)
		sc.ctes = append(sc.ctes, &cteDef{name: c.Name.O, cols: cteColumns(c, outs)})
	}
}

// maxWithPasses bounds the passes over a recursive WITH; lineage that has
// not settled by then is refused.
const maxWithPasses = 64

// recursiveWith registers the CTEs of a WITH RECURSIVE clause, where every
// CTE sees every other and itself. A CTE's lineage depends on the others'
// (a recursive step can move a value one column further per iteration), so
// the queries are analysed until no column's lineage grows, with the facts
// of those passes discarded, and then once more for the facts.
func (w *walker) recursiveWith(wc *ast.WithClause, sc *scope) {
	defs := make([]*cteDef, len(wc.CTEs))
	for i, c := range wc.CTEs {
		defs[i] = &cteDef{name: c.Name.O, pending: true}
	}
	sc.ctes = append(sc.ctes, defs...)
	real, reworking := w.st, w.reworking
	w.reworking = true
	// First pass: the column names, with the CTEs not analysed yet opaque.
	// Its lineage is dropped: an opaque relation lets names resolve to
	// outer columns.
	w.st = &facts.Statement{Kind: real.Kind, Limit: -1}
	for i, c := range wc.CTEs {
		defs[i].cols = cteColumns(c, w.resultSet(c.Query.Query, sc, sc.top))
		for k := range defs[i].cols {
			defs[i].cols[k].lin = facts.Lineage{}
		}
		defs[i].pending = false
	}
	settled := false
	for pass := 0; pass < maxWithPasses && !settled; pass++ {
		settled = true
		for i, c := range wc.CTEs {
			w.st = &facts.Statement{Kind: real.Kind, Limit: -1}
			cols := cteColumns(c, w.resultSet(c.Query.Query, sc, sc.top))
			if len(cols) == len(defs[i].cols) {
				for k := range cols {
					cols[k].lin = facts.Merge(defs[i].cols[k].lin, cols[k].lin)
				}
			}
			if !sameColumns(cols, defs[i].cols) {
				defs[i].cols, settled = cols, false
			}
		}
	}
	w.st, w.reworking = real, reworking
	if !settled {
		w.st.AddUnsupported("recursive WITH whose lineage does not settle")
	}
	for _, c := range wc.CTEs {
		w.resultSet(c.Query.Query, sc, sc.top)
	}
}

// sameColumns reports whether two column lists have the same names and lineage.
func sameColumns(a, b []relColumn) bool {
	return slices.EqualFunc(a, b, func(x, y relColumn) bool {
		return x.name == y.name && x.hidden == y.hidden && sameLineage(x.lin, y.lin)
	})
}

func sameLineage(a, b facts.Lineage) bool {
	return a.Unknown == b.Unknown && a.UnknownWhy == b.UnknownWhy &&
		slices.EqualFunc(a.Sources, b.Sources, func(x, y facts.Source) bool {
			return x.Column == y.Column && x.Direct == y.Direct && slices.Equal(x.Via, y.Via)
		})
}

// cteColumns names a CTE's columns from its column list or its query.
func cteColumns(c *ast.CommonTableExpression, outs []facts.Output) []relColumn {
	cols := make([]relColumn, len(outs))
	for i, o := range outs {
		name := o.Name
		if i < len(c.ColNameList) {
			name = c.ColNameList[i].O
		}
		cols[i] = relColumn{name: name, lin: o.Lineage, orgTable: c.Name.O, orgColumn: name}
	}
	return cols
}

// selectStmt analyses one query block.
func (w *walker) selectStmt(sel *ast.SelectStmt, parent *scope, top bool) []facts.Output {
	st := w.st
	sc := &scope{parent: parent, top: top}
	if sel.With != nil {
		w.with(sel.With, sc)
	}
	if sel.Kind == ast.SelectStmtKindValues {
		st.AddUnsupported("VALUES statement")
		return nil
	}
	if sel.From != nil && sel.From.TableRefs != nil {
		sc.rels = w.tableRef(sel.From.TableRefs, sc)
	}
	if sel.Where != nil {
		if top {
			st.HasWhere = true
		}
		w.shape(sel.Where, sc, facts.InWhere)
	}
	var outs []facts.Output
	if sel.Fields != nil {
		for _, f := range sel.Fields.Fields {
			if f.Auxiliary {
				continue
			}
			if f.WildCard != nil {
				outs = append(outs, w.expandStar(f.WildCard, sc)...)
				continue
			}
			outs = append(outs, w.field(f, sc))
		}
	} else if sel.Kind == ast.SelectStmtKindTable {
		outs = w.expandStar(&ast.WildCardField{}, sc)
	}
	for i := range sel.WindowSpecs {
		w.windowSpec(&sel.WindowSpecs[i], sc)
	}
	sc.outputs = outs
	sc.aliases = true
	if sel.GroupBy != nil {
		for _, it := range sel.GroupBy.Items {
			w.shapeBy(it, sc, facts.InGroupBy)
		}
	}
	if sel.Having != nil {
		w.shape(sel.Having.Expr, sc, facts.InHaving)
	}
	if sel.OrderBy != nil {
		for _, it := range sel.OrderBy.Items {
			w.shapeBy(it, sc, facts.InOrderBy)
		}
	}
	sc.aliases = false
	if sel.Distinct {
		for _, o := range outs {
			w.addShaping(o.Lineage, facts.InDistinct)
		}
	}
	w.limit(sel.Limit, sc, top)
	if sel.SelectIntoOpt != nil {
		w.into(sel.SelectIntoOpt, outs)
	}
	return outs
}

// into records SELECT ... INTO flows.
func (w *walker) into(opt *ast.SelectIntoOption, outs []facts.Output) {
	target, name := facts.ToFile, opt.FileName
	if opt.Tp == ast.SelectIntoVars {
		target, name = facts.ToVariable, "into"
	}
	w.st.Flows = append(w.st.Flows, facts.Flow{Target: target, Name: name, Lineage: mergeOutputs(outs)})
}

// limit records LIMIT facts; expressions in LIMIT are analysed for safety.
func (w *walker) limit(l *ast.Limit, sc *scope, top bool) {
	if l == nil {
		return
	}
	if l.Count != nil {
		w.expr(l.Count, sc)
	}
	if l.Offset != nil {
		w.expr(l.Offset, sc)
	}
	if !top {
		return
	}
	w.st.HasLimit = true
	w.st.Limit = -1
	if v, ok := l.Count.(ast.ValueExpr); ok {
		switch n := v.GetValue().(type) {
		case int64:
			w.st.Limit = n
		case uint64:
			if n < 1<<62 {
				w.st.Limit = int64(n)
			}
		}
	}
}

// setOpr analyses UNION / EXCEPT / INTERSECT: each output column's lineage
// is the union of the arms' columns at its position.
func (w *walker) setOpr(so *ast.SetOprStmt, parent *scope, top bool) []facts.Output {
	w.down()
	defer w.up()
	w.st.SetOps = true
	sc := &scope{parent: parent, top: top}
	if so.With != nil {
		w.with(so.With, sc)
	}
	var outs []facts.Output
	// At the top, the result is bounded by WHERE only if every arm has one.
	allWhere := true
	if so.SelectList != nil {
		if so.SelectList.With != nil {
			w.with(so.SelectList.With, sc)
		}
		for i, arm := range so.SelectList.Selects {
			var armOuts []facts.Output
			switch a := arm.(type) {
			case *ast.SelectStmt:
				before := w.st.HasWhere
				w.st.HasWhere = false
				armOuts = w.selectStmt(a, sc, top)
				allWhere = allWhere && w.st.HasWhere
				w.st.HasWhere = before
				w.st.HasLimit, w.st.Limit = false, -1 // an arm's LIMIT does not bound the whole
			case *ast.SetOprSelectList:
				armOuts = w.setOpr(&ast.SetOprStmt{SelectList: a, OrderBy: a.OrderBy, Limit: a.Limit, With: a.With}, sc, false)
			case *ast.SetOprStmt:
				armOuts = w.setOpr(a, sc, false)
			default:
				w.st.AddUnsupported(fmt.Sprintf("set operation arm %T", arm))
				w.st.OutputsUnknown = true
				continue
			}
			if i == 0 {
				outs = make([]facts.Output, len(armOuts))
				// The origin the server reports for a set operation's
				// columns depends on the arms' types: not predicted.
				for k, o := range armOuts {
					outs[k] = facts.Output{Name: o.Name, Lineage: o.Lineage}
				}
				continue
			}
			if len(armOuts) != len(outs) {
				w.st.OutputsUnknown = true
			}
			for k := range outs {
				if k < len(armOuts) {
					outs[k].Lineage = facts.Merge(outs[k].Lineage, armOuts[k].Lineage)
				}
			}
		}
	}
	if top && allWhere && so.SelectList != nil {
		w.st.HasWhere = true
	}
	// UNION DISTINCT, INTERSECT and EXCEPT compare whole rows, like
	// DISTINCT; only a chain of UNION ALL does not.
	if so.SelectList != nil && !onlyUnionAll(so.SelectList) {
		for _, o := range outs {
			w.addShaping(o.Lineage, facts.InDistinct)
		}
	}
	sc.outputs = outs
	sc.aliases = true
	if so.OrderBy != nil {
		for _, it := range so.OrderBy.Items {
			w.shapeBy(it, sc, facts.InOrderBy)
		}
	}
	sc.aliases = false
	w.limit(so.Limit, sc, top)
	return outs
}

// onlyUnionAll reports whether every operator of a set operation is UNION ALL.
func onlyUnionAll(list *ast.SetOprSelectList) bool {
	for i, arm := range list.Selects {
		var op *ast.SetOprType
		switch a := arm.(type) {
		case *ast.SelectStmt:
			op = a.AfterSetOperator
		case *ast.SetOprSelectList:
			op = a.AfterSetOperator
			if !onlyUnionAll(a) {
				return false
			}
		default:
			return false
		}
		if i > 0 && (op == nil || *op != ast.UnionAll) {
			return false
		}
	}
	return true
}

// field analyses one select-list expression.
func (w *walker) field(f *ast.SelectField, sc *scope) facts.Output {
	out := facts.Output{Name: f.AsName.O}
	if cn, ok := unparen(f.Expr).(*ast.ColumnNameExpr); ok {
		col, lin := w.resolve(cn.Name, sc)
		out.Lineage = lin
		if col != nil {
			out.OrgDatabase, out.OrgTable, out.OrgColumn = col.orgDB, col.orgTable, col.orgColumn
		}
		if out.Name == "" {
			out.Name = cn.Name.Name.O
		}
		return out
	}
	out.Lineage = w.expr(f.Expr, sc)
	if out.Name == "" {
		out.Name = f.Text()
		if out.Name == "" {
			out.Name = "?column?"
		}
	}
	return out
}

// expandStar expands * or t.* from the scope's relations.
func (w *walker) expandStar(wc *ast.WildCardField, sc *scope) []facts.Output {
	var outs []facts.Output
	matched := false
	for _, rel := range sc.rels {
		if wc.Table.L != "" && !w.relMatches(rel, wc.Schema.O, wc.Table.O) {
			continue
		}
		matched = true
		if rel.opaque || rel.unknown {
			w.st.OutputsUnknown = true
			lin := facts.Lineage{}
			if rel.unknown {
				lin = facts.Unknown(rel.why)
			}
			outs = append(outs, facts.Output{Name: rel.name + ".*", Lineage: lin})
			continue
		}
		for _, c := range rel.cols {
			if c.hidden && wc.Table.L == "" {
				continue
			}
			outs = append(outs, facts.Output{Name: c.name, Lineage: c.lin, OrgDatabase: c.orgDB, OrgTable: c.orgTable, OrgColumn: c.orgColumn})
		}
	}
	if !matched {
		w.st.OutputsUnknown = true
		outs = append(outs, facts.Output{Name: "*", Lineage: facts.Unknown("* over no known table")})
	}
	return outs
}

// relMatches reports whether rel is named by an optional schema and a table qualifier.
func (w *walker) relMatches(rel *relation, schema, table string) bool {
	eq := func(a, b string) bool {
		if w.a.cat.Options().LowerCaseTableNames != 0 {
			return w.sameName(a, b)
		}
		return a == b
	}
	if !eq(rel.name, table) {
		return false
	}
	return schema == "" || eq(rel.db, schema)
}

// resolve finds the column a name refers to, searching the scope and then
// the enclosing scopes (correlation). It returns the column (nil when the
// name matched something other than one known column) and its lineage.
func (w *walker) resolve(cn *ast.ColumnName, sc *scope) (*relColumn, facts.Lineage) {
	// behindOpaque: a scope searched had a table of unknown, harmless
	// columns (a system table). The name may be one of them, or, as the
	// server looks further out when it is not, an outer column: a match
	// further out is taken, not known to be the column.
	behindOpaque := false
	for s := sc; s != nil; s = s.parent {
		var found []*relColumn
		var lin facts.Lineage
		any := false
		opaque, unknown := false, ""
		for _, rel := range s.rels {
			if cn.Table.L != "" && !w.relMatches(rel, cn.Schema.O, cn.Table.O) {
				continue
			}
			if rel.opaque {
				opaque = true
				continue
			}
			if rel.unknown {
				unknown = rel.why
				continue
			}
			for i := range rel.cols {
				c := &rel.cols[i]
				if c.hidden && cn.Table.L == "" {
					continue
				}
				if w.sameName(c.name, cn.Name.O) {
					found = append(found, c)
					lin = facts.Merge(lin, c.lin)
					any = true
				}
			}
		}
		aliasHit := false
		if s.aliases && cn.Table.L == "" {
			for _, o := range s.outputs {
				if w.sameName(o.Name, cn.Name.O) {
					lin = facts.Merge(lin, o.Lineage)
					any, aliasHit = true, true
				}
			}
		}
		if unknown != "" {
			// An unknown table may hold this column: assume it does.
			return nil, facts.Merge(lin, facts.Unknown(unknown))
		}
		if any {
			if len(found) == 1 && !aliasHit && !behindOpaque {
				return found[0], lin
			}
			return nil, lin
		}
		if opaque {
			behindOpaque = true
		}
	}
	if behindOpaque {
		return nil, facts.Lineage{}
	}
	return nil, facts.Unknown("column " + cn.OrigColName())
}

// tableRef analyses a FROM item and returns the relations it makes visible.
func (w *walker) tableRef(n ast.ResultSetNode, sc *scope) []*relation {
	w.down()
	defer w.up()
	switch x := n.(type) {
	case *ast.Join:
		left := w.tableRef(x.Left, sc)
		if x.Right == nil {
			return left
		}
		right := w.tableRef(x.Right, sc)
		var using []string
		for _, u := range x.Using {
			using = append(using, u.Name.O)
		}
		if x.NaturalJoin {
			using = w.commonColumns(left, right)
		}
		rels := append(slices.Clip(left), right...)
		if len(using) > 0 {
			rels = w.mergeUsing(using, left, right, x.Tp == ast.RightJoin)
		}
		if x.On != nil {
			w.shape(x.On.Expr, &scope{parent: sc.parent, rels: rels, ctes: sc.ctes}, facts.InJoin)
		}
		return rels
	case *ast.TableSource:
		var rel *relation
		switch src := x.Source.(type) {
		case *ast.TableName:
			rel = w.tableName(src, sc)
		case *ast.SelectStmt, *ast.SetOprStmt:
			w.st.DerivedTables = true
			// A derived table sees the enclosing blocks and this block's
			// CTEs, not this block's tables. The outermost query's derived
			// tables bound its rows too.
			outs := w.resultSet(src.(ast.ResultSetNode), &scope{parent: sc.parent, ctes: sc.ctes}, sc.top)
			rel = &relation{name: x.AsName.O}
			for _, o := range outs {
				rel.cols = append(rel.cols, relColumn{name: o.Name, lin: o.Lineage, orgTable: x.AsName.O, orgColumn: o.Name})
			}
		case *ast.Join:
			return w.tableRef(src, sc)
		default:
			w.st.AddUnsupported(fmt.Sprintf("FROM item %T", x.Source))
			rel = &relation{name: x.AsName.O, unknown: true, why: "unsupported FROM item"}
		}
		if x.AsName.O != "" {
			rel.name = x.AsName.O
			if !rel.opaque && !rel.unknown {
				rel.db = "" // an alias cannot be qualified by a database
				// MariaDB reports the alias as org_table for views, derived
				// tables and CTEs, and the real name for base tables.
				for i := range rel.cols {
					if rel.cols[i].orgTable != "" && (rel.cols[i].orgDB == "" || rel.view) {
						rel.ownColumns()
						rel.cols[i].orgTable = x.AsName.O
					}
				}
			}
		}
		return []*relation{rel}
	case *ast.TableName:
		return []*relation{w.tableName(x, sc)}
	}
	w.st.AddUnsupported(fmt.Sprintf("FROM item %T", n))
	return []*relation{{unknown: true, why: "unsupported FROM item"}}
}

// commonColumns lists the column names NATURAL JOIN joins on.
func (w *walker) commonColumns(left, right []*relation) []string {
	var out []string
	for _, l := range left {
		for _, c := range l.cols {
			if c.hidden {
				continue
			}
			for _, r := range right {
				if r.unknown || r.opaque {
					continue
				}
				for _, d := range r.cols {
					if !d.hidden && w.sameName(c.name, d.name) && !slices.ContainsFunc(out, func(s string) bool { return w.sameName(s, c.name) }) {
						out = append(out, c.name)
					}
				}
			}
		}
	}
	for _, side := range [][]*relation{left, right} {
		for _, r := range side {
			if r.unknown || r.opaque {
				out = append(out, "\x00unknown") // cannot know the join columns
			}
		}
	}
	return out
}

// mergeUsing builds the relations of a USING / NATURAL join: the joined
// columns come first, once, and are hidden in the sides.
func (w *walker) mergeUsing(using []string, left, right []*relation, rightJoin bool) []*relation {
	merged := &relation{}
	hide := func(rels []*relation, name string) (*relColumn, bool) {
		for _, r := range rels {
			for i := range r.cols {
				if !r.cols[i].hidden && w.sameName(r.cols[i].name, name) {
					r.ownColumns()
					r.cols[i].hidden = true
					return &r.cols[i], true
				}
			}
		}
		return nil, false
	}
	for _, name := range using {
		if name == "\x00unknown" {
			w.st.OutputsUnknown = true
			merged.cols = append(merged.cols, relColumn{name: "?", lin: facts.Unknown("NATURAL JOIN with an unknown table")})
			w.st.ShapingUnknown = true
			continue
		}
		l, lok := hide(left, name)
		r, rok := hide(right, name)
		col := relColumn{name: name}
		var first *relColumn
		switch {
		case lok && rok:
			col.lin = facts.Merge(l.lin, r.lin)
			w.addShaping(l.lin, facts.InJoin)
			w.addShaping(r.lin, facts.InJoin)
			first = l
			if rightJoin {
				first = r
			}
		case lok:
			col.lin, first = l.lin, l
		case rok:
			col.lin, first = r.lin, r
		default:
			col.lin = facts.Unknown("USING column " + name)
			w.st.ShapingUnknown = true
		}
		if first != nil {
			col.name, col.orgDB, col.orgTable, col.orgColumn = first.name, first.orgDB, first.orgTable, first.orgColumn
		}
		merged.cols = append(merged.cols, col)
	}
	out := []*relation{merged}
	out = append(out, left...)
	return append(out, right...)
}

// tableName resolves a table reference: a CTE, a system table, a view or a
// base table from the catalog, or an unknown table.
func (w *walker) tableName(tn *ast.TableName, sc *scope) *relation {
	st := w.st
	if tn.Schema.L == "" {
		if cte := w.lookupCTE(sc, tn.Name.O); cte != nil {
			st.CTEs = true
			rel := &relation{name: tn.Name.O}
			if cte.pending {
				// Reference while a recursive WITH's column names are
				// found: no columns yet (see recursiveWith).
				rel.opaque = true
				return rel
			}
			rel.cols = slices.Clone(cte.cols)
			return rel
		}
	}
	db := tn.Schema.O
	if db == "" {
		db = w.db
	}
	if db == "" {
		st.Reads = append(st.Reads, facts.Object{Name: tn.Name.O})
		return &relation{name: tn.Name.O, unknown: true, why: "no database selected"}
	}
	// ASCII lowering only: a name with another letter is no system table
	// restricted roles may read (they are listed in ASCII).
	if systemSchemas[asciiLower(db)] {
		obj := facts.Object{Database: asciiLower(db), Name: asciiLower(tn.Name.O)}
		st.SystemObjects = append(st.SystemObjects, obj)
		st.Reads = append(st.Reads, obj)
		return &relation{name: tn.Name.O, db: db, opaque: true}
	}
	t, ok := w.a.cat.Table(db, tn.Name.O)
	if !ok {
		obj := w.objectOf(tn)
		st.Reads = append(st.Reads, obj)
		return &relation{name: tn.Name.O, db: db, unknown: true, why: "table " + obj.String() + " not in catalog"}
	}
	st.Reads = append(st.Reads, facts.Object{Database: t.Database, Name: t.Name, View: t.View != nil})
	rel := &relation{name: t.Name, db: t.Database, view: t.View != nil}
	if t.View != nil {
		info := w.viewInfo(t)
		st.Reads = append(st.Reads, info.reads...)
		st.SystemObjects = append(st.SystemObjects, info.system...)
		st.Functions = append(st.Functions, info.functions...)
		st.UnknownFunctions = append(st.UnknownFunctions, info.unknownFunctions...)
		st.Dangerous = append(st.Dangerous, info.dangerous...)
		for i, c := range t.Columns {
			lin := facts.Unknown("view " + t.Name + " could not be resolved")
			if info.ok && i < len(info.cols) {
				lin = info.cols[i]
			}
			rel.cols = append(rel.cols, relColumn{name: c.Name, lin: lin, orgDB: t.Database, orgTable: t.Name, orgColumn: c.Name})
		}
		return rel
	}
	rel.cols, rel.shared = baseColumns(t), true
	return rel
}

// baseColumns are a base table's columns as a relation, built once per
// catalog snapshot (the lineages are shared and never modified).
func baseColumns(t *catalog.Table) []relColumn {
	if cols, ok := t.Derived().([]relColumn); ok {
		return cols
	}
	cols := make([]relColumn, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = relColumn{
			name: c.Name, lin: facts.FromColumn(facts.Column{Database: t.Database, Table: t.Name, Column: c.Name}),
			orgDB: t.Database, orgTable: t.Name, orgColumn: c.Name,
		}
	}
	t.SetDerived(cols)
	return cols
}

// viewLineage is the resolved lineage of a view, cached in the catalog snapshot.
type viewLineage struct {
	ok                                     bool
	cols                                   []facts.Lineage
	reads, system                          []facts.Object
	functions, unknownFunctions, dangerous []string
}

// viewInfo analyses a view's definition (once per catalog snapshot).
func (w *walker) viewInfo(t *catalog.Table) *viewLineage {
	if d, ok := t.Derived().(*viewLineage); ok {
		return d
	}
	info := &viewLineage{}
	if w.viewDepth >= maxViewDepth {
		return info // not cached: depth is a property of this path
	}
	stmts, err := Parse(t.View.Definition, 0)
	if err == nil && len(stmts) == 1 {
		if rs, ok := stmts[0].(ast.ResultSetNode); ok {
			inner := &facts.Statement{Kind: "select", Limit: -1}
			iw := &walker{a: w.a, st: inner, db: t.Database, viewDepth: w.viewDepth + 1, inView: true, depth: w.depth}
			outs := iw.resultSet(rs, nil, false)
			iw.finish()
			info.ok = len(inner.Unsupported) == 0 && !inner.OutputsUnknown && len(inner.Flows) == 0
			for _, o := range outs {
				info.cols = append(info.cols, o.Lineage)
			}
			info.reads, info.system = inner.Reads, inner.SystemObjects
			info.functions, info.unknownFunctions, info.dangerous = inner.Functions, inner.UnknownFunctions, inner.Dangerous
		}
	}
	if len(info.cols) != len(t.Columns) {
		info.ok = false
	}
	t.SetDerived(info)
	return info
}

// insert analyses INSERT and REPLACE.
func (w *walker) insert(s *ast.InsertStmt) {
	st := w.st
	var target *relation
	var obj facts.Object
	if s.Table != nil && s.Table.TableRefs != nil {
		rels := w.tableRef(s.Table.TableRefs, &scope{})
		if len(rels) > 0 {
			target = rels[0]
		}
		if ts, ok := s.Table.TableRefs.Left.(*ast.TableSource); ok {
			if tn, ok := ts.Source.(*ast.TableName); ok {
				obj = w.objectOf(tn)
			}
		}
	}
	// The target is written, not read: drop the read tableRef recorded.
	st.Reads = slices.DeleteFunc(st.Reads, func(o facts.Object) bool { return o == obj })
	st.Writes = append(st.Writes, obj)
	var lin facts.Lineage
	if s.Select != nil {
		lin = mergeOutputs(w.resultSet(s.Select, nil, false))
	}
	for _, row := range s.Lists {
		for _, e := range row {
			lin = facts.Merge(lin, w.expr(e, &scope{}))
		}
	}
	if len(s.OnDuplicate) > 0 {
		sc := &scope{}
		if target != nil {
			sc.rels = []*relation{target}
		}
		for _, a := range s.OnDuplicate {
			lin = facts.Merge(lin, w.expr(a.Expr, sc))
		}
	}
	st.Flows = append(st.Flows, facts.Flow{Target: facts.ToTable, Name: obj.String(), Lineage: lin})
}

// update analyses UPDATE: the assigned values flow into the table.
func (w *walker) update(s *ast.UpdateStmt) {
	st := w.st
	sc := &scope{}
	if s.With != nil {
		w.with(s.With, sc)
	}
	if s.TableRefs != nil && s.TableRefs.TableRefs != nil {
		sc.rels = w.tableRef(s.TableRefs.TableRefs, sc)
	}
	if s.Where != nil {
		st.HasWhere = true
		w.shape(s.Where, sc, facts.InWhere)
	}
	for _, a := range s.List {
		lin := w.expr(a.Expr, sc)
		name := w.assignedTable(a.Column, sc)
		st.Writes = append(st.Writes, name)
		st.Flows = append(st.Flows, facts.Flow{Target: facts.ToTable, Name: name.String(), Lineage: lin})
	}
	if s.Order != nil {
		for _, it := range s.Order.Items {
			w.shapeBy(it, sc, facts.InOrderBy)
		}
	}
	w.limit(s.Limit, sc, true)
}

// assignedTable finds the base table an UPDATE assignment writes.
func (w *walker) assignedTable(cn *ast.ColumnName, sc *scope) facts.Object {
	for _, rel := range sc.rels {
		if cn.Table.L != "" && !w.relMatches(rel, cn.Schema.O, cn.Table.O) {
			continue
		}
		for _, c := range rel.cols {
			if w.sameName(c.name, cn.Name.O) {
				if col, ok := c.lin.DirectColumn(); ok {
					return facts.Object{Database: col.Database, Name: col.Table}
				}
			}
		}
	}
	return facts.Object{Name: cn.Table.O}
}

// delete analyses DELETE.
func (w *walker) delete(s *ast.DeleteStmt) {
	st := w.st
	sc := &scope{}
	if s.With != nil {
		w.with(s.With, sc)
	}
	if s.TableRefs != nil && s.TableRefs.TableRefs != nil {
		sc.rels = w.tableRef(s.TableRefs.TableRefs, sc)
	}
	if s.Tables != nil {
		for _, t := range s.Tables.Tables {
			st.Writes = append(st.Writes, w.objectOf(t))
		}
	} else if s.TableRefs != nil && s.TableRefs.TableRefs != nil {
		if ts, ok := s.TableRefs.TableRefs.Left.(*ast.TableSource); ok {
			if tn, ok := ts.Source.(*ast.TableName); ok {
				st.Writes = append(st.Writes, w.objectOf(tn))
			}
		}
	}
	if s.Where != nil {
		st.HasWhere = true
		w.shape(s.Where, sc, facts.InWhere)
	}
	if s.Order != nil {
		for _, it := range s.Order.Items {
			w.shapeBy(it, sc, facts.InOrderBy)
		}
	}
	w.limit(s.Limit, sc, true)
}

// show records what a SHOW statement shows.
func (w *walker) show(s *ast.ShowStmt) {
	w.st.Show = showNames[s.Tp]
	if w.st.Show == "" {
		w.st.Show = fmt.Sprintf("other(%d)", s.Tp)
	}
	if s.Table != nil {
		obj := w.objectOf(s.Table)
		w.st.Reads = append(w.st.Reads, obj)
		if systemSchemas[asciiLower(obj.Database)] {
			w.st.SystemObjects = append(w.st.SystemObjects, obj)
		}
	}
	if s.Where != nil {
		// The condition chooses which rows are shown: whatever it tests
		// (a subquery over a hidden column) is row shaping.
		w.shape(s.Where, &scope{rels: []*relation{{opaque: true}}}, facts.InWhere)
	}
}

var showNames = map[ast.ShowStmtType]string{
	ast.ShowDatabases: "databases", ast.ShowTables: "tables", ast.ShowColumns: "columns",
	ast.ShowIndex: "index", ast.ShowTableStatus: "table_status", ast.ShowCreateTable: "create_table",
	ast.ShowCreateView: "create_view", ast.ShowCreateDatabase: "create_database", ast.ShowVariables: "variables",
	ast.ShowStatus: "status", ast.ShowCharset: "charset", ast.ShowCollation: "collation", ast.ShowEngines: "engines",
	ast.ShowWarnings: "warnings", ast.ShowErrors: "errors", ast.ShowProcessList: "processlist", ast.ShowGrants: "grants",
	ast.ShowTriggers: "triggers", ast.ShowProcedureStatus: "procedure_status", ast.ShowEvents: "events",
	ast.ShowPlugins: "plugins", ast.ShowProfiles: "profiles", ast.ShowPrivileges: "privileges",
	ast.ShowCreateUser: "create_user", ast.ShowCreateSequence: "create_sequence", ast.ShowOpenTables: "open_tables",
	ast.ShowMasterStatus: "master_status", ast.ShowBinlogStatus: "binlog_status", ast.ShowFunctionStatus: "function_status",
	ast.ShowCreateProcedure: "create_procedure",
}

// windowSpec records a window's PARTITION BY and ORDER BY as row shaping.
func (w *walker) windowSpec(ws *ast.WindowSpec, sc *scope) {
	w.st.Windows = true
	if ws.PartitionBy != nil {
		for _, it := range ws.PartitionBy.Items {
			w.addShaping(w.expr(it.Expr, sc), facts.InWindow)
		}
	}
	if ws.OrderBy != nil {
		for _, it := range ws.OrderBy.Items {
			w.addShaping(w.expr(it.Expr, sc), facts.InWindow)
		}
	}
	if ws.Frame != nil {
		w.st.Windows = true
	}
}

// shapeBy records a GROUP BY / ORDER BY item; a number is a position in the
// select list.
func (w *walker) shapeBy(it *ast.ByItem, sc *scope, pos facts.Position) {
	if p, ok := it.Expr.(*ast.PositionExpr); ok {
		w.st.LiteralDependent = true
		if p.P == nil && p.N >= 1 && p.N <= len(sc.outputs) {
			w.addShaping(sc.outputs[p.N-1].Lineage, pos)
			return
		}
		w.st.ShapingUnknown = true
		return
	}
	w.addShaping(w.expr(it.Expr, sc), pos)
}

// addShaping records every source of a lineage as row shaping.
func (w *walker) addShaping(lin facts.Lineage, pos facts.Position) {
	if w.inView {
		return
	}
	for _, s := range lin.Sources {
		w.st.Shaping = append(w.st.Shaping, facts.Shaping{Column: s.Column, Position: pos})
	}
	if lin.Unknown {
		w.st.ShapingUnknown = true
	}
}

// shape records a condition's columns as row shaping, recognising exact
// lookups (col = literal, col IN (literals)) under AND, OR, XOR and NOT.
func (w *walker) shape(e ast.ExprNode, sc *scope, pos facts.Position) {
	w.down()
	defer w.up()
	switch x := e.(type) {
	case *ast.ParenthesesExpr:
		w.shape(x.Expr, sc, pos)
		return
	case *ast.UnaryOperationExpr:
		if x.Op == opcode.Not || x.Op == opcode.Not2 {
			w.shape(x.V, sc, pos)
			return
		}
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.LogicAnd, opcode.LogicOr, opcode.LogicXor:
			w.shape(x.L, sc, pos)
			w.shape(x.R, sc, pos)
			return
		case opcode.EQ:
			if col, ok := w.directColumn(x.L, sc); ok && isLookupLiteral(x.R) {
				w.exact(col, pos, 1)
				return
			}
			if col, ok := w.directColumn(x.R, sc); ok && isLookupLiteral(x.L) {
				w.exact(col, pos, 1)
				return
			}
		}
	case *ast.PatternInExpr:
		if x.Sel == nil && len(x.List) > 0 && !slices.ContainsFunc(x.List, func(e ast.ExprNode) bool { return !isLookupLiteral(e) }) {
			if col, ok := w.directColumn(x.Expr, sc); ok {
				w.exact(col, pos, len(x.List))
				return
			}
		}
	}
	w.addShaping(w.expr(e, sc), pos)
}

// exact records an exact lookup of col testing n values.
func (w *walker) exact(col facts.Column, pos facts.Position, n int) {
	if !w.inView {
		w.st.AddExactLookup(col, pos, n)
	}
}

// directColumn reports whether e is a column reference whose value is one
// base column read directly.
func (w *walker) directColumn(e ast.ExprNode, sc *scope) (facts.Column, bool) {
	cn, ok := unparen(e).(*ast.ColumnNameExpr)
	if !ok {
		return facts.Column{}, false
	}
	_, lin := w.resolve(cn.Name, sc)
	return lin.DirectColumn()
}

// isLiteral reports whether e is a constant written in the statement
// (a literal, a parameter marker, or a negated number).
// isLookupLiteral reports whether e tests one value when compared with a
// column: a string, a parameter, or an integer small enough that MariaDB's
// comparison of a string column with it (as doubles) is exact. A decimal or
// float literal, or a larger integer, matches a range of stored strings (all
// that round to the same double): a search, not a lookup.
func isLookupLiteral(e ast.ExprNode) bool {
	if _, ok := unparen(e).(ast.ParamMarkerExpr); ok {
		return true
	}
	v, ok := unparen(e).(ast.ValueExpr)
	if !ok {
		return false
	}
	switch n := v.GetValue().(type) {
	case string, []byte:
		return true
	case int64:
		return n > -1e15 && n < 1e15
	case uint64:
		return n < 1e15
	}
	return false
}

func isLiteral(e ast.ExprNode) bool {
	switch x := unparen(e).(type) {
	case ast.ValueExpr, ast.ParamMarkerExpr:
		return true
	case *ast.UnaryOperationExpr:
		if x.Op == opcode.Minus || x.Op == opcode.Plus {
			_, ok := unparen(x.V).(ast.ValueExpr)
			return ok
		}
	}
	return false
}

func unparen(e ast.ExprNode) ast.ExprNode {
	for {
		p, ok := e.(*ast.ParenthesesExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// expr returns the lineage of an expression, analysing the subqueries in it.
func (w *walker) expr(e ast.ExprNode, sc *scope) facts.Lineage {
	w.down()
	defer w.up()
	st := w.st
	switch x := e.(type) {
	case nil:
		return facts.Lineage{}
	case ast.ValueExpr, ast.ParamMarkerExpr, *ast.DefaultExpr, *ast.TimeUnitExpr, *ast.TrimDirectionExpr,
		*ast.GetFormatSelectorExpr, *ast.MaxValueExpr:
		return facts.Lineage{}
	case *ast.ColumnNameExpr:
		_, lin := w.resolve(x.Name, sc)
		return lin
	case *ast.ParenthesesExpr:
		return w.expr(x.Expr, sc)
	case *ast.VariableExpr:
		if x.Value != nil {
			lin := w.expr(x.Value, sc)
			target := facts.ToVariable
			if x.IsSystem {
				target = facts.ToSetting
			}
			st.Flows = append(st.Flows, facts.Flow{Target: target, Name: asciiLower(x.Name), Lineage: lin})
			return facts.Transform(lin, ":=")
		}
		// Reading a variable: restricted roles cannot store classified data
		// in one (every such flow is refused), so its value is not sensitive.
		return facts.Lineage{}
	case *ast.FuncCallExpr:
		// ASCII lowering only: the server reads WEE\u212A( as a stored
		// function, not WEEK(.
		name := asciiLower(x.FnName.O)
		if x.Schema.L != "" {
			name = asciiLower(x.Schema.O) + "." + name
			st.UnknownFunctions = append(st.UnknownFunctions, name)
		} else {
			st.Functions = append(st.Functions, name)
			if dangerous[name] {
				st.Dangerous = append(st.Dangerous, name)
			} else if !builtins[name] {
				st.UnknownFunctions = append(st.UnknownFunctions, name)
			}
		}
		lin := w.exprs(x.Args, sc)
		if !builtins[name] {
			lin = facts.Merge(lin, facts.Unknown("function "+name))
		}
		return facts.Transform(lin, name)
	case *ast.FuncCastExpr:
		return facts.Transform(w.expr(x.Expr, sc), "cast")
	case *ast.AggregateFuncExpr:
		st.Aggregates = true
		name := asciiLower(x.F)
		st.Functions = append(st.Functions, name)
		if !aggregates[name] {
			st.UnknownFunctions = append(st.UnknownFunctions, name)
		}
		if x.Order != nil {
			for _, it := range x.Order.Items {
				w.addShaping(w.expr(it.Expr, sc), facts.InOrderBy)
			}
		}
		return facts.Transform(w.exprs(x.Args, sc), name)
	case *ast.WindowFuncExpr:
		st.Windows = true
		name := asciiLower(x.Name)
		st.Functions = append(st.Functions, name)
		if !builtins[name] {
			st.UnknownFunctions = append(st.UnknownFunctions, name)
		}
		w.windowSpec(&x.Spec, sc)
		return facts.Transform(w.exprs(x.Args, sc), name)
	case *ast.BinaryOperationExpr:
		return facts.Transform(facts.Merge(w.expr(x.L, sc), w.expr(x.R, sc)), x.Op.String())
	case *ast.UnaryOperationExpr:
		return facts.Transform(w.expr(x.V, sc), x.Op.String())
	case *ast.CaseExpr:
		lin := w.expr(x.Value, sc)
		for _, wc := range x.WhenClauses {
			lin = facts.Merge(lin, facts.Merge(w.expr(wc.Expr, sc), w.expr(wc.Result, sc)))
		}
		return facts.Transform(facts.Merge(lin, w.expr(x.ElseClause, sc)), "case")
	case *ast.PatternInExpr:
		lin := facts.Merge(w.expr(x.Expr, sc), w.exprs(x.List, sc))
		if x.Sel != nil {
			lin = facts.Merge(lin, w.expr(x.Sel, sc))
		}
		return facts.Transform(lin, "in")
	case *ast.PatternLikeOrIlikeExpr:
		return facts.Transform(facts.Merge(w.expr(x.Expr, sc), w.expr(x.Pattern, sc)), "like")
	case *ast.PatternRegexpExpr:
		return facts.Transform(facts.Merge(w.expr(x.Expr, sc), w.expr(x.Pattern, sc)), "regexp")
	case *ast.BetweenExpr:
		return facts.Transform(facts.Merge(w.expr(x.Expr, sc), facts.Merge(w.expr(x.Left, sc), w.expr(x.Right, sc))), "between")
	case *ast.IsNullExpr:
		return facts.Transform(w.expr(x.Expr, sc), "is_null")
	case *ast.IsTruthExpr:
		return facts.Transform(w.expr(x.Expr, sc), "is_truth")
	case *ast.RowExpr:
		return facts.Transform(w.exprs(x.Values, sc), "row")
	case *ast.SetCollationExpr:
		return facts.Transform(w.expr(x.Expr, sc), "collate")
	case *ast.SubqueryExpr:
		st.Subqueries = true
		outs := w.resultSet(x.Query, sc, false)
		if x.Exists {
			return facts.Lineage{}
		}
		return facts.Transform(mergeOutputs(outs), "subquery")
	case *ast.ExistsSubqueryExpr:
		// EXISTS reveals only whether rows match; the subquery's own
		// conditions are recorded as row shaping.
		w.expr(x.Sel, sc)
		return facts.Lineage{}
	case *ast.CompareSubqueryExpr:
		return facts.Transform(facts.Merge(w.expr(x.L, sc), w.expr(x.R, sc)), "compare_subquery")
	case *ast.ValuesExpr:
		// VALUES(col) in ON DUPLICATE KEY UPDATE: the inserted value, already
		// part of the insert's flow.
		return facts.Lineage{}
	case *ast.PositionExpr:
		return facts.Lineage{}
	case *ast.TableNameExpr:
		rel := w.tableName(x.Name, sc)
		if rel.unknown {
			return facts.Unknown(rel.why)
		}
		return facts.Lineage{}
	}
	st.AddUnsupported(fmt.Sprintf("expression %T", e))
	return facts.Unknown(fmt.Sprintf("expression %T", e))
}

func (w *walker) exprs(list []ast.ExprNode, sc *scope) facts.Lineage {
	var lin facts.Lineage
	for _, e := range list {
		lin = facts.Merge(lin, w.expr(e, sc))
	}
	return lin
}
