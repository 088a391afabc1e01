package pgsql

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/dbfence/dbfence/rules/catalog"
	"github.com/dbfence/dbfence/rules/facts"
)

// tooComplex aborts the analysis of a statement that exceeds maxSteps.
type tooComplex struct{}

// maxSteps bounds the work spent on one statement (expressions, query
// blocks and FROM items visited, recursive CTE passes included); beyond it
// the statement is refused as not understood.
const maxSteps = 200000

// Analyze describes one parsed statement for the decision. It never panics
// (an internal failure becomes Unsupported "analyser failure: ..."), never
// returns nil, and is deterministic. Kind is the kind Parse gave.
func Analyze(stmt Statement, env Env) *facts.Statement {
	node := stmt.Node
	if node == nil && stmt.Text != "" {
		if stmts, err := Parse(stmt.Text); err == nil && len(stmts) == 1 {
			node = stmts[0].Node
		}
	}
	path := resolvePath(env)
	return analyzeNode(node, stmt.Kind, stmt.ChangesSession, env.Catalog, &path)
}

// analyzeNode analyses one statement tree under a resolved search path.
func analyzeNode(node *pg.Node, kind string, changes bool, cat *catalog.Catalog, path *pathInfo) (st *facts.Statement) {
	if kind == "" {
		kind, changes = kindOf(node)
	}
	st = &facts.Statement{Kind: kind, Limit: -1, ChangesSession: changes}
	w := &walker{cat: cat, path: path, st: st}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(tooComplex); ok {
				st.AddUnsupported("statement too complex to analyse")
			} else {
				st.AddUnsupported(fmt.Sprintf("analyser failure: %v", r))
			}
		}
		w.finish()
	}()
	if node == nil || node.Node == nil {
		st.AddUnsupported("statement without a parse tree")
		return st
	}
	w.statement(node)
	return st
}

// walker analyses one statement.
type walker struct {
	cat  *catalog.Catalog
	path *pathInfo
	st   *facts.Statement
	// viewDepth counts the views being expanded around this walker.
	viewDepth int
	// inView suppresses row-shaping facts: a view's own conditions are
	// fixed by its definer, not chosen by the user.
	inView bool
	steps  int
}

// step counts work and aborts statements that are too complex.
func (w *walker) step() {
	w.steps++
	if w.steps > maxSteps {
		panic(tooComplex{})
	}
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
	slices.SortFunc(st.Shaping, func(a, b facts.Shaping) int {
		if c := facts.CompareColumns(a.Column, b.Column); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.Position), string(b.Position)); c != 0 {
			return c
		}
		switch {
		case a.ExactLookup == b.ExactLookup:
			return 0
		case a.ExactLookup:
			return -1
		}
		return 1
	})
	st.Shaping = slices.Compact(st.Shaping)
}

// sub analyses a statement nested in this one (EXPLAIN, PREPARE) under the
// same catalog and search path.
func (w *walker) sub(node *pg.Node) *facts.Statement {
	return analyzeNode(node, "", false, w.cat, w.path)
}

// statement dispatches on the statement type.
func (w *walker) statement(n *pg.Node) {
	st := w.st
	switch x := n.Node.(type) {
	case *pg.Node_SelectStmt:
		if x.SelectStmt.GetIntoClause() != nil {
			w.selectInto(x.SelectStmt)
			return
		}
		w.topQuery(x.SelectStmt)
	case *pg.Node_InsertStmt:
		w.insert(x.InsertStmt)
	case *pg.Node_UpdateStmt:
		w.update(x.UpdateStmt)
	case *pg.Node_DeleteStmt:
		w.delete(x.DeleteStmt)
	case *pg.Node_MergeStmt:
		st.AddUnsupported("MERGE")
		if rv := x.MergeStmt.GetRelation(); rv != nil {
			obj, _ := w.existingObject(rv)
			st.Writes = append(st.Writes, obj)
		}
	case *pg.Node_CopyStmt:
		w.copyStmt(x.CopyStmt)
	case *pg.Node_VariableSetStmt:
		w.set(x.VariableSetStmt)
	case *pg.Node_VariableShowStmt:
		st.Show = "variables"
	case *pg.Node_TransactionStmt:
		st.ChangesSession = st.ChangesSession || transactionEndsScope(x.TransactionStmt.GetKind())
	case *pg.Node_DiscardStmt:
		st.ChangesSession = true
	case *pg.Node_ExplainStmt:
		w.explain(x.ExplainStmt)
	case *pg.Node_PrepareStmt:
		for _, t := range x.PrepareStmt.GetArgtypes() {
			if tn := t.GetTypeName(); tn != nil {
				w.typeKnown(tn)
			}
		}
		if q := x.PrepareStmt.GetQuery(); q != nil {
			st.Prepared = w.sub(q)
			st.ChangesSession = st.ChangesSession || st.Prepared.ChangesSession
		} else {
			st.AddUnsupported("PREPARE without a statement")
		}
	case *pg.Node_ExecuteStmt:
		st.Dynamic, st.OutputsUnknown, st.ChangesSession = true, true, true
		w.exprs(x.ExecuteStmt.GetParams(), &scope{})
	case *pg.Node_ClosePortalStmt:
		st.Cursor = x.ClosePortalStmt.GetPortalname()
	case *pg.Node_DeallocateStmt, *pg.Node_ListenStmt, *pg.Node_UnlistenStmt,
		*pg.Node_NotifyStmt:
		// Nothing beyond the kind. A NOTIFY payload is a literal written in
		// the statement, not data read from a table; the kind is decided
		// by the role's statement list.
	case *pg.Node_DeclareCursorStmt:
		d := x.DeclareCursorStmt
		st.Cursor, st.CursorHold = d.GetPortalname(), d.GetOptions()&cursorOptHold != 0
		sel := d.GetQuery().GetSelectStmt()
		if sel == nil {
			st.AddUnsupported("DECLARE of a non-SELECT statement")
			return
		}
		w.topQuery(sel)
	case *pg.Node_FetchStmt:
		// The rows are those of the cursor's query: the engine decides a
		// FETCH by the DECLARE it saw for that name.
		st.Cursor, st.CursorMove = x.FetchStmt.GetPortalname(), x.FetchStmt.GetIsmove()
		st.OutputsUnknown = !st.CursorMove
	case *pg.Node_DoStmt:
		st.Dynamic, st.ChangesSession = true, true
	case *pg.Node_CallStmt:
		st.OutputsUnknown, st.ChangesSession = true, true
		if fc := x.CallStmt.GetFunccall(); fc != nil {
			name, _, _ := w.funcName(fc.GetFuncname())
			st.Functions = append(st.Functions, name)
			st.UnknownFunctions = append(st.UnknownFunctions, name) // procedures are never built-ins
			w.exprs(fc.GetArgs(), &scope{})
		}
	case *pg.Node_LockStmt:
		for _, r := range x.LockStmt.GetRelations() {
			if rv := r.GetRangeVar(); rv != nil {
				w.rangeVar(rv, &scope{})
			}
		}
	case *pg.Node_CreateTableAsStmt:
		w.createTableAs(x.CreateTableAsStmt)
	case *pg.Node_ViewStmt:
		obj := w.newObject(x.ViewStmt.GetView())
		obj.View = true
		st.Writes = append(st.Writes, obj)
		if sel := x.ViewStmt.GetQuery().GetSelectStmt(); sel != nil {
			res := w.query(sel, &scope{})
			st.Flows = append(st.Flows, facts.Flow{Target: facts.ToTable, Name: obj.String(), Lineage: res.merged()})
		}
	case *pg.Node_CreateStmt:
		st.Writes = append(st.Writes, w.newObject(x.CreateStmt.GetRelation()))
	case *pg.Node_TruncateStmt:
		for _, r := range x.TruncateStmt.GetRelations() {
			if rv := r.GetRangeVar(); rv != nil {
				obj, _ := w.existingObject(rv)
				st.Writes = append(st.Writes, obj)
			}
		}
	case *pg.Node_AlterTableStmt:
		w.writeExisting(x.AlterTableStmt.GetRelation())
	case *pg.Node_IndexStmt:
		w.writeExisting(x.IndexStmt.GetRelation())
	case *pg.Node_RefreshMatViewStmt:
		w.writeExisting(x.RefreshMatViewStmt.GetRelation())
	case *pg.Node_RenameStmt:
		w.writeExisting(x.RenameStmt.GetRelation())
	case *pg.Node_DropStmt:
		w.drop(x.DropStmt)
	default:
		// Other DDL and privilege statements are decided by their kind;
		// anything else is not understood.
		if st.Kind != "ddl" && st.Kind != "grant" {
			st.AddUnsupported("statement " + nodeName(n))
		}
	}
}

// cursorOptHold is CURSOR_OPT_HOLD of DeclareCursorStmt.options
// (src/include/nodes/parsenodes.h): WITH HOLD.
const cursorOptHold = 0x0020

// topQuery analyses the statement's outermost query (SELECT, VALUES,
// DECLARE ... CURSOR FOR).
func (w *walker) topQuery(s *pg.SelectStmt) {
	st := w.st
	res := w.query(s, &scope{})
	st.Outputs = outputs(res.cols, true)
	st.OutputsUnknown = st.OutputsUnknown || !res.complete
	st.HasWhere = res.where
	if c := s.GetLimitCount(); c != nil && !isNullConst(c) {
		st.HasLimit = true
		st.Limit = -1
		if n, ok := intConst(c); ok && n >= 0 && s.GetLimitOption() != pg.LimitOption_LIMIT_OPTION_WITH_TIES {
			st.Limit = n
		}
	}
}

// outputs converts query columns to facts (origins kept when predicted).
func outputs(cols []column, origins bool) []facts.Output {
	out := make([]facts.Output, len(cols))
	for i, c := range cols {
		out[i] = facts.Output{Name: c.name, Lineage: c.lin}
		if origins {
			out[i].OrgDatabase, out[i].OrgTable, out[i].OrgColumn = c.orgDB, c.orgTable, c.orgColumn
		}
	}
	return out
}

// selectInto analyses SELECT ... INTO new_table: a table is created and
// filled with the query's rows.
func (w *walker) selectInto(s *pg.SelectStmt) {
	res := w.query(s, &scope{})
	obj := w.newObject(s.GetIntoClause().GetRel())
	w.st.Writes = append(w.st.Writes, obj)
	w.st.Flows = append(w.st.Flows, facts.Flow{Target: facts.ToTable, Name: obj.String(), Lineage: res.merged()})
}

// createTableAs analyses CREATE TABLE AS and CREATE MATERIALIZED VIEW.
func (w *walker) createTableAs(s *pg.CreateTableAsStmt) {
	st := w.st
	obj := w.newObject(s.GetInto().GetRel())
	obj.View = s.GetObjtype() == pg.ObjectType_OBJECT_MATVIEW
	st.Writes = append(st.Writes, obj)
	switch q := s.GetQuery(); {
	case q.GetSelectStmt() != nil:
		res := w.query(q.GetSelectStmt(), &scope{})
		st.Flows = append(st.Flows, facts.Flow{Target: facts.ToTable, Name: obj.String(), Lineage: res.merged()})
	case q.GetExecuteStmt() != nil:
		st.Dynamic = true
		st.Flows = append(st.Flows, facts.Flow{Target: facts.ToTable, Name: obj.String(), Lineage: facts.Unknown("prepared statement")})
	default:
		st.AddUnsupported("CREATE TABLE AS of " + nodeName(q))
	}
}

// drop records the relations a DROP removes.
func (w *walker) drop(s *pg.DropStmt) {
	switch s.GetRemoveType() {
	case pg.ObjectType_OBJECT_TABLE, pg.ObjectType_OBJECT_VIEW, pg.ObjectType_OBJECT_MATVIEW,
		pg.ObjectType_OBJECT_FOREIGN_TABLE, pg.ObjectType_OBJECT_SEQUENCE, pg.ObjectType_OBJECT_INDEX:
	default:
		return
	}
	for _, o := range s.GetObjects() {
		names := stringList(o.GetList().GetItems())
		rv := &pg.RangeVar{}
		switch len(names) {
		case 1:
			rv.Relname = names[0]
		case 2:
			rv.Schemaname, rv.Relname = names[0], names[1]
		case 3:
			rv.Catalogname, rv.Schemaname, rv.Relname = names[0], names[1], names[2]
		default:
			continue
		}
		obj, _ := w.existingObject(rv)
		w.st.Writes = append(w.st.Writes, obj)
	}
}

func (w *walker) writeExisting(rv *pg.RangeVar) {
	if rv != nil {
		obj, _ := w.existingObject(rv)
		w.st.Writes = append(w.st.Writes, obj)
	}
}

// set analyses SET and RESET. Every SET may change session state; those
// that change the current user or a setting the proxy pins (how text is
// encoded and how string literals are read) are refused.
func (w *walker) set(s *pg.VariableSetStmt) {
	st := w.st
	st.ChangesSession = true
	verb := "SET"
	if s.GetKind() == pg.VariableSetKind_VAR_RESET || s.GetKind() == pg.VariableSetKind_VAR_RESET_ALL {
		verb = "RESET"
	}
	if s.GetKind() == pg.VariableSetKind_VAR_RESET_ALL {
		st.AddUnsupported("RESET ALL changes the current user")
		st.AddUnsupported("RESET ALL resets a pinned setting")
		st.ChangesReading = true
		return
	}
	switch name := strings.ToLower(s.GetName()); name {
	case "role":
		st.AddUnsupported(verb + " ROLE changes the current user")
	case "session_authorization":
		st.AddUnsupported(verb + " SESSION AUTHORIZATION changes the current user")
	case "client_encoding", "names", "standard_conforming_strings":
		st.AddUnsupported(verb + " " + name + ": pinned setting")
		st.ChangesReading = true
	}
}

// explain analyses EXPLAIN: the inner statement's objects and conditions
// are what the plan reveals; with ANALYZE it runs.
func (w *walker) explain(s *pg.ExplainStmt) {
	st := w.st
	for _, o := range s.GetOptions() {
		if d := o.GetDefElem(); d != nil && strings.EqualFold(d.GetDefname(), "analyze") {
			st.ExplainAnalyze = defBool(d.GetArg())
		}
	}
	st.OutputsUnknown = true
	if s.GetQuery() == nil {
		st.AddUnsupported("EXPLAIN without a statement")
		return
	}
	inner := w.sub(s.GetQuery())
	st.Reads, st.SystemObjects, st.Shaping = inner.Reads, inner.SystemObjects, inner.Shaping
	st.Functions, st.UnknownFunctions, st.Dangerous = inner.Functions, inner.UnknownFunctions, inner.Dangerous
	for _, u := range inner.Unsupported {
		st.AddUnsupported(u)
	}
	st.ShapingUnknown = inner.ShapingUnknown
	st.LiteralDependent = st.LiteralDependent || inner.LiteralDependent
	switch {
	case inner.Dynamic:
		st.AddUnsupported("EXPLAIN of dynamic SQL")
	case inner.Kind != "select" && inner.Kind != "insert" && inner.Kind != "update" && inner.Kind != "delete":
		st.AddUnsupported("EXPLAIN of a " + inner.Kind + " statement")
	}
}

// defBool reads a boolean option value as PostgreSQL's defGetBoolean does;
// anything it cannot read counts as true (fail closed: ANALYZE on).
func defBool(arg *pg.Node) bool {
	if arg == nil {
		return true
	}
	switch v := arg.Node.(type) {
	case *pg.Node_Boolean:
		return v.Boolean.GetBoolval()
	case *pg.Node_Integer:
		return v.Integer.GetIval() != 0
	case *pg.Node_String_:
		switch strings.ToLower(v.String_.GetSval()) {
		case "false", "fals", "fal", "fa", "f", "off", "of", "no", "n", "0":
			return false
		}
	case *pg.Node_AConst:
		if i := v.AConst.GetIval(); i != nil && v.AConst.GetIval().GetIval() == 0 {
			return false
		}
		if b := v.AConst.GetBoolval(); b != nil {
			return b.GetBoolval()
		}
		if s := v.AConst.GetSval(); s != nil {
			return defBool(&pg.Node{Node: &pg.Node_String_{String_: s}})
		}
	}
	return true
}

// copyFormat reads the row format of COPY ... TO from its options (the
// parser turns the old WITH CSV HEADER syntax into the same options).
func copyFormat(opts []*pg.Node) *facts.CopyFormat {
	f := &facts.CopyFormat{Format: "text", Delimiter: '\t'}
	str := func(d *pg.DefElem) (string, bool) {
		if sv, ok := d.GetArg().GetNode().(*pg.Node_String_); ok {
			return sv.String_.GetSval(), true
		}
		return "", false
	}
	var delimiter, quote, escape string
	var setDelimiter, setQuote, setEscape bool
	for _, o := range opts {
		d := o.GetDefElem()
		if d == nil {
			continue
		}
		switch d.GetDefname() {
		case "format":
			if v, ok := str(d); ok {
				f.Format = strings.ToLower(v)
			}
		case "header":
			// A header taken for data is masked; data taken for a header
			// would be relayed as it is: read the value as the server does.
			if v, _ := str(d); strings.EqualFold(v, "match") {
				f.Unsupported = "HEADER MATCH"
			}
			f.Header = defBool(d.GetArg())
		case "delimiter":
			delimiter, setDelimiter = str(d)
		case "quote":
			quote, setQuote = str(d)
		case "escape":
			escape, setEscape = str(d)
		case "null":
			f.Unsupported = "a NULL option"
		case "encoding":
			if v, _ := str(d); !strings.EqualFold(strings.ReplaceAll(v, "-", ""), "utf8") {
				f.Unsupported = "an ENCODING option"
			}
		case "force_quote", "force_not_null", "force_null", "freeze", "on_error", "log_verbosity", "default":
			// Quoting style, or options of COPY FROM.
		default:
			f.Unsupported = "the option " + d.GetDefname()
		}
	}
	if f.Format == "csv" {
		f.Delimiter, f.Quote = ',', '"'
	}
	one := func(v string, set bool, dst *byte) {
		if set {
			if len(v) != 1 {
				f.Unsupported = "a multi-byte delimiter, quote or escape"
				return
			}
			*dst = v[0]
		}
	}
	one(delimiter, setDelimiter, &f.Delimiter)
	one(quote, setQuote, &f.Quote)
	f.Escape = f.Quote
	one(escape, setEscape, &f.Escape)
	return f
}

// copyStmt analyses COPY. COPY ... TO STDOUT is an export of the copied
// columns; server files and programs are refused; COPY ... FROM STDIN
// writes client data of unknown content into a table.
func (w *walker) copyStmt(s *pg.CopyStmt) {
	st := w.st
	server := s.GetFilename() != "" || s.GetIsProgram()
	if s.GetIsFrom() {
		if server {
			st.Dangerous = append(st.Dangerous, "copy from server file/program")
		}
		rv := s.GetRelation()
		if rv == nil {
			st.AddUnsupported("COPY FROM without a table")
			return
		}
		target, obj := w.targetRelation(rv)
		lin := facts.Unknown("copied data")
		st.Flows = append(st.Flows, facts.Flow{Target: facts.ToTable, Name: obj.String(), Lineage: lin})
		if wc := s.GetWhereClause(); wc != nil {
			// The condition reads the incoming rows, not stored data.
			incoming := &relation{name: target.name, relVisible: true, colsVisible: true, unknown: target.unknown, why: target.why}
			for _, c := range target.cols {
				incoming.cols = append(incoming.cols, column{name: c.name, lin: lin})
			}
			w.expr(wc, &scope{rels: []*relation{incoming}})
		}
		return
	}
	name := "COPY TO STDOUT"
	if server {
		st.Dangerous = append(st.Dangerous, "copy to server file/program")
		name = "COPY TO " + s.GetFilename()
		if s.GetIsProgram() {
			name = "COPY TO PROGRAM " + s.GetFilename()
		}
	}
	var cols []column
	complete := true
	switch {
	case s.GetQuery() != nil:
		sel := s.GetQuery().GetSelectStmt()
		if sel == nil {
			st.AddUnsupported("COPY of a data-modifying statement")
			st.OutputsUnknown = true
			return
		}
		res := w.query(sel, &scope{})
		cols, complete = res.cols, res.complete
	case s.GetRelation() != nil:
		rel := w.rangeVar(s.GetRelation(), &scope{})
		complete = !rel.unknown
		if names := stringList(s.GetAttlist()); len(names) > 0 {
			for _, n := range names {
				c := column{name: n, lin: facts.Unknown("column " + n)}
				if i := rel.index(n); i >= 0 {
					c.lin = rel.cols[i].lin
				} else if rel.unknown {
					c.lin = facts.Unknown(rel.why)
				}
				cols = append(cols, c)
			}
			complete = true
		} else {
			cols = rel.cols
			if rel.unknown {
				cols = append(slices.Clip(cols), column{name: "*", lin: facts.Unknown(rel.why)})
			}
		}
	default:
		st.AddUnsupported("COPY without a source")
		return
	}
	if !server {
		st.CopyOut = copyFormat(s.GetOptions())
	}
	res := result{cols: cols, complete: complete}
	st.Outputs = outputs(cols, false)
	st.OutputsUnknown = !complete
	st.Flows = append(st.Flows, facts.Flow{Target: facts.ToFile, Name: name, Lineage: res.merged()})
}

// intConst returns the value of an integer literal (LIMIT counts, positions).
func intConst(n *pg.Node) (int64, bool) {
	c := n.GetAConst()
	if c == nil || c.GetIsnull() {
		return 0, false
	}
	if i := c.GetIval(); i != nil {
		return int64(i.GetIval()), true
	}
	if f := c.GetFval(); f != nil {
		v, err := strconv.ParseInt(f.GetFval(), 10, 64)
		return v, err == nil
	}
	return 0, false
}

// isNullConst reports whether n is the NULL literal (LIMIT ALL).
func isNullConst(n *pg.Node) bool {
	c := n.GetAConst()
	return c != nil && c.GetIsnull()
}

// stringList returns the values of a list of String nodes ("" for others).
func stringList(list []*pg.Node) []string {
	out := make([]string, len(list))
	for i, n := range list {
		out[i] = n.GetString_().GetSval()
	}
	return out
}

// nodeName names a node's type ("SelectStmt").
func nodeName(n *pg.Node) string {
	if n == nil || n.Node == nil {
		return "empty node"
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", n.Node), "*pg_query.Node_")
}
