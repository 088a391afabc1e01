package pgsql

import pg "github.com/pganalyze/pg_query_go/v6"

// figureColname is the column name PostgreSQL gives an unnamed select-list
// expression (FigureColname in parse_target.c): the column or function
// name, the type of a cast of a constant, a keyword for the special
// forms, and "?column?" otherwise.
func figureColname(n *pg.Node) string {
	if name, _ := figure(n); name != "" {
		return name
	}
	return "?column?"
}

// figure returns a name and its strength (2: a real name, 1: a type name
// of a cast, 0: none).
func figure(n *pg.Node) (string, int) {
	switch x := n.GetNode().(type) {
	case *pg.Node_ColumnRef:
		name := ""
		for _, f := range x.ColumnRef.GetFields() {
			if s := f.GetString_(); s != nil {
				name = s.GetSval()
			}
		}
		if name != "" {
			return name, 2
		}
	case *pg.Node_AIndirection:
		list := x.AIndirection.GetIndirection()
		for i := len(list) - 1; i >= 0; i-- {
			if s := list[i].GetString_(); s != nil {
				return s.GetSval(), 2
			}
		}
		return figure(x.AIndirection.GetArg())
	case *pg.Node_FuncCall:
		names := x.FuncCall.GetFuncname()
		if len(names) > 0 {
			return names[len(names)-1].GetString_().GetSval(), 2
		}
	case *pg.Node_AExpr:
		if x.AExpr.GetKind() == pg.A_Expr_Kind_AEXPR_NULLIF {
			return "nullif", 2
		}
	case *pg.Node_TypeCast:
		name, strength := figure(x.TypeCast.GetArg())
		if strength <= 1 {
			if names := x.TypeCast.GetTypeName().GetNames(); len(names) > 0 {
				return names[len(names)-1].GetString_().GetSval(), 1
			}
		}
		return name, strength
	case *pg.Node_CollateClause:
		return figure(x.CollateClause.GetArg())
	case *pg.Node_GroupingFunc:
		return "grouping", 2
	case *pg.Node_MergeSupportFunc:
		return "merge_action", 2
	case *pg.Node_SubLink:
		switch x.SubLink.GetSubLinkType() {
		case pg.SubLinkType_EXISTS_SUBLINK:
			return "exists", 2
		case pg.SubLinkType_ARRAY_SUBLINK:
			return "array", 2
		case pg.SubLinkType_EXPR_SUBLINK:
			if tl := x.SubLink.GetSubselect().GetSelectStmt().GetTargetList(); len(tl) > 0 {
				rt := tl[0].GetResTarget()
				if rt.GetName() != "" {
					return rt.GetName(), 2
				}
				return figure(rt.GetVal())
			}
		}
	case *pg.Node_CaseExpr:
		name, strength := figure(x.CaseExpr.GetDefresult())
		if strength <= 1 {
			return "case", 1
		}
		return name, strength
	case *pg.Node_AArrayExpr:
		return "array", 2
	case *pg.Node_RowExpr:
		return "row", 2
	case *pg.Node_CoalesceExpr:
		return "coalesce", 2
	case *pg.Node_MinMaxExpr:
		if x.MinMaxExpr.GetOp() == pg.MinMaxOp_IS_LEAST {
			return "least", 2
		}
		return "greatest", 2
	case *pg.Node_SqlvalueFunction:
		if name := sqlValueNames[x.SqlvalueFunction.GetOp()]; name != "" {
			return name, 2
		}
	case *pg.Node_XmlExpr:
		if name := xmlNames[x.XmlExpr.GetOp()]; name != "" {
			return name, 2
		}
	case *pg.Node_XmlSerialize:
		return "xmlserialize", 2
	case *pg.Node_JsonParseExpr:
		return "json", 2
	case *pg.Node_JsonScalarExpr:
		return "json_scalar", 2
	case *pg.Node_JsonSerializeExpr:
		return "json_serialize", 2
	case *pg.Node_JsonObjectConstructor:
		return "json_object", 2
	case *pg.Node_JsonArrayConstructor, *pg.Node_JsonArrayQueryConstructor:
		return "json_array", 2
	case *pg.Node_JsonObjectAgg:
		return "json_objectagg", 2
	case *pg.Node_JsonArrayAgg:
		return "json_arrayagg", 2
	case *pg.Node_JsonFuncExpr:
		switch x.JsonFuncExpr.GetOp() {
		case pg.JsonExprOp_JSON_EXISTS_OP:
			return "json_exists", 2
		case pg.JsonExprOp_JSON_QUERY_OP:
			return "json_query", 2
		case pg.JsonExprOp_JSON_VALUE_OP:
			return "json_value", 2
		}
	}
	return "", 0
}

var sqlValueNames = map[pg.SQLValueFunctionOp]string{
	pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE: "current_date", pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME: "current_time",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME_N: "current_time", pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP: "current_timestamp",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N: "current_timestamp", pg.SQLValueFunctionOp_SVFOP_LOCALTIME: "localtime",
	pg.SQLValueFunctionOp_SVFOP_LOCALTIME_N: "localtime", pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP: "localtimestamp",
	pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N: "localtimestamp", pg.SQLValueFunctionOp_SVFOP_CURRENT_ROLE: "current_role",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_USER: "current_user", pg.SQLValueFunctionOp_SVFOP_USER: "user",
	pg.SQLValueFunctionOp_SVFOP_SESSION_USER: "session_user", pg.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG: "current_catalog",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA: "current_schema",
}

var xmlNames = map[pg.XmlExprOp]string{
	pg.XmlExprOp_IS_XMLCONCAT: "xmlconcat", pg.XmlExprOp_IS_XMLELEMENT: "xmlelement", pg.XmlExprOp_IS_XMLFOREST: "xmlforest",
	pg.XmlExprOp_IS_XMLPARSE: "xmlparse", pg.XmlExprOp_IS_XMLPI: "xmlpi", pg.XmlExprOp_IS_XMLROOT: "xmlroot",
	pg.XmlExprOp_IS_XMLSERIALIZE: "xmlserialize",
}
