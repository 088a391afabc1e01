package pgsql

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/dbfence/dbfence/rules/facts"
)

// expr returns the lineage of an expression, analysing the subqueries in it.
func (w *walker) expr(n *pg.Node, sc *scope) facts.Lineage {
	if n == nil || n.Node == nil {
		return facts.Lineage{}
	}
	st := w.st
	switch n.Node.(type) {
	case *pg.Node_AConst, *pg.Node_ParamRef, *pg.Node_SetToDefault, *pg.Node_Integer, *pg.Node_Float,
		*pg.Node_String_, *pg.Node_Boolean, *pg.Node_BitString, *pg.Node_CurrentOfExpr:
		// Constants and $n parameters: values the client wrote (not
		// counted as work: long IN lists stay cheap).
		return facts.Lineage{}
	case *pg.Node_SqlvalueFunction:
		// CURRENT_DATE, CURRENT_USER, ...: session state.
		return facts.Lineage{}
	}
	w.step()
	switch x := n.Node.(type) {
	case *pg.Node_ColumnRef:
		_, lin := w.columnRef(x.ColumnRef, sc)
		return lin
	case *pg.Node_AExpr:
		return w.aExpr(x.AExpr, sc)
	case *pg.Node_BoolExpr:
		op := "and"
		switch x.BoolExpr.GetBoolop() {
		case pg.BoolExprType_OR_EXPR:
			op = "or"
		case pg.BoolExprType_NOT_EXPR:
			op = "not"
		}
		return facts.Transform(w.exprs(x.BoolExpr.GetArgs(), sc), op)
	case *pg.Node_FuncCall:
		lin, _, _ := w.funcCall(x.FuncCall, sc)
		return lin
	case *pg.Node_TypeCast:
		lin := w.expr(x.TypeCast.GetArg(), sc)
		if !w.typeKnown(x.TypeCast.GetTypeName()) {
			lin = facts.Merge(lin, facts.Unknown("cast to "+typeString(x.TypeCast.GetTypeName())))
		}
		return facts.Transform(lin, "cast")
	case *pg.Node_CollateClause:
		return facts.Transform(w.expr(x.CollateClause.GetArg(), sc), "collate")
	case *pg.Node_AIndirection:
		return w.indirection(x.AIndirection, sc)
	case *pg.Node_AArrayExpr:
		return facts.Transform(w.exprs(x.AArrayExpr.GetElements(), sc), "array")
	case *pg.Node_RowExpr:
		return facts.Transform(w.exprs(x.RowExpr.GetArgs(), sc), "row")
	case *pg.Node_SubLink:
		return w.subLink(x.SubLink, sc)
	case *pg.Node_CaseExpr:
		c := x.CaseExpr
		lin := w.expr(c.GetArg(), sc)
		for _, wn := range c.GetArgs() {
			if cw := wn.GetCaseWhen(); cw != nil {
				lin = facts.Merge(lin, facts.Merge(w.expr(cw.GetExpr(), sc), w.expr(cw.GetResult(), sc)))
			} else {
				lin = facts.Merge(lin, w.expr(wn, sc))
			}
		}
		return facts.Transform(facts.Merge(lin, w.expr(c.GetDefresult(), sc)), "case")
	case *pg.Node_CoalesceExpr:
		return facts.Transform(w.exprs(x.CoalesceExpr.GetArgs(), sc), "coalesce")
	case *pg.Node_MinMaxExpr:
		op := "greatest"
		if x.MinMaxExpr.GetOp() == pg.MinMaxOp_IS_LEAST {
			op = "least"
		}
		return facts.Transform(w.exprs(x.MinMaxExpr.GetArgs(), sc), op)
	case *pg.Node_NullTest:
		return facts.Transform(w.expr(x.NullTest.GetArg(), sc), "is null")
	case *pg.Node_BooleanTest:
		return facts.Transform(w.expr(x.BooleanTest.GetArg(), sc), "is true")
	case *pg.Node_GroupingFunc:
		st.Aggregates = true
		return facts.Transform(w.exprs(x.GroupingFunc.GetArgs(), sc), "grouping")
	case *pg.Node_NamedArgExpr:
		return w.expr(x.NamedArgExpr.GetArg(), sc)
	case *pg.Node_List:
		return w.exprs(x.List.GetItems(), sc)
	case *pg.Node_XmlExpr:
		xe := x.XmlExpr
		lin := w.exprs(xe.GetArgs(), sc)
		for _, na := range xe.GetNamedArgs() {
			if rt := na.GetResTarget(); rt != nil {
				lin = facts.Merge(lin, w.expr(rt.GetVal(), sc))
			} else {
				lin = facts.Merge(lin, w.expr(na, sc))
			}
		}
		name := xmlNames[xe.GetOp()]
		if name == "" {
			name = "is document"
		}
		return facts.Transform(lin, name)
	case *pg.Node_XmlSerialize:
		lin := w.expr(x.XmlSerialize.GetExpr(), sc)
		if !w.typeKnown(x.XmlSerialize.GetTypeName()) {
			lin = facts.Merge(lin, facts.Unknown("cast to "+typeString(x.XmlSerialize.GetTypeName())))
		}
		return facts.Transform(lin, "xmlserialize")
	case *pg.Node_JsonObjectConstructor:
		var lin facts.Lineage
		for _, kv := range x.JsonObjectConstructor.GetExprs() {
			lin = facts.Merge(lin, w.jsonKeyValue(kv.GetJsonKeyValue(), kv, sc))
		}
		return facts.Transform(w.jsonOutput(lin, x.JsonObjectConstructor.GetOutput()), "json_object")
	case *pg.Node_JsonArrayConstructor:
		var lin facts.Lineage
		for _, e := range x.JsonArrayConstructor.GetExprs() {
			lin = facts.Merge(lin, w.jsonValue(e.GetJsonValueExpr(), e, sc))
		}
		return facts.Transform(w.jsonOutput(lin, x.JsonArrayConstructor.GetOutput()), "json_array")
	case *pg.Node_JsonArrayQueryConstructor:
		st.Subqueries = true
		var lin facts.Lineage
		if sel := x.JsonArrayQueryConstructor.GetQuery().GetSelectStmt(); sel != nil {
			lin = w.query(sel, sc).merged()
		} else {
			lin = w.unsupported(x.JsonArrayQueryConstructor.GetQuery())
		}
		return facts.Transform(w.jsonOutput(lin, x.JsonArrayQueryConstructor.GetOutput()), "json_array")
	case *pg.Node_JsonObjectAgg:
		a := x.JsonObjectAgg
		lin := w.jsonKeyValue(a.GetArg(), nil, sc)
		lin = facts.Merge(lin, w.jsonAgg(a.GetConstructor(), sc))
		return facts.Transform(w.jsonOutput(lin, a.GetConstructor().GetOutput()), "json_objectagg")
	case *pg.Node_JsonArrayAgg:
		a := x.JsonArrayAgg
		lin := w.jsonValue(a.GetArg(), nil, sc)
		lin = facts.Merge(lin, w.jsonAgg(a.GetConstructor(), sc))
		return facts.Transform(w.jsonOutput(lin, a.GetConstructor().GetOutput()), "json_arrayagg")
	case *pg.Node_JsonParseExpr:
		return facts.Transform(w.jsonOutput(w.jsonValue(x.JsonParseExpr.GetExpr(), nil, sc), x.JsonParseExpr.GetOutput()), "json")
	case *pg.Node_JsonScalarExpr:
		return facts.Transform(w.jsonOutput(w.expr(x.JsonScalarExpr.GetExpr(), sc), x.JsonScalarExpr.GetOutput()), "json_scalar")
	case *pg.Node_JsonSerializeExpr:
		return facts.Transform(w.jsonOutput(w.jsonValue(x.JsonSerializeExpr.GetExpr(), nil, sc), x.JsonSerializeExpr.GetOutput()), "json_serialize")
	case *pg.Node_JsonIsPredicate:
		return facts.Transform(w.expr(x.JsonIsPredicate.GetExpr(), sc), "is json")
	case *pg.Node_JsonFuncExpr:
		f := x.JsonFuncExpr
		lin := facts.Merge(w.jsonValue(f.GetContextItem(), nil, sc), w.expr(f.GetPathspec(), sc))
		for _, p := range f.GetPassing() {
			if ja := p.GetJsonArgument(); ja != nil {
				lin = facts.Merge(lin, w.jsonValue(ja.GetVal(), nil, sc))
			} else {
				lin = facts.Merge(lin, w.expr(p, sc))
			}
		}
		for _, b := range []*pg.JsonBehavior{f.GetOnEmpty(), f.GetOnError()} {
			if b != nil {
				lin = facts.Merge(lin, w.expr(b.GetExpr(), sc))
			}
		}
		return facts.Transform(w.jsonOutput(lin, f.GetOutput()), figureColname(n))
	}
	return w.unsupported(n)
}

// unsupported records an expression the analyser does not understand.
func (w *walker) unsupported(n *pg.Node) facts.Lineage {
	what := "expression " + nodeName(n)
	w.st.AddUnsupported(what)
	return facts.Unknown(what)
}

func (w *walker) exprs(list []*pg.Node, sc *scope) facts.Lineage {
	var lin facts.Lineage
	for _, e := range list {
		lin = facts.Merge(lin, w.expr(e, sc))
	}
	return lin
}

func (w *walker) jsonValue(v *pg.JsonValueExpr, n *pg.Node, sc *scope) facts.Lineage {
	if v == nil {
		return w.expr(n, sc)
	}
	return w.expr(v.GetRawExpr(), sc)
}

func (w *walker) jsonKeyValue(kv *pg.JsonKeyValue, n *pg.Node, sc *scope) facts.Lineage {
	if kv == nil {
		return w.expr(n, sc)
	}
	return facts.Merge(w.expr(kv.GetKey(), sc), w.jsonValue(kv.GetValue(), nil, sc))
}

// jsonOutput checks a RETURNING type of a SQL/JSON constructor.
func (w *walker) jsonOutput(lin facts.Lineage, o *pg.JsonOutput) facts.Lineage {
	if tn := o.GetTypeName(); tn != nil && !w.typeKnown(tn) {
		return facts.Merge(lin, facts.Unknown("cast to "+typeString(tn)))
	}
	return lin
}

// jsonAgg analyses the aggregate parts of JSON_ARRAYAGG / JSON_OBJECTAGG.
func (w *walker) jsonAgg(c *pg.JsonAggConstructor, sc *scope) facts.Lineage {
	w.st.Aggregates = true
	for _, sb := range c.GetAggOrder() {
		if s := sb.GetSortBy(); s != nil {
			w.addShaping(w.expr(s.GetNode(), sc), facts.InOrderBy)
		}
	}
	if f := c.GetAggFilter(); f != nil {
		w.shape(f, sc, facts.InWhere)
	}
	if o := c.GetOver(); o != nil {
		w.windowDef(o, sc)
	}
	return facts.Lineage{}
}

// columnRef resolves a column reference the way PostgreSQL does. It
// returns the column (nil unless the name is exactly one known column) and
// the lineage.
//
//	name            a column of the innermost level that has one, else a whole-row
//	                reference to a relation of that name
//	rel.col         a column of the relation, else col(rel): a function applied
//	                to the whole row (p.row_to_json is row_to_json(p))
//	schema.rel.col  the same for an unaliased relation of that schema
//	rel.*           the whole row (in an expression)
func (w *walker) columnRef(cr *pg.ColumnRef, sc *scope) (*column, facts.Lineage) {
	fields := cr.GetFields()
	star := endsWithStar(fields)
	names := make([]string, 0, len(fields))
	for i, f := range fields {
		if i == len(fields)-1 && star {
			break
		}
		s := f.GetString_()
		if s == nil {
			return nil, facts.Unknown("column reference " + nodeName(f))
		}
		names = append(names, s.GetSval())
	}
	if len(names) == 1 && !star {
		return w.unqualified(names[0], sc)
	}
	var relName, schema, col string
	switch {
	case star && len(names) == 1:
		relName = names[0]
	case star && len(names) == 2:
		schema, relName = names[0], names[1]
	case star && len(names) == 3:
		schema, relName = names[1], names[2]
	case len(names) == 2:
		relName, col = names[0], names[1]
	case len(names) == 3:
		schema, relName, col = names[0], names[1], names[2]
	case len(names) == 4:
		schema, relName, col = names[1], names[2], names[3]
	default:
		return nil, facts.Unknown("column reference " + strings.Join(names, "."))
	}
	r := w.findRel(sc, schema, relName)
	if r == nil {
		return nil, facts.Unknown("relation " + relName)
	}
	if star {
		return nil, wholeRow(r)
	}
	if i := r.index(col); i >= 0 {
		c := &r.cols[i]
		if r.unknown {
			return nil, facts.Merge(c.lin, facts.Unknown(r.why))
		}
		return c, c.lin
	}
	if r.unknown {
		return nil, facts.Unknown(r.why)
	}
	if r.sysCols && systemColumnNames[col] {
		return nil, facts.Lineage{}
	}
	// rel.f with no column f is f(rel).
	name, base, builtin := w.funcName([]*pg.Node{{Node: &pg.Node_String_{String_: &pg.String{Sval: col}}}})
	return nil, w.callLineage(name, base, builtin, wholeRow(r))
}

// unqualified resolves a one-part name: a column of the innermost level
// that has one (any relation of unknown columns may have it), else a
// relation of that name as a whole row.
func (w *walker) unqualified(name string, sc *scope) (*column, facts.Lineage) {
	for s := sc; s != nil; s = s.parent {
		var found *column
		var lin facts.Lineage
		n := 0
		unknown, sys := "", false
		for _, r := range s.rels {
			if !r.colsVisible {
				continue
			}
			if r.unknown {
				unknown = r.why
			}
			for i := range r.cols {
				if r.cols[i].name == name {
					found = &r.cols[i]
					lin = facts.Merge(lin, found.lin)
					n++
				}
			}
			if r.sysCols && systemColumnNames[name] {
				sys = true
			}
		}
		if n == 0 && unknown == "" && !sys {
			continue
		}
		if unknown != "" {
			return nil, facts.Merge(lin, facts.Unknown(unknown))
		}
		if n == 1 && !sys {
			return found, lin
		}
		return nil, lin
	}
	if r := w.findRel(sc, "", name); r != nil {
		return nil, wholeRow(r)
	}
	return nil, facts.Unknown("column " + name)
}

// wholeRowRel returns the relation an expression names as a whole row
// (p or p.* with no column p), or nil.
func (w *walker) wholeRowRel(n *pg.Node, sc *scope) *relation {
	cr := n.GetColumnRef()
	if cr == nil {
		return nil
	}
	fields := cr.GetFields()
	names := stringList(fields)
	switch {
	case len(fields) == 1 && names[0] != "":
		for s := sc; s != nil; s = s.parent {
			if levelHasColumn(s, names[0]) {
				return nil
			}
		}
		return w.findRel(sc, "", names[0])
	case len(fields) == 2 && endsWithStar(fields) && names[0] != "":
		return w.findRel(sc, "", names[0])
	case len(fields) == 3 && endsWithStar(fields) && names[0] != "" && names[1] != "":
		return w.findRel(sc, names[0], names[1])
	}
	return nil
}

// indirection analyses subscripts and field selection: (p).col of a
// whole-row reference is the column read through the row (indirect).
func (w *walker) indirection(ind *pg.A_Indirection, sc *scope) facts.Lineage {
	list := ind.GetIndirection()
	var lin facts.Lineage
	if r := w.wholeRowRel(ind.GetArg(), sc); r != nil && len(list) > 0 && list[0].GetString_() != nil {
		field := list[0].GetString_().GetSval()
		switch i := r.index(field); {
		case i >= 0:
			lin = facts.Transform(r.cols[i].lin, "row")
		case r.unknown:
			lin = facts.Unknown(r.why)
		default:
			lin = facts.Unknown("field " + field)
		}
		list = list[1:]
	} else {
		lin = w.expr(ind.GetArg(), sc)
	}
	for _, it := range list {
		switch x := it.Node.(type) {
		case *pg.Node_AIndices:
			lin = facts.Merge(lin, facts.Merge(w.expr(x.AIndices.GetLidx(), sc), w.expr(x.AIndices.GetUidx(), sc)))
			lin = facts.Transform(lin, "subscript")
		case *pg.Node_String_:
			lin = facts.Transform(lin, "field")
		case *pg.Node_AStar:
			lin = facts.Transform(lin, "row")
		default:
			lin = facts.Merge(lin, w.unsupported(it))
		}
	}
	return lin
}

// aExpr analyses an operator expression.
func (w *walker) aExpr(a *pg.A_Expr, sc *scope) facts.Lineage {
	lin := facts.Merge(w.expr(a.GetLexpr(), sc), w.expr(a.GetRexpr(), sc))
	var via string
	var ok bool
	switch a.GetKind() {
	case pg.A_Expr_Kind_AEXPR_OP:
		via, ok = w.operator(a.GetName())
	case pg.A_Expr_Kind_AEXPR_OP_ANY:
		via, ok = w.operator(a.GetName())
		via += " any"
	case pg.A_Expr_Kind_AEXPR_OP_ALL:
		via, ok = w.operator(a.GetName())
		via += " all"
	case pg.A_Expr_Kind_AEXPR_DISTINCT, pg.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		_, ok = w.operator(a.GetName())
		via = "is distinct from"
	case pg.A_Expr_Kind_AEXPR_NULLIF:
		_, ok = w.operator(a.GetName())
		via = "nullif"
	case pg.A_Expr_Kind_AEXPR_IN:
		_, ok = w.operator(a.GetName())
		via = "in"
	case pg.A_Expr_Kind_AEXPR_LIKE:
		_, ok = w.operator(a.GetName())
		via = "like"
	case pg.A_Expr_Kind_AEXPR_ILIKE:
		_, ok = w.operator(a.GetName())
		via = "ilike"
	case pg.A_Expr_Kind_AEXPR_SIMILAR:
		_, ok = w.operator(a.GetName())
		via = "similar to"
	case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN, pg.A_Expr_Kind_AEXPR_BETWEEN_SYM,
		pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM:
		_, ok1 := w.operator(opName("<="))
		_, ok2 := w.operator(opName(">="))
		ok = ok1 && ok2
		via = "between"
	default:
		w.st.AddUnsupported("operator expression of kind " + a.GetKind().String())
		return facts.Merge(lin, facts.Unknown("operator expression"))
	}
	if !ok {
		lin = facts.Merge(lin, facts.Unknown("operator "+via))
	}
	return facts.Transform(lin, via)
}

func opName(op string) []*pg.Node {
	return []*pg.Node{{Node: &pg.Node_String_{String_: &pg.String{Sval: op}}}}
}

// operator checks an operator name: known when it is a listed built-in
// operator resolving to pg_catalog (unqualified with pg_catalog first in the
// path, or OPERATOR(pg_catalog.op)). Unknown operators are recorded as
// unknown functions. It returns the name used in Via.
func (w *walker) operator(names []*pg.Node) (string, bool) {
	parts := stringList(names)
	if len(parts) == 0 {
		return "operator", false
	}
	op := parts[len(parts)-1]
	switch {
	case len(parts) == 1 && w.path.builtins && operators[op]:
		return op, true
	case len(parts) == 2 && parts[0] == "pg_catalog" && operators[op]:
		return op, true
	}
	display := "operator " + op
	if len(parts) > 1 {
		display = "operator(" + strings.Join(parts, ".") + ")"
	} else if !w.path.known {
		w.st.AddUnsupported("search_path not known: operator " + op + " cannot be resolved")
	}
	w.st.UnknownFunctions = append(w.st.UnknownFunctions, display)
	return op, false
}

// funcName returns a function's name as recorded (qualified as written),
// its unqualified name, and whether the built-in tables apply to it.
func (w *walker) funcName(names []*pg.Node) (name, base string, builtin bool) {
	parts := stringList(names)
	switch len(parts) {
	case 0:
		return "?", "?", false
	case 1:
		return parts[0], parts[0], w.path.builtins
	case 2:
		return parts[0] + "." + parts[1], parts[1], parts[0] == "pg_catalog"
	}
	return strings.Join(parts, "."), parts[len(parts)-1], false
}

// callLineage records a call of a function on arguments of lineage args
// and returns the result's lineage.
func (w *walker) callLineage(name, base string, builtin bool, args facts.Lineage) facts.Lineage {
	if !w.noteFunction(name, base, builtin) {
		args = facts.Merge(args, facts.Unknown("function "+name))
	}
	return facts.Transform(args, via(name, base, builtin))
}

// via is the name a function is recorded under in lineage.
func via(name, base string, builtin bool) string {
	if builtin {
		return base
	}
	return name
}

// noteFunction records a called function and reports whether it is a
// known side-effect-free built-in.
func (w *walker) noteFunction(name, base string, builtin bool) bool {
	st := w.st
	st.Functions = append(st.Functions, name)
	if isDangerous(base) {
		st.Dangerous = append(st.Dangerous, base)
		if base == "set_config" {
			st.ChangesSession = true
		}
		return false
	}
	if builtin && builtins[base] && w.path.serverVersion >= builtinSince[base] {
		return true
	}
	if name == base && !w.path.known {
		st.AddUnsupported("search_path not known: function " + name + " cannot be resolved")
	}
	st.UnknownFunctions = append(st.UnknownFunctions, name)
	return false
}

// funcCall analyses a function call (aggregates and window functions
// included). It returns the result's lineage, the unqualified name and
// whether the function is a known built-in.
func (w *walker) funcCall(fc *pg.FuncCall, sc *scope) (facts.Lineage, string, bool) {
	st := w.st
	name, base, builtin := w.funcName(fc.GetFuncname())
	known := w.noteFunction(name, base, builtin)
	if fc.GetFuncformat() == pg.CoercionForm_COERCE_SQL_SYNTAX && base == "system_user" && w.path.serverVersion < 160000 {
		// SYSTEM_USER is a keyword from PostgreSQL 16 on; older servers
		// read the bare word as a column or table name, which may be a
		// personal column under an alias (and view definitions, read
		// with no version, are not trusted with it either).
		st.AddUnsupported("SYSTEM_USER (a column or table name before PostgreSQL 16; the server's version is older or not known)")
	}
	if (known && aggregates[base]) || fc.GetAggStar() || fc.GetAggDistinct() || len(fc.GetAggOrder()) > 0 || fc.GetAggFilter() != nil {
		st.Aggregates = true
	}
	lin := w.exprs(fc.GetArgs(), sc)
	if known && setReturning[base] {
		// The rows a set-returning function produces depend on its
		// arguments. (Unknown functions, which may be set-returning too,
		// are refused whatever their arguments.)
		w.addShaping(lin, facts.InJoin)
	}
	for _, o := range fc.GetAggOrder() {
		sb := o.GetSortBy()
		if sb == nil {
			lin = facts.Merge(lin, w.unsupported(o))
			continue
		}
		l := w.expr(sb.GetNode(), sc)
		if len(sb.GetUseOp()) > 0 {
			if _, ok := w.operator(sb.GetUseOp()); !ok {
				l = facts.Merge(l, facts.Unknown("sort operator"))
			}
		}
		w.addShaping(l, facts.InOrderBy)
		if fc.GetAggWithinGroup() {
			// WITHIN GROUP (ORDER BY x): x is the aggregated value
			// (percentile_disc, mode return one of them).
			lin = facts.Merge(lin, l)
		}
	}
	if f := fc.GetAggFilter(); f != nil {
		w.shape(f, sc, facts.InWhere)
	}
	if o := fc.GetOver(); o != nil {
		w.windowDef(o, sc)
	}
	if !known {
		lin = facts.Merge(lin, facts.Unknown("function "+name))
	}
	return facts.Transform(lin, via(name, base, builtin)), base, known
}

// typeKnown checks a type name: a built-in type resolving to pg_catalog.
// A cast to any other type may run user code; it is recorded as an
// unknown function.
func (w *walker) typeKnown(tn *pg.TypeName) bool {
	if tn == nil {
		return true
	}
	parts := stringList(tn.GetNames())
	ok := false
	switch {
	case tn.GetPctType() || len(parts) == 0:
	case len(parts) == 1:
		ok = w.path.builtins && builtinTypes[parts[0]]
		if !w.path.known {
			w.st.AddUnsupported("search_path not known: type " + parts[0] + " cannot be resolved")
		}
	case len(parts) == 2:
		ok = parts[0] == "pg_catalog" && builtinTypes[parts[1]]
	}
	if !ok {
		w.st.UnknownFunctions = append(w.st.UnknownFunctions, "type "+typeString(tn))
	}
	return ok
}

func typeString(tn *pg.TypeName) string {
	return strings.Join(stringList(tn.GetNames()), ".")
}

// subLink analyses a subquery expression; correlated references resolve
// to the enclosing levels.
func (w *walker) subLink(s *pg.SubLink, sc *scope) facts.Lineage {
	w.st.Subqueries = true
	sel := s.GetSubselect().GetSelectStmt()
	if sel == nil {
		return w.unsupported(s.GetSubselect())
	}
	res := w.query(sel, sc)
	sub := res.merged()
	switch s.GetSubLinkType() {
	case pg.SubLinkType_EXISTS_SUBLINK:
		// EXISTS reveals only whether rows match; the subquery's own
		// conditions are recorded as row shaping.
		return facts.Lineage{}
	case pg.SubLinkType_EXPR_SUBLINK, pg.SubLinkType_MULTIEXPR_SUBLINK:
		return facts.Transform(sub, "subquery")
	case pg.SubLinkType_ARRAY_SUBLINK:
		return facts.Transform(sub, "array")
	case pg.SubLinkType_ANY_SUBLINK, pg.SubLinkType_ALL_SUBLINK, pg.SubLinkType_ROWCOMPARE_SUBLINK:
		lin := facts.Merge(w.expr(s.GetTestexpr(), sc), sub)
		names := s.GetOperName()
		if len(names) == 0 {
			names = opName("=") // IN (SELECT ...)
		}
		op, ok := w.operator(names)
		if !ok {
			lin = facts.Merge(lin, facts.Unknown("operator "+op))
		}
		return facts.Transform(lin, "in")
	}
	w.st.AddUnsupported("subquery of type " + s.GetSubLinkType().String())
	return facts.Unknown("subquery")
}

// windowDef records a window's PARTITION BY and ORDER BY as row shaping.
func (w *walker) windowDef(d *pg.WindowDef, sc *scope) {
	w.st.Windows = true
	for _, p := range d.GetPartitionClause() {
		w.addShaping(w.expr(p, sc), facts.InWindow)
	}
	for _, o := range d.GetOrderClause() {
		sb := o.GetSortBy()
		if sb == nil {
			w.addShaping(w.unsupported(o), facts.InWindow)
			continue
		}
		l := w.expr(sb.GetNode(), sc)
		if len(sb.GetUseOp()) > 0 {
			if _, ok := w.operator(sb.GetUseOp()); !ok {
				l = facts.Merge(l, facts.Unknown("sort operator"))
			}
		}
		w.addShaping(l, facts.InWindow)
	}
	w.addShaping(w.expr(d.GetStartOffset(), sc), facts.InWindow)
	w.addShaping(w.expr(d.GetEndOffset(), sc), facts.InWindow)
}

// sortBy records an ORDER BY item.
func (w *walker) sortBy(n *pg.Node, sc *scope, outs []column, pos facts.Position) {
	sb := n.GetSortBy()
	if sb == nil {
		w.addShaping(w.unsupported(n), pos)
		return
	}
	if len(sb.GetUseOp()) > 0 {
		if _, ok := w.operator(sb.GetUseOp()); !ok {
			w.st.ShapingUnknown = true
		}
	}
	w.sortKey(sb.GetNode(), sc, outs, pos)
}

// sortKey records an ORDER BY or DISTINCT ON key: an integer is a position
// in the select list, a bare name an output column (before an input
// column), anything else an expression over the input.
func (w *walker) sortKey(n *pg.Node, sc *scope, outs []column, pos facts.Position) {
	if p, ok := intConst(n); ok && n.GetAConst().GetIval() != nil {
		w.position(p, outs, pos)
		return
	}
	if cr := n.GetColumnRef(); cr != nil && len(cr.GetFields()) == 1 && cr.GetFields()[0].GetString_() != nil {
		name := cr.GetFields()[0].GetString_().GetSval()
		var lin facts.Lineage
		hit := false
		for _, o := range outs {
			if o.name == name {
				lin, hit = facts.Merge(lin, o.lin), true
			}
		}
		if hit {
			w.addShaping(lin, pos)
			return
		}
	}
	w.addShaping(w.expr(n, sc), pos)
}

// position records a select-list position used in ORDER BY / GROUP BY.
func (w *walker) position(p int64, outs []column, pos facts.Position) {
	w.st.LiteralDependent = true
	if p >= 1 && p <= int64(len(outs)) {
		w.addShaping(outs[p-1].lin, pos)
		return
	}
	if !w.inView {
		w.st.ShapingUnknown = true
	}
}

// groupItem records a GROUP BY item: grouping sets recursively; an integer
// is a position; a bare name is an input column of this level if there is
// one, else an output column.
func (w *walker) groupItem(n *pg.Node, sc *scope, outs []column) {
	if gs := n.GetGroupingSet(); gs != nil {
		for _, c := range gs.GetContent() {
			w.groupItem(c, sc, outs)
		}
		return
	}
	if p, ok := intConst(n); ok && n.GetAConst().GetIval() != nil {
		w.position(p, outs, facts.InGroupBy)
		return
	}
	if cr := n.GetColumnRef(); cr != nil && len(cr.GetFields()) == 1 && cr.GetFields()[0].GetString_() != nil {
		name := cr.GetFields()[0].GetString_().GetSval()
		if !levelHasColumn(sc, name) {
			var lin facts.Lineage
			hit := false
			for _, o := range outs {
				if o.name == name {
					lin, hit = facts.Merge(lin, o.lin), true
				}
			}
			if hit {
				w.addShaping(lin, facts.InGroupBy)
				return
			}
		}
	}
	w.addShaping(w.expr(n, sc), facts.InGroupBy)
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

// exact records an exact lookup of a column testing n values.
func (w *walker) exact(c facts.Column, pos facts.Position, n int) {
	if !w.inView {
		w.st.AddExactLookup(c, pos, n)
	}
}

// shape records a condition's columns as row shaping, recognising exact
// lookups under AND, OR and NOT: col = const, const = col, col IN (consts),
// col = ANY(const array), where const is a literal or $n (possibly cast)
// and col a column read directly.
func (w *walker) shape(n *pg.Node, sc *scope, pos facts.Position) {
	switch x := n.Node.(type) {
	case *pg.Node_BoolExpr:
		w.step()
		for _, a := range x.BoolExpr.GetArgs() {
			w.shape(a, sc, pos)
		}
		return
	case *pg.Node_AExpr:
		if w.exactLookup(x.AExpr, sc, pos) {
			return
		}
	}
	w.addShaping(w.expr(n, sc), pos)
}

// exactLookup records an exact lookup and reports whether a is one.
func (w *walker) exactLookup(a *pg.A_Expr, sc *scope, pos facts.Position) bool {
	op := w.builtinOp(a.GetName())
	var cols []facts.Column
	guesses := 1
	switch a.GetKind() {
	case pg.A_Expr_Kind_AEXPR_OP:
		if op != "=" {
			return false
		}
		if c, ok := w.directColumns(a.GetLexpr(), sc); ok && w.constant(a.GetRexpr(), sc, false) {
			cols = c
		} else if c, ok := w.directColumns(a.GetRexpr(), sc); ok && w.constant(a.GetLexpr(), sc, false) {
			cols = c
		}
	case pg.A_Expr_Kind_AEXPR_IN:
		// NOT IN (consts) tells as much as NOT (col IN (consts)).
		if op != "=" && op != "<>" {
			return false
		}
		items := a.GetRexpr().GetList().GetItems()
		if len(items) == 0 {
			return false
		}
		c, ok := w.directColumns(a.GetLexpr(), sc)
		if !ok {
			return false
		}
		for _, it := range items {
			if !w.constant(it, sc, false) {
				return false
			}
		}
		cols, guesses = c, len(items)
	case pg.A_Expr_Kind_AEXPR_OP_ANY:
		if op != "=" {
			return false
		}
		n, counted := arrayElements(a.GetRexpr())
		if !counted {
			// = ANY($1): how many values the parameter holds is not known
			// when the statement is decided, so it is no lookup.
			return false
		}
		if c, ok := w.directColumns(a.GetLexpr(), sc); ok && w.constant(a.GetRexpr(), sc, true) {
			cols, guesses = c, n
		}
	}
	for _, c := range cols {
		w.exact(c, pos, guesses)
	}
	return len(cols) > 0
}

// builtinOp returns an operator's name when it resolves to pg_catalog, else "".
func (w *walker) builtinOp(names []*pg.Node) string {
	parts := stringList(names)
	var op string
	switch {
	case len(parts) == 1 && w.path.builtins:
		op = parts[0]
	case len(parts) == 2 && parts[0] == "pg_catalog":
		op = parts[1]
	}
	return op
}

// directColumns reports whether n is a column reference whose value is
// base columns read directly: one column, or the columns a USING join or a
// set operation merges (each row's value is one of them, unchanged).
func (w *walker) directColumns(n *pg.Node, sc *scope) ([]facts.Column, bool) {
	cr := n.GetColumnRef()
	if cr == nil || endsWithStar(cr.GetFields()) {
		return nil, false
	}
	_, lin := w.columnRef(cr, sc)
	if lin.Unknown || len(lin.Sources) == 0 {
		return nil, false
	}
	out := make([]facts.Column, len(lin.Sources))
	for i, s := range lin.Sources {
		if !s.Direct {
			return nil, false
		}
		out[i] = s.Column
	}
	return out, true
}

// constant reports whether n is a literal or $n parameter, possibly cast
// (to a built-in type); with array, also ARRAY[constants].
func (w *walker) constant(n *pg.Node, sc *scope, array bool) bool {
	if !isConstNode(n, array) {
		return false
	}
	return w.expr(n, sc).IsEmpty()
}

func isConstNode(n *pg.Node, array bool) bool {
	switch x := n.GetNode().(type) {
	case *pg.Node_AConst, *pg.Node_ParamRef:
		return true
	case *pg.Node_TypeCast:
		return isConstNode(x.TypeCast.GetArg(), array)
	case *pg.Node_AArrayExpr:
		if !array {
			return false
		}
		for _, e := range x.AArrayExpr.GetElements() {
			if !isConstNode(e, false) {
				return false
			}
		}
		return true
	}
	return false
}

// scalarArray reports whether n is certainly an array of a built-in scalar
// type (an array constructor of scalar values, a cast to a built-in array
// type, a column of such a type).
func (w *walker) scalarArray(n *pg.Node, sc *scope) bool {
	switch x := n.GetNode().(type) {
	case *pg.Node_TypeCast:
		tn := x.TypeCast.GetTypeName()
		return len(tn.GetArrayBounds()) > 0 && w.scalarType(tn)
	case *pg.Node_AArrayExpr:
		for _, e := range x.AArrayExpr.GetElements() {
			if !w.scalar(e, sc) {
				return false
			}
		}
		return true
	case *pg.Node_ColumnRef:
		col, _ := w.columnRef(x.ColumnRef, sc)
		if col == nil {
			return false
		}
		elem, ok := strings.CutSuffix(col.typ, "[]")
		return ok && scalarTypeName(elem)
	}
	return false
}

// scalar reports whether n is certainly of a built-in scalar type.
func (w *walker) scalar(n *pg.Node, sc *scope) bool {
	switch x := n.GetNode().(type) {
	case *pg.Node_AConst:
		return true
	case *pg.Node_TypeCast:
		tn := x.TypeCast.GetTypeName()
		return len(tn.GetArrayBounds()) == 0 && w.scalarType(tn)
	case *pg.Node_ColumnRef:
		col, _ := w.columnRef(x.ColumnRef, sc)
		return col != nil && scalarTypeName(col.typ)
	}
	return false
}

// scalarType reports whether a type name is a built-in scalar type
// resolving to pg_catalog (not a pseudo-type, not a composite).
func (w *walker) scalarType(tn *pg.TypeName) bool {
	parts := stringList(tn.GetNames())
	var name string
	switch {
	case tn.GetPctType():
		return false
	case len(parts) == 1 && w.path.builtins:
		name = parts[0]
	case len(parts) == 2 && parts[0] == "pg_catalog":
		name = parts[1]
	}
	return builtinTypes[name] && !pseudoTypes[name]
}

// pseudoTypes are built-in type names that do not name one scalar type.
var pseudoTypes = setOf(`record anyelement anyarray unknown`)

// scalarTypeNames are format_type spellings of built-in scalar types
// (without type modifiers), as the catalog loader records column types.
var scalarTypeNames = map[string]bool{}

func init() {
	for _, t := range strings.Split(`integer,bigint,smallint,text,character varying,character,"char",name,
		timestamp with time zone,timestamp without time zone,time with time zone,time without time zone,date,interval,
		numeric,real,double precision,boolean,bytea,json,jsonb,jsonpath,uuid,inet,cidr,macaddr,macaddr8,money,oid,xid,xid8,
		bit,bit varying,xml,tsvector,tsquery,regclass,regtype,regproc,regprocedure,regrole,regnamespace,pg_lsn,
		point,line,lseg,box,path,polygon,circle,int4range,int8range,numrange,tsrange,tstzrange,daterange`, ",") {
		scalarTypeNames[strings.TrimSpace(t)] = true
	}
}

// scalarTypeName reports whether a catalog column type is a built-in
// scalar type (type modifiers such as (18) or (3) ignored).
func scalarTypeName(t string) bool {
	for {
		i := strings.IndexByte(t, '(')
		if i < 0 {
			break
		}
		j := strings.IndexByte(t[i:], ')')
		if j < 0 {
			return false
		}
		t = strings.TrimSpace(t[:i]) + t[i+j+1:]
	}
	return scalarTypeNames[strings.TrimSpace(t)]
}

// arrayElements counts the elements of a constant array written in the
// statement: ARRAY[...] or an array literal '{a,b,...}' (possibly cast);
// ok=false for parameters and anything else. Commas inside quoted elements
// count too: an over-count, which only makes the lookup stricter.
func arrayElements(n *pg.Node) (int, bool) {
	switch x := n.GetNode().(type) {
	case *pg.Node_TypeCast:
		return arrayElements(x.TypeCast.GetArg())
	case *pg.Node_AArrayExpr:
		return len(x.AArrayExpr.GetElements()), true
	case *pg.Node_AConst:
		sv := x.AConst.GetSval()
		if sv == nil {
			return 0, false
		}
		lit := strings.TrimSpace(sv.GetSval())
		if lit == "{}" {
			return 0, true
		}
		return strings.Count(lit, ",") + 1, true
	}
	return 0, false
}
