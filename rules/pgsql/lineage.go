package pgsql

import (
	"slices"
	"strconv"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/dbfence/dbfence/rules/catalog"
	"github.com/dbfence/dbfence/rules/facts"
)

// maxViewDepth bounds view-in-view expansion; deeper nesting is unknown lineage.
const maxViewDepth = 16

// maxRecursivePasses bounds the fixpoint iteration of a recursive CTE's
// lineage; a CTE that has not converged by then has unknown lineage.
const maxRecursivePasses = 8

// column is one column of a row source, or one output column of a query.
type column struct {
	name string
	lin  facts.Lineage
	// org* predict the origin PostgreSQL reports in RowDescription for the
	// column when a query outputs it by name (markTargetListOrigin): the
	// table or view a plain column reference reaches through subqueries in
	// FROM and non-recursive CTEs; empty when not predicted.
	orgDB, orgTable, orgColumn string
	// typ is the declared type of a plain catalog column (format_type
	// text), "" when not known; it tells scalar arrays from composite ones.
	typ string
}

// relation is one namespace item of a query level: a table, view, CTE
// reference, subquery, function or join in FROM.
type relation struct {
	// name is the reference name (alias or relation name); "" for an
	// unaliased join or subquery.
	name string
	// schema is the schema of an unaliased catalog relation, which
	// schema.table.column references match.
	schema string
	cols   []column
	// relVisible: qualified references (name.col, name.*) may name it;
	// colsVisible: unqualified column names search it (PostgreSQL's
	// p_rel_visible and p_cols_visible).
	relVisible, colsVisible bool
	// unknown: the column list is not (fully) known; any name may be one of
	// its columns, with unknown lineage (why says why).
	unknown bool
	why     string
	// sysCols: a table, which has the system columns ctid, xmin, ...
	sysCols bool
	// shared: cols belongs to the catalog snapshot; clone before changing it.
	shared bool
}

// index returns the position of the column named name, or -1.
func (r *relation) index(name string) int {
	for i := range r.cols {
		if r.cols[i].name == name {
			return i
		}
	}
	return -1
}

// rename applies an alias column list (FROM t AS a(x, y)): the first
// columns take the new names; origins keep the real column.
func (r *relation) rename(names []*pg.Node) {
	if len(names) == 0 {
		return
	}
	r.cols = slices.Clone(r.cols)
	r.shared = false
	for i, n := range names {
		if i < len(r.cols) {
			r.cols[i].name = n.GetString_().GetSval()
		}
	}
}

// systemColumnNames are the system columns every table has.
var systemColumnNames = setOf(`ctid xmin xmax cmin cmax tableoid oid`)

// scope is one query level's name space.
type scope struct {
	parent *scope
	rels   []*relation
	ctes   []*cteDef
}

// cteDef is a common table expression visible in a scope.
type cteDef struct {
	name string
	node *pg.CommonTableExpr
	// home is the scope of the WITH clause the CTE belongs to.
	home *scope
	// recursiveWith is true for a WITH RECURSIVE clause.
	recursiveWith bool
	state         uint8
	// anchored is true once a recursive CTE's columns are known (from its
	// non-recursive term), so self-references can be bound.
	anchored bool
	cols     []column
	complete bool
}

const (
	cteNew uint8 = iota
	cteBusy
	cteDone
)

func (s *scope) lookupCTE(name string) *cteDef {
	for ; s != nil; s = s.parent {
		for _, c := range s.ctes {
			if c.name == name {
				return c
			}
		}
	}
	return nil
}

// result is the outcome of analysing a query expression.
type result struct {
	cols []column
	// complete is false when the column list is not fully known (* over a
	// relation of unknown columns, arms of different widths).
	complete bool
	// where is true when the query has a WHERE clause (every arm of a set
	// operation).
	where bool
}

// merged is the lineage of a whole row: the union of its columns.
func (r result) merged() facts.Lineage {
	var lin facts.Lineage
	for _, c := range r.cols {
		lin = facts.Merge(lin, c.lin)
	}
	if !r.complete {
		lin = facts.Merge(lin, facts.Unknown("columns not fully known"))
	}
	return lin
}

// query analyses a query expression (SELECT, VALUES, set operation) whose
// enclosing query level is parent.
func (w *walker) query(s *pg.SelectStmt, parent *scope) result {
	res := w.queryResult(s, parent)
	if !w.inView {
		for _, c := range res.cols {
			w.st.Evaluated = facts.Merge(w.st.Evaluated, c.lin)
		}
	}
	return res
}

func (w *walker) queryResult(s *pg.SelectStmt, parent *scope) result {
	w.step()
	if s == nil {
		w.st.AddUnsupported("empty query")
		return result{}
	}
	sc := &scope{parent: parent}
	if wc := s.GetWithClause(); wc != nil {
		w.with(wc, sc)
	}
	switch s.GetOp() {
	case pg.SetOperation_SETOP_UNION, pg.SetOperation_SETOP_INTERSECT, pg.SetOperation_SETOP_EXCEPT:
		return w.setOp(s, sc)
	}
	if len(s.GetValuesLists()) > 0 {
		return w.values(s, sc)
	}
	return w.selectBlock(s, sc)
}

// selectBlock analyses one SELECT query block.
func (w *walker) selectBlock(s *pg.SelectStmt, sc *scope) result {
	var res result
	if from := s.GetFromClause(); len(from) > 0 {
		sc.rels = w.fromList(from, sc)
	}
	if wh := s.GetWhereClause(); wh != nil {
		res.where = true
		w.shape(wh, sc, facts.InWhere)
	}
	res.cols, res.complete = w.targetList(s.GetTargetList(), sc, true)
	for _, wd := range s.GetWindowClause() {
		if d := wd.GetWindowDef(); d != nil {
			w.windowDef(d, sc)
		}
	}
	for _, g := range s.GetGroupClause() {
		w.groupItem(g, sc, res.cols)
	}
	if h := s.GetHavingClause(); h != nil {
		w.shape(h, sc, facts.InHaving)
	}
	if dc := s.GetDistinctClause(); len(dc) > 0 {
		if len(dc) == 1 && (dc[0] == nil || dc[0].Node == nil) {
			for _, c := range res.cols {
				w.addShaping(c.lin, facts.InDistinct)
			}
		} else {
			for _, e := range dc {
				w.sortKey(e, sc, res.cols, facts.InDistinct)
			}
		}
	}
	for _, sb := range s.GetSortClause() {
		w.sortBy(sb, sc, res.cols, facts.InOrderBy)
	}
	w.limitExprs(s, sc)
	return res
}

// values analyses a VALUES list: column k is the union of the rows' k-th values.
func (w *walker) values(s *pg.SelectStmt, sc *scope) result {
	res := result{complete: true}
	for i, row := range s.GetValuesLists() {
		items := row.GetList().GetItems()
		if i == 0 {
			res.cols = make([]column, len(items))
			for k := range res.cols {
				res.cols[k].name = "column" + strconv.Itoa(k+1)
			}
		} else if len(items) != len(res.cols) {
			res.complete = false
		}
		for k, e := range items {
			lin := w.expr(e, sc)
			if k < len(res.cols) {
				res.cols[k].lin = facts.Merge(res.cols[k].lin, lin)
			}
		}
	}
	w.outputOrder(s, sc, res.cols)
	return res
}

// setOp analyses UNION / INTERSECT / EXCEPT: each output column's lineage
// is the union of the arms' columns at its position. PostgreSQL reports
// no origin for set operation columns.
func (w *walker) setOp(s *pg.SelectStmt, sc *scope) result {
	w.st.SetOps = true
	l := w.query(s.GetLarg(), sc)
	r := w.query(s.GetRarg(), sc)
	res := result{complete: l.complete && r.complete && len(l.cols) == len(r.cols), where: l.where && r.where}
	res.cols = make([]column, len(l.cols))
	for i, c := range l.cols {
		res.cols[i] = column{name: c.name, lin: c.lin}
		if i < len(r.cols) {
			res.cols[i].lin = facts.Merge(c.lin, r.cols[i].lin)
		}
	}
	// UNION, INTERSECT and EXCEPT compare whole rows, like DISTINCT; only
	// UNION ALL does not.
	if !(s.GetOp() == pg.SetOperation_SETOP_UNION && s.GetAll()) {
		for _, c := range res.cols {
			w.addShaping(c.lin, facts.InDistinct)
		}
	}
	w.outputOrder(s, sc, res.cols)
	return res
}

// outputOrder analyses ORDER BY and LIMIT of a set operation or VALUES,
// which can name only output columns (by name or position).
func (w *walker) outputOrder(s *pg.SelectStmt, sc *scope, cols []column) {
	if len(s.GetSortClause()) > 0 {
		osc := &scope{parent: sc.parent, ctes: sc.ctes, rels: []*relation{{cols: cols, colsVisible: true}}}
		for _, sb := range s.GetSortClause() {
			w.sortBy(sb, osc, cols, facts.InOrderBy)
		}
	}
	w.limitExprs(s, sc)
}

// limitExprs analyses LIMIT / OFFSET / FETCH expressions: a literal count
// makes the analysis literal-dependent; an expression shapes the result.
func (w *walker) limitExprs(s *pg.SelectStmt, sc *scope) {
	for _, e := range []*pg.Node{s.GetLimitCount(), s.GetLimitOffset()} {
		if e == nil {
			continue
		}
		w.st.LiteralDependent = true
		w.addShaping(w.expr(e, sc), facts.InLimit)
	}
}

// with registers the CTEs of a WITH clause in sc. Without RECURSIVE each
// CTE sees only the ones before it; with RECURSIVE all of them (analysed
// on first reference), itself included.
func (w *walker) with(wc *pg.WithClause, sc *scope) {
	w.st.CTEs = true
	var defs []*cteDef
	for _, n := range wc.GetCtes() {
		c := n.GetCommonTableExpr()
		if c == nil {
			w.st.AddUnsupported("WITH item " + nodeName(n))
			continue
		}
		defs = append(defs, &cteDef{name: c.GetCtename(), node: c, home: sc, recursiveWith: wc.GetRecursive()})
	}
	if wc.GetRecursive() {
		sc.ctes = append(sc.ctes, defs...)
		for _, d := range defs {
			if d.state == cteNew {
				w.analyzeCTE(d)
			}
		}
		return
	}
	for _, d := range defs {
		w.analyzeCTE(d)
		sc.ctes = append(sc.ctes, d)
	}
}

// analyzeCTE analyses a CTE's query. A recursive CTE (non-recursive term
// UNION recursive term) is analysed to a fixpoint: its columns start as the
// non-recursive term's and grow with what the recursive term adds.
func (w *walker) analyzeCTE(c *cteDef) {
	c.state = cteBusy
	defer func() { c.state = cteDone }()
	sel := c.node.GetCtequery().GetSelectStmt()
	if sel == nil {
		w.st.AddUnsupported("data-modifying WITH query (" + nodeName(c.node.GetCtequery()) + ")")
		return
	}
	names := c.node.GetAliascolnames()
	if c.recursiveWith && sel.GetOp() == pg.SetOperation_SETOP_UNION && sel.GetLarg() != nil && sel.GetWithClause() == nil {
		anchor := w.query(sel.GetLarg(), c.home)
		c.cols, c.complete = cteColumns(anchor.cols, names, false), anchor.complete
		c.anchored = true
		for pass := 0; ; pass++ {
			res := w.query(sel, c.home)
			next := cteColumns(res.cols, names, false)
			for i := range next {
				if i < len(c.cols) {
					next[i].lin = facts.Merge(c.cols[i].lin, next[i].lin)
				}
			}
			complete := c.complete && res.complete && len(next) == len(c.cols)
			if columnsEqual(next, c.cols) && complete == c.complete {
				break
			}
			c.cols, c.complete = next, complete
			if pass == maxRecursivePasses {
				for i := range c.cols {
					c.cols[i].lin = facts.Merge(c.cols[i].lin, facts.Unknown("recursive query "+c.name))
				}
				break
			}
		}
	} else {
		res := w.query(sel, c.home)
		c.cols, c.complete = cteColumns(res.cols, names, true), res.complete
	}
	w.cteExtraColumns(c)
}

// cteColumns names a CTE's columns from its column list or its query.
func cteColumns(cols []column, names []*pg.Node, origins bool) []column {
	out := make([]column, len(cols))
	for i, c := range cols {
		out[i] = column{name: c.name, lin: c.lin, typ: c.typ}
		if origins {
			out[i].orgDB, out[i].orgTable, out[i].orgColumn = c.orgDB, c.orgTable, c.orgColumn
		}
		if i < len(names) {
			out[i].name = names[i].GetString_().GetSval()
		}
	}
	return out
}

// cteExtraColumns adds the columns of SEARCH and CYCLE clauses.
func (w *walker) cteExtraColumns(c *cteDef) {
	from := func(list []*pg.Node) facts.Lineage {
		var lin facts.Lineage
		for _, n := range list {
			name := n.GetString_().GetSval()
			found := false
			for _, col := range c.cols {
				if col.name == name {
					lin, found = facts.Merge(lin, col.lin), true
				}
			}
			if !found {
				lin = facts.Merge(lin, facts.Unknown("column "+name))
			}
		}
		return lin
	}
	if sc := c.node.GetSearchClause(); sc != nil {
		w.addShaping(from(sc.GetSearchColList()), facts.InOrderBy)
		c.cols = append(c.cols, column{name: sc.GetSearchSeqColumn(), lin: facts.Transform(from(sc.GetSearchColList()), "search")})
	}
	if cc := c.node.GetCycleClause(); cc != nil {
		// CYCLE compares its columns for equality to stop the recursion
		// (a DISTINCT over them); SEARCH orders by its columns.
		w.addShaping(from(cc.GetCycleColList()), facts.InDistinct)
		lin := facts.Transform(from(cc.GetCycleColList()), "cycle")
		// PostgreSQL requires constants here; whatever they are, they end
		// up in the mark column.
		lin = facts.Merge(lin, w.expr(cc.GetCycleMarkValue(), &scope{}))
		lin = facts.Merge(lin, w.expr(cc.GetCycleMarkDefault(), &scope{}))
		c.cols = append(c.cols, column{name: cc.GetCycleMarkColumn(), lin: lin}, column{name: cc.GetCyclePathColumn(), lin: lin})
	}
}

// columnsEqual compares names and lineages.
func columnsEqual(a, b []column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].name != b[i].name || !lineageEqual(a[i].lin, b[i].lin) {
			return false
		}
	}
	return true
}

func lineageEqual(a, b facts.Lineage) bool {
	if a.Unknown != b.Unknown || len(a.Sources) != len(b.Sources) {
		return false
	}
	for i := range a.Sources {
		x, y := a.Sources[i], b.Sources[i]
		if x.Column != y.Column || x.Direct != y.Direct || !slices.Equal(x.Via, y.Via) {
			return false
		}
	}
	return true
}

// targetList analyses a select list (or RETURNING list), expanding * and
// alias.* in catalog column order. origins says whether plain column
// references keep their predicted origin.
func (w *walker) targetList(list []*pg.Node, sc *scope, origins bool) ([]column, bool) {
	cols := make([]column, 0, len(list))
	complete := true
	for _, n := range list {
		rt := n.GetResTarget()
		if rt == nil {
			w.st.AddUnsupported("select list item " + nodeName(n))
			complete = false
			continue
		}
		val := rt.GetVal()
		if cr := val.GetColumnRef(); cr != nil && endsWithStar(cr.GetFields()) {
			exp, ok := w.expandStar(cr.GetFields(), sc)
			cols = append(cols, exp...)
			complete = complete && ok
			continue
		}
		if ind := val.GetAIndirection(); ind != nil && endsWithStar(ind.GetIndirection()) {
			exp, ok := w.expandComposite(ind, sc)
			cols = append(cols, exp...)
			complete = complete && ok
			continue
		}
		var c column
		if cr := val.GetColumnRef(); cr != nil {
			col, lin := w.columnRef(cr, sc)
			c.lin = lin
			if col != nil {
				c.typ = col.typ
				if origins {
					c.orgDB, c.orgTable, c.orgColumn = col.orgDB, col.orgTable, col.orgColumn
				}
			}
		} else {
			c.lin = w.expr(val, sc)
		}
		c.name = rt.GetName()
		if c.name == "" {
			c.name = figureColname(val)
		}
		cols = append(cols, c)
	}
	return cols, complete
}

func endsWithStar(list []*pg.Node) bool {
	return len(list) > 0 && list[len(list)-1].GetAStar() != nil
}

// expandStar expands * (the current level's column-visible relations) or
// rel.* / schema.rel.* (one relation, found at any level).
func (w *walker) expandStar(fields []*pg.Node, sc *scope) ([]column, bool) {
	var rels []*relation
	if len(fields) == 1 {
		for _, r := range sc.rels {
			if r.colsVisible {
				rels = append(rels, r)
			}
		}
	} else {
		names := stringList(fields[:len(fields)-1])
		var r *relation
		switch len(names) {
		case 1:
			r = w.findRel(sc, "", names[0])
		case 2:
			r = w.findRel(sc, names[0], names[1])
		case 3:
			r = w.findRel(sc, names[1], names[2])
		}
		if r != nil {
			rels = []*relation{r}
		}
	}
	if len(rels) == 0 {
		return []column{{name: "*", lin: facts.Unknown("* over no known relation")}}, false
	}
	var out []column
	complete := true
	for _, r := range rels {
		out = append(out, r.cols...)
		if r.unknown {
			out = append(out, column{name: "*", lin: facts.Unknown(r.why)})
			complete = false
		}
	}
	return out, complete
}

// expandComposite expands (expr).*: a whole-row reference expands to the
// relation's columns, read through the row (indirect, no origin); any other
// composite has columns the analyser does not know.
func (w *walker) expandComposite(ind *pg.A_Indirection, sc *scope) ([]column, bool) {
	if len(ind.GetIndirection()) == 1 {
		if r := w.wholeRowRel(ind.GetArg(), sc); r != nil {
			out := make([]column, 0, len(r.cols)+1)
			for _, c := range r.cols {
				out = append(out, column{name: c.name, lin: facts.Transform(c.lin, "row")})
			}
			if r.unknown {
				out = append(out, column{name: "*", lin: facts.Unknown(r.why)})
			}
			return out, !r.unknown
		}
	}
	lin := w.expr(&pg.Node{Node: &pg.Node_AIndirection{AIndirection: &pg.A_Indirection{Arg: ind.GetArg(), Indirection: ind.GetIndirection()[:len(ind.GetIndirection())-1]}}}, sc)
	return []column{{name: "*", lin: facts.Merge(facts.Transform(lin, "row"), facts.Unknown("fields of a composite value"))}}, false
}

// findRel finds the relation a qualifier names, innermost level first.
func (w *walker) findRel(sc *scope, schema, name string) *relation {
	for s := sc; s != nil; s = s.parent {
		for _, r := range s.rels {
			if r.relVisible && r.name == name && (schema == "" || r.schema == schema) {
				return r
			}
		}
	}
	return nil
}

// levelHasColumn reports whether the level sc has an unqualified column
// named name (or a relation that may have it).
func levelHasColumn(sc *scope, name string) bool {
	for _, r := range sc.rels {
		if r.colsVisible && (r.unknown || r.index(name) >= 0) {
			return true
		}
	}
	return false
}

// wholeRow is the lineage of a relation's whole row (row_to_json(p), p::text, ...).
func wholeRow(r *relation) facts.Lineage {
	var lin facts.Lineage
	for _, c := range r.cols {
		lin = facts.Merge(lin, c.lin)
	}
	lin = facts.Transform(lin, "row")
	if r.unknown {
		lin = facts.Merge(lin, facts.Unknown(r.why))
	}
	return lin
}

// fromList analyses a FROM list; each item may reference the ones before
// it when LATERAL (functions always may).
func (w *walker) fromList(items []*pg.Node, sc *scope) []*relation {
	var all []*relation
	for _, it := range items {
		ns, _ := w.fromItem(it, sc, all)
		all = append(all, ns...)
	}
	return all
}

// fromItem analyses one FROM item. It returns the namespace items it adds
// and the relation holding its row (a join's merged column list).
func (w *walker) fromItem(n *pg.Node, sc *scope, preceding []*relation) ([]*relation, *relation) {
	w.step()
	switch x := n.Node.(type) {
	case *pg.Node_RangeVar:
		r := w.rangeVar(x.RangeVar, sc)
		return []*relation{r}, r
	case *pg.Node_RangeSubselect:
		rs := x.RangeSubselect
		w.st.DerivedTables = true
		parent := sc
		if rs.GetLateral() {
			parent = &scope{parent: sc, rels: preceding}
		}
		r := &relation{colsVisible: true}
		if sel := rs.GetSubquery().GetSelectStmt(); sel != nil {
			res := w.query(sel, parent)
			r.cols, r.unknown = res.cols, !res.complete
			if r.unknown {
				r.why = "columns of a subquery not fully known"
			}
		} else {
			w.st.AddUnsupported("FROM subquery " + nodeName(rs.GetSubquery()))
			r.unknown, r.why = true, "unsupported subquery"
		}
		if a := rs.GetAlias(); a != nil {
			r.name, r.relVisible = a.GetAliasname(), true
			r.rename(a.GetColnames())
		}
		return []*relation{r}, r
	case *pg.Node_RangeFunction:
		r := w.rangeFunction(x.RangeFunction, sc, preceding)
		return []*relation{r}, r
	case *pg.Node_JoinExpr:
		return w.join(x.JoinExpr, sc, preceding)
	case *pg.Node_RangeTableSample:
		ts := x.RangeTableSample
		method, base, builtin := w.funcName(ts.GetMethod())
		if !(builtin && (base == "system" || base == "bernoulli")) {
			w.st.UnknownFunctions = append(w.st.UnknownFunctions, "tablesample "+method)
		}
		// The sampling percentage and seed choose rows: a value there is
		// spelled out by the row count.
		w.addShaping(w.exprs(ts.GetArgs(), sc), facts.InWhere)
		w.addShaping(w.expr(ts.GetRepeatable(), sc), facts.InWhere)
		return w.fromItem(ts.GetRelation(), sc, preceding)
	}
	w.st.AddUnsupported("FROM item " + nodeName(n))
	r := &relation{unknown: true, why: "unsupported FROM item " + nodeName(n), colsVisible: true}
	switch x := n.Node.(type) {
	case *pg.Node_RangeTableFunc:
		if a := x.RangeTableFunc.GetAlias(); a != nil {
			r.name, r.relVisible = a.GetAliasname(), true
		}
	case *pg.Node_JsonTable:
		if a := x.JsonTable.GetAlias(); a != nil {
			r.name, r.relVisible = a.GetAliasname(), true
		}
	}
	return []*relation{r}, r
}

// join analyses a JOIN. Its ON condition sees only the joined items. The
// join's columns are the merged USING/NATURAL columns (no origin: they are
// join alias variables), then the left side's others, then the right's.
// Without an alias the inner items stay reachable by qualified name only;
// with one they are hidden.
func (w *walker) join(j *pg.JoinExpr, sc *scope, preceding []*relation) ([]*relation, *relation) {
	lns, ltop := w.fromItem(j.GetLarg(), sc, preceding)
	rns, rtop := w.fromItem(j.GetRarg(), sc, slices.Concat(preceding, lns))
	ns := slices.Concat(lns, rns)
	jr := &relation{colsVisible: true, unknown: ltop.unknown || rtop.unknown}
	if ltop.unknown {
		jr.why = ltop.why
	} else if rtop.unknown {
		jr.why = rtop.why
	}
	var using []string
	if j.GetIsNatural() {
		if ltop.unknown || rtop.unknown {
			jr.why = "NATURAL JOIN with a relation of unknown columns"
			w.st.ShapingUnknown = w.st.ShapingUnknown || !w.inView
		} else {
			for _, c := range ltop.cols {
				if rtop.index(c.name) >= 0 && !slices.Contains(using, c.name) {
					using = append(using, c.name)
				}
			}
		}
	} else {
		using = stringList(j.GetUsingClause())
	}
	var merged []column
	var lused, rused []bool
	if len(using) > 0 {
		lused, rused = make([]bool, len(ltop.cols)), make([]bool, len(rtop.cols))
	}
	side := func(r *relation, used []bool, name string) facts.Lineage {
		for i := range r.cols {
			if !used[i] && r.cols[i].name == name {
				used[i] = true
				return r.cols[i].lin
			}
		}
		if r.unknown {
			return facts.Unknown(r.why)
		}
		return facts.Unknown("USING column " + name)
	}
	for _, name := range using {
		l, r := side(ltop, lused, name), side(rtop, rused, name)
		w.addShaping(l, facts.InJoin)
		w.addShaping(r, facts.InJoin)
		lin := facts.Merge(l, r)
		if j.GetJointype() == pg.JoinType_JOIN_FULL {
			lin = facts.Transform(lin, "coalesce")
		}
		merged = append(merged, column{name: name, lin: lin})
	}
	jr.cols = make([]column, 0, len(merged)+len(ltop.cols)+len(rtop.cols))
	jr.cols = append(jr.cols, merged...)
	for i, c := range ltop.cols {
		if lused == nil || !lused[i] {
			jr.cols = append(jr.cols, c)
		}
	}
	for i, c := range rtop.cols {
		if rused == nil || !rused[i] {
			jr.cols = append(jr.cols, c)
		}
	}
	if q := j.GetQuals(); q != nil {
		w.shape(q, &scope{parent: sc, rels: ns}, facts.InJoin)
	}
	for _, r := range ns {
		r.colsVisible = false
	}
	if a := j.GetJoinUsingAlias(); a != nil {
		ns = append(ns, &relation{name: a.GetAliasname(), cols: merged, relVisible: true})
	}
	if a := j.GetAlias(); a != nil {
		jr.name, jr.relVisible = a.GetAliasname(), true
		jr.rename(a.GetColnames())
		return []*relation{jr}, jr
	}
	return append(ns, jr), jr
}

// rangeFunction analyses a function in FROM (ROWS FROM, WITH ORDINALITY,
// column definition lists). Its columns all carry the function's lineage;
// built-ins with known result columns name them, anything else has unknown
// columns. Functions in FROM may reference the items before them.
func (w *walker) rangeFunction(rf *pg.RangeFunction, sc *scope, preceding []*relation) *relation {
	lat := &scope{parent: sc, rels: preceding}
	r := &relation{colsVisible: true, relVisible: true}
	fns := rf.GetFunctions()
	alias := rf.GetAlias()
	for _, item := range fns {
		items := item.GetList().GetItems()
		if len(items) == 0 {
			continue
		}
		var coldef []*pg.Node
		if len(items) > 1 {
			coldef = items[1].GetList().GetItems()
		}
		if len(fns) == 1 && len(rf.GetColdeflist()) > 0 {
			coldef = rf.GetColdeflist()
		}
		var lin facts.Lineage
		known, base, nargs, scalar := false, "", 0, true
		if fc := items[0].GetFuncCall(); fc != nil {
			lin, base, known = w.funcCall(fc, lat)
			nargs = len(fc.GetArgs())
			if base == "unnest" {
				// unnest of an array of a composite type returns the
				// composite's columns: their number is known only for
				// arrays of a scalar type.
				for _, a := range fc.GetArgs() {
					scalar = scalar && w.scalarArray(a, lat)
				}
			}
		} else {
			// CAST(...), COALESCE(...), CURRENT_DATE, ...: one column only
			// when certainly of a scalar type (a composite expands).
			lin = w.expr(items[0], lat)
			base = figureColname(items[0])
			w.addShaping(lin, facts.InJoin)
			if items[0].GetSqlvalueFunction() != nil || w.scalar(items[0], lat) {
				name := base
				if alias != nil && len(fns) == 1 {
					name = alias.GetAliasname()
				}
				r.cols = append(r.cols, column{name: name, lin: lin})
			} else {
				r.unknown, r.why = true, "columns of "+base+" in FROM"
			}
			if r.name == "" {
				r.name = base
			}
			continue
		}
		if r.name == "" {
			r.name = base
		}
		// A function in FROM produces rows from its arguments, like a join.
		w.addShaping(lin, facts.InJoin)
		names, ok := fnColumns[base]
		switch {
		case len(coldef) > 0:
			for _, cd := range coldef {
				if d := cd.GetColumnDef(); d != nil {
					if tn := d.GetTypeName(); tn != nil && !w.typeKnown(tn) {
						lin = facts.Merge(lin, facts.Unknown("type of column "+d.GetColname()))
					}
					r.cols = append(r.cols, column{name: d.GetColname(), lin: lin})
				}
			}
		case known && base == "unnest" && !scalar:
			r.unknown = true
			r.why = "columns of unnest of an array of unknown type"
		case known && base == "unnest" && nargs > 1:
			for range nargs {
				r.cols = append(r.cols, column{name: "unnest", lin: lin})
			}
		case known && ok && names == nil:
			name := base
			if alias != nil && len(fns) == 1 {
				name = alias.GetAliasname()
			}
			r.cols = append(r.cols, column{name: name, lin: lin})
		case known && ok:
			for _, n := range names {
				r.cols = append(r.cols, column{name: n, lin: lin})
			}
		default:
			r.unknown = true
			r.why = "columns of function " + base
			if !lin.Unknown {
				r.why = "result columns of function " + base + " not known"
			}
		}
	}
	if rf.GetOrdinality() {
		r.cols = append(r.cols, column{name: "ordinality"})
	}
	if alias != nil {
		r.name = alias.GetAliasname()
		r.rename(alias.GetColnames())
	}
	return r
}

// rangeVar resolves a relation read in FROM: a CTE, a system relation, a
// view (expanded through its definition) or a base table from the catalog,
// or an unknown relation. It records the read.
func (w *walker) rangeVar(rv *pg.RangeVar, sc *scope) *relation {
	st := w.st
	if rv.GetSchemaname() == "" && rv.GetCatalogname() == "" {
		if cte := sc.lookupCTE(rv.GetRelname()); cte != nil {
			return w.cteRelation(cte, rv)
		}
	}
	t, obj, system := w.resolveRelation(rv)
	if system {
		st.SystemObjects = append(st.SystemObjects, obj)
	} else {
		st.Reads = append(st.Reads, obj)
	}
	r := w.relationOf(t, obj, system)
	if a := rv.GetAlias(); a != nil {
		r.name, r.schema = a.GetAliasname(), ""
		r.rename(a.GetColnames())
	}
	return r
}

// relationOf builds the namespace item of a resolved catalog relation.
func (w *walker) relationOf(t *catalog.Table, obj facts.Object, system bool) *relation {
	r := &relation{name: obj.Name, schema: obj.Database, relVisible: true, colsVisible: true}
	switch {
	case t == nil:
		r.unknown = true
		switch {
		case obj.Database != "":
			r.why = "relation " + obj.String() + " not in catalog"
		case !w.path.known:
			r.why = "relation " + obj.Name + " under an unknown search_path"
		default:
			r.why = "relation " + obj.Name + " not in catalog"
		}
		r.sysCols = true
	case system:
		// System relations (views included) are not expanded: their
		// columns are known and hold no personal data; reading them is
		// decided from SystemObjects.
		r.cols, r.shared, r.sysCols = systemColumns(t), true, true
	case t.View != nil:
		w.readView(t, r)
	default:
		r.cols, r.shared, r.sysCols = baseColumns(t), true, true
	}
	return r
}

// cteRelation is a reference to a CTE.
func (w *walker) cteRelation(c *cteDef, rv *pg.RangeVar) *relation {
	w.st.CTEs = true
	if c.state == cteNew {
		w.analyzeCTE(c)
	}
	r := &relation{name: c.name, relVisible: true, colsVisible: true}
	if c.state == cteBusy && !c.anchored {
		r.unknown, r.why = true, "recursive reference to "+c.name
	} else {
		r.cols, r.shared = c.cols, true
		if !c.complete {
			r.unknown, r.why = true, "columns of "+c.name+" not fully known"
		}
	}
	if a := rv.GetAlias(); a != nil {
		r.name = a.GetAliasname()
		r.rename(a.GetColnames())
	}
	return r
}

// resolveRelation finds the catalog relation a RangeVar names, through
// the search path when unqualified. obj is the relation as recorded (lower
// case names for system relations; schema "" when it cannot be resolved).
func (w *walker) resolveRelation(rv *pg.RangeVar) (t *catalog.Table, obj facts.Object, system bool) {
	name := rv.GetRelname()
	if schema := rv.GetSchemaname(); schema != "" {
		obj = facts.Object{Database: schema, Name: name}
		system = systemSchemas[schema]
		t, _ = w.cat.Table(schema, name)
	} else {
		if !w.path.known {
			w.st.AddUnsupported("search_path not known: relation " + name + " cannot be resolved")
			return nil, facts.Object{Name: name}, false
		}
		obj = facts.Object{Name: name}
		for _, s := range w.path.schemas {
			if tt, ok := w.cat.Table(s, name); ok {
				t, system = tt, systemSchemas[s]
				break
			}
		}
	}
	if t != nil {
		obj = facts.Object{Database: t.Database, Name: t.Name, View: t.View != nil && !system}
	}
	if system {
		obj = facts.Object{Database: lowerASCII(obj.Database), Name: lowerASCII(obj.Name)}
	}
	return t, obj, system
}

// existingObject names an existing relation a statement writes or locks
// without reading its columns (DDL, MERGE).
func (w *walker) existingObject(rv *pg.RangeVar) (facts.Object, bool) {
	if rv.GetSchemaname() == "" && !w.path.known {
		return facts.Object{Name: rv.GetRelname()}, false
	}
	t, obj, system := w.resolveRelation(rv)
	if system {
		w.st.SystemObjects = append(w.st.SystemObjects, obj)
	}
	return obj, t != nil
}

// newObject names a relation a statement creates: in the first schema of
// the search path when unqualified.
func (w *walker) newObject(rv *pg.RangeVar) facts.Object {
	if rv == nil {
		return facts.Object{}
	}
	if s := rv.GetSchemaname(); s != "" {
		if systemSchemas[s] {
			w.st.SystemObjects = append(w.st.SystemObjects, facts.Object{Database: lowerASCII(s), Name: lowerASCII(rv.GetRelname())})
		}
		return facts.Object{Database: s, Name: rv.GetRelname()}
	}
	return facts.Object{Database: w.path.create, Name: rv.GetRelname()}
}

// targetRelation resolves the table an INSERT, UPDATE, DELETE or COPY
// FROM writes and records the write (a view's base tables are written too).
func (w *walker) targetRelation(rv *pg.RangeVar) (*relation, facts.Object) {
	st := w.st
	t, obj, system := w.resolveRelation(rv)
	st.Writes = append(st.Writes, obj)
	if system {
		st.SystemObjects = append(st.SystemObjects, obj)
	}
	reads := len(st.Reads)
	r := w.relationOf(t, obj, system)
	if t != nil && t.View != nil {
		// An updatable view writes its base table.
		for _, o := range st.Reads[reads:] {
			st.Writes = append(st.Writes, o)
		}
		st.Reads = st.Reads[:reads]
	}
	if a := rv.GetAlias(); a != nil {
		r.name, r.schema = a.GetAliasname(), ""
	}
	return r, obj
}

// baseColumns are a base table's columns, built once per catalog snapshot
// (shared; never modified).
func baseColumns(t *catalog.Table) []column {
	if cols, ok := t.Derived().([]column); ok {
		return cols
	}
	cols := make([]column, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = column{
			name: c.Name, lin: facts.FromColumn(facts.Column{Database: t.Database, Table: t.Name, Column: c.Name}),
			orgDB: t.Database, orgTable: t.Name, orgColumn: c.Name, typ: c.Type,
		}
	}
	t.SetDerived(cols)
	return cols
}

// systemColumns are a system relation's columns: known, never personal data.
func systemColumns(t *catalog.Table) []column {
	if cols, ok := t.Derived().([]column); ok {
		return cols
	}
	cols := make([]column, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = column{name: c.Name, orgDB: t.Database, orgTable: t.Name, orgColumn: c.Name, typ: c.Type}
	}
	t.SetDerived(cols)
	return cols
}

// viewLineage is a view's resolved lineage, cached in the catalog snapshot.
type viewLineage struct {
	ok                                     bool
	cols                                   []facts.Lineage
	reads, system                          []facts.Object
	functions, unknownFunctions, dangerous []string
}

// readView fills a view relation: its columns carry the lineage of the
// view's definition; their origin is the view itself (PostgreSQL reports
// the view, not its base table).
func (w *walker) readView(t *catalog.Table, r *relation) {
	st := w.st
	info := w.viewInfo(t)
	st.Reads = append(st.Reads, info.reads...)
	st.SystemObjects = append(st.SystemObjects, info.system...)
	st.Functions = append(st.Functions, info.functions...)
	st.UnknownFunctions = append(st.UnknownFunctions, info.unknownFunctions...)
	st.Dangerous = append(st.Dangerous, info.dangerous...)
	r.cols = make([]column, len(t.Columns))
	for i, c := range t.Columns {
		lin := facts.Unknown("view " + t.Database + "." + t.Name + " could not be analysed")
		if info.ok {
			lin = info.cols[i]
		}
		r.cols[i] = column{name: c.Name, lin: lin, orgDB: t.Database, orgTable: t.Name, orgColumn: c.Name, typ: c.Type}
	}
}

// viewInfo analyses a view's definition once per catalog snapshot, under
// the empty search path pg_get_viewdef printed it with.
func (w *walker) viewInfo(t *catalog.Table) *viewLineage {
	if d, ok := t.Derived().(*viewLineage); ok {
		return d
	}
	info := &viewLineage{}
	if w.viewDepth >= maxViewDepth {
		return info // not cached: the depth is a property of this path
	}
	tree, err := parseTree(t.View.Definition)
	if err == nil && len(tree.GetStmts()) == 1 {
		if sel := tree.GetStmts()[0].GetStmt().GetSelectStmt(); sel != nil && sel.GetIntoClause() == nil {
			inner := &facts.Statement{Kind: "select", Limit: -1}
			iw := &walker{cat: w.cat, path: &viewPath, st: inner, viewDepth: w.viewDepth + 1, inView: true}
			res := iw.query(sel, &scope{})
			iw.finish()
			info.ok = len(inner.Unsupported) == 0 && res.complete && len(inner.Flows) == 0 && !inner.Dynamic
			for _, c := range res.cols {
				info.cols = append(info.cols, c.lin)
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

// insert analyses INSERT: the inserted values flow into the table;
// RETURNING and ON CONFLICT DO UPDATE read the stored row.
func (w *walker) insert(s *pg.InsertStmt) {
	st := w.st
	sc := &scope{}
	if wc := s.GetWithClause(); wc != nil {
		w.with(wc, sc)
	}
	target, obj := w.targetRelation(s.GetRelation())
	var lin facts.Lineage
	if q := s.GetSelectStmt(); q != nil {
		if sel := q.GetSelectStmt(); sel != nil {
			lin = w.query(sel, sc).merged()
		} else {
			st.AddUnsupported("INSERT source " + nodeName(q))
			lin = facts.Unknown("unsupported INSERT source")
		}
	}
	for _, c := range s.GetCols() {
		w.assignTarget(c.GetResTarget(), sc)
	}
	tsc := &scope{parent: sc, rels: []*relation{target}}
	if oc := s.GetOnConflictClause(); oc != nil {
		if inf := oc.GetInfer(); inf != nil {
			// The inference expressions choose which rows conflict.
			for _, e := range inf.GetIndexElems() {
				w.addShaping(w.expr(e.GetIndexElem().GetExpr(), tsc), facts.InWhere)
			}
			w.addShaping(w.expr(inf.GetWhereClause(), tsc), facts.InWhere)
		}
		if oc.GetAction() == pg.OnConflictAction_ONCONFLICT_UPDATE {
			st.Reads = append(st.Reads, obj)
			excluded := &relation{name: "excluded", relVisible: true, colsVisible: true, unknown: target.unknown, why: target.why}
			for _, c := range target.cols {
				excluded.cols = append(excluded.cols, column{name: c.name, lin: lin})
			}
			usc := &scope{parent: sc, rels: []*relation{target, excluded}}
			lin = facts.Merge(lin, w.assignments(oc.GetTargetList(), usc))
			if wh := oc.GetWhereClause(); wh != nil {
				w.shape(wh, usc, facts.InWhere)
			}
		}
	}
	st.Flows = append(st.Flows, facts.Flow{Target: facts.ToTable, Name: obj.String(), Lineage: lin})
	if rl := s.GetReturningList(); len(rl) > 0 {
		st.Reads = append(st.Reads, obj)
		w.returning(rl, tsc)
	}
}

// update analyses UPDATE: the assigned values flow into the table.
func (w *walker) update(s *pg.UpdateStmt) {
	st := w.st
	sc := &scope{}
	if wc := s.GetWithClause(); wc != nil {
		w.with(wc, sc)
	}
	target, obj := w.targetRelation(s.GetRelation())
	st.Reads = append(st.Reads, obj)
	rels := []*relation{target}
	if from := s.GetFromClause(); len(from) > 0 {
		rels = append(rels, w.fromList(from, sc)...)
	}
	sc.rels = rels
	if wh := s.GetWhereClause(); wh != nil {
		st.HasWhere = true
		w.shape(wh, sc, facts.InWhere)
	}
	lin := w.assignments(s.GetTargetList(), sc)
	st.Flows = append(st.Flows, facts.Flow{Target: facts.ToTable, Name: obj.String(), Lineage: lin})
	if rl := s.GetReturningList(); len(rl) > 0 {
		w.returning(rl, sc)
	}
}

// delete analyses DELETE.
func (w *walker) delete(s *pg.DeleteStmt) {
	st := w.st
	sc := &scope{}
	if wc := s.GetWithClause(); wc != nil {
		w.with(wc, sc)
	}
	target, obj := w.targetRelation(s.GetRelation())
	st.Reads = append(st.Reads, obj)
	rels := []*relation{target}
	if using := s.GetUsingClause(); len(using) > 0 {
		rels = append(rels, w.fromList(using, sc)...)
	}
	sc.rels = rels
	if wh := s.GetWhereClause(); wh != nil {
		st.HasWhere = true
		w.shape(wh, sc, facts.InWhere)
	}
	if rl := s.GetReturningList(); len(rl) > 0 {
		w.returning(rl, sc)
	}
}

// assignments analyses SET lists (UPDATE, ON CONFLICT DO UPDATE) and
// returns the union of the assigned values' lineage.
func (w *walker) assignments(list []*pg.Node, sc *scope) facts.Lineage {
	var lin facts.Lineage
	for _, n := range list {
		rt := n.GetResTarget()
		if rt == nil {
			w.st.AddUnsupported("assignment " + nodeName(n))
			lin = facts.Merge(lin, facts.Unknown("unsupported assignment"))
			continue
		}
		w.assignTarget(rt, sc)
		if m := rt.GetVal().GetMultiAssignRef(); m != nil {
			// (a, b) = (SELECT ...) / ROW(...): the source is repeated for
			// each target column; analyse it once.
			if m.GetColno() == 1 {
				lin = facts.Merge(lin, w.expr(m.GetSource(), sc))
			}
			continue
		}
		lin = facts.Merge(lin, w.expr(rt.GetVal(), sc))
	}
	return lin
}

// assignTarget analyses the subscripts of an assignment target (a[i] = ...).
func (w *walker) assignTarget(rt *pg.ResTarget, sc *scope) {
	// A subscript decides where a value is stored: what it is computed
	// from is written to the table as much as the value is.
	var lin facts.Lineage
	for _, ind := range rt.GetIndirection() {
		if ai := ind.GetAIndices(); ai != nil {
			lin = facts.Merge(lin, w.expr(ai.GetLidx(), sc))
			lin = facts.Merge(lin, w.expr(ai.GetUidx(), sc))
		}
	}
	if !lin.IsEmpty() {
		w.st.Flows = append(w.st.Flows, facts.Flow{Target: facts.ToTable, Name: "subscript of " + rt.GetName(), Lineage: lin})
	}
}

// returning analyses a RETURNING list: the returned columns are the stored
// (or just written) row's values; origins are not predicted.
func (w *walker) returning(list []*pg.Node, sc *scope) {
	cols, complete := w.targetList(list, sc, false)
	w.st.Outputs = outputs(cols, false)
	w.st.OutputsUnknown = w.st.OutputsUnknown || !complete
}

// lowerASCII lower-cases ASCII letters only, as the server's
// downcase_identifier does under a multi-byte encoding (strings.ToLower
// would fold other letters too, and turn invalid bytes into U+FFFD).
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
