package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules/catalog"
	"github.com/dbfence/dbfence/rules/facts"
)

// forbiddenKinds are refused to every restricted role, whatever its
// statement list says: code objects, dynamic SQL, server-side files,
// privileges and server administration (catalogue classes 11, 12, 13, 20, 21).
var forbiddenKinds = map[string]string{
	"ddl": "DDL", "call": "CALL", "load": "LOAD DATA", "grant": "GRANT/REVOKE", "user": "user management",
	"admin": "server administration", "handler": "HANDLER", "get_diagnostics": "GET DIAGNOSTICS",
	"execute": "EXECUTE of a prepared statement", "flush": "FLUSH", "other": "this statement",
	// PostgreSQL: asynchronous messages. DO blocks are dynamic SQL.
	"notify": "LISTEN/NOTIFY",
}

// harmlessShows are the SHOW statements restricted roles may run: they show
// schema and server settings, not row data or other sessions' SQL.
var harmlessShows = map[string]bool{
	"databases": true, "tables": true, "columns": true, "index": true, "table_status": true,
	"create_table": true, "create_view": true, "create_database": true, "variables": true, "status": true,
	"charset": true, "collation": true, "engines": true, "grants": true, "privileges": true, "plugins": true,
}

// harmlessSystemObjects are the system-schema tables restricted roles may
// read: schema descriptions without row data, statistics or other sessions.
var harmlessSystemObjects = map[string]bool{
	"information_schema.schemata": true, "information_schema.tables": true, "information_schema.columns": true,
	"information_schema.views": true, "information_schema.key_column_usage": true,
	"information_schema.table_constraints": true, "information_schema.referential_constraints": true,
	"information_schema.character_sets": true, "information_schema.collations": true,
	"information_schema.collation_character_set_applicability": true, "information_schema.engines": true,
	"information_schema.sequences": true, "information_schema.routines": true, "information_schema.parameters": true,
	"information_schema.constraint_column_usage": true, "information_schema.check_constraints": true,
	// PostgreSQL: what psql's \d and drivers read; no statistics (pg_stats
	// holds sample values), no other sessions' SQL (pg_stat_activity), no
	// large objects, no password hashes.
	"pg_catalog.pg_class": true, "pg_catalog.pg_namespace": true, "pg_catalog.pg_attribute": true,
	"pg_catalog.pg_attrdef": true, "pg_catalog.pg_type": true, "pg_catalog.pg_index": true,
	"pg_catalog.pg_constraint": true, "pg_catalog.pg_description": true, "pg_catalog.pg_am": true,
	"pg_catalog.pg_collation": true, "pg_catalog.pg_inherits": true, "pg_catalog.pg_partitioned_table": true,
	"pg_catalog.pg_trigger": true, "pg_catalog.pg_policy": true, "pg_catalog.pg_tablespace": true,
	"pg_catalog.pg_roles": true, "pg_catalog.pg_database": true, "pg_catalog.pg_settings": true,
	"pg_catalog.pg_proc": true, "pg_catalog.pg_language": true, "pg_catalog.pg_extension": true,
	"pg_catalog.pg_enum": true, "pg_catalog.pg_range": true, "pg_catalog.pg_tables": true,
	"pg_catalog.pg_views": true, "pg_catalog.pg_indexes": true, "pg_catalog.pg_matviews": true,
	"pg_catalog.pg_foreign_table": true, "pg_catalog.pg_publication": true, "pg_catalog.pg_publication_rel": true,
	"pg_catalog.pg_publication_namespace": true, "pg_catalog.pg_statistic_ext": true, "pg_catalog.pg_depend": true,
	"pg_catalog.pg_operator": true, "pg_catalog.pg_opclass": true, "pg_catalog.pg_cast": true,
	"pg_catalog.pg_conversion": true, "pg_catalog.pg_event_trigger": true, "pg_catalog.pg_rewrite": true,
}

// MaxLookupValues is how many values of a hidden column one statement may
// test in exact lookups (col = v, col IN (v1, ...), col = ANY('{...}')):
// enough to look a few citizens up, too few to search for a hidden value.
const MaxLookupValues = 10

// decision accumulates one statement's decision; the first refusal wins.
type decision struct {
	sv   StatementVerdict
	role *compiledRole
}

func (d *decision) refuse(outcome Outcome, kind fault.Kind, rule, format string, args ...any) {
	if d.sv.Outcome != Allow {
		return
	}
	d.sv.Outcome, d.sv.Rule = outcome, rule
	d.sv.Reason = fmt.Sprintf(format, args...)
	prefix := "dbfence: "
	if outcome == NeedsApproval {
		prefix = "dbfence: approval needed: "
	}
	d.sv.Error = fault.New(kind, "%s%s (rule %s, role %s)", prefix, d.sv.Reason, rule, d.role.name)
}

// columnTreatment is the effective treatment of one base column for a role.
type columnTreatment struct {
	class  columnClass
	action compiledAction // action "" = plain
}

func (cp *compiledPolicy) treatment(role *compiledRole, c facts.Column) columnTreatment {
	cc := cp.classify(c)
	t := columnTreatment{class: cc}
	if cc.class == "" && cc.level == "" {
		return t
	}
	if a, ok := role.classes[cc.class]; ok && cc.class != "" {
		t.action = a
	} else if a, ok := role.levels[cc.level]; ok && cc.level != "" {
		t.action = a
	}
	if t.action.action == ActionAllow {
		t.action = compiledAction{}
	}
	return t
}

// sensitive reports whether the treatment hides the column (mask or deny).
func (t columnTreatment) sensitive() bool { return t.action.action != "" }

// hasColumnRules reports whether the role hides any column; roles that hide
// nothing have nothing unknown lineage could leak.
func (r *compiledRole) hasColumnRules() bool {
	for _, a := range r.classes {
		if a.action != ActionAllow {
			return true
		}
	}
	for _, a := range r.levels {
		if a.action != ActionAllow {
			return true
		}
	}
	return false
}

// decide is the decision on one analysed statement for a role. It is
// deterministic: the same facts, role and policy give the same verdict.
func (cp *compiledPolicy) decide(role *compiledRole, f *facts.Statement, cat *catalog.Catalog) StatementVerdict {
	d := &decision{role: role, sv: StatementVerdict{
		Kind: f.Kind, ChangesSession: f.ChangesSession, ChangesCatalog: f.Kind == "ddl",
		PolicyVersion: cp.version, Outcome: Allow,
	}}
	if role.unrestricted {
		d.sv.Rule, d.sv.Reason = "unrestricted", "role "+role.name+" has no rules"
		return d.sv
	}
	d.sv.Monitor = role.monitor
	cp.checkStatement(d, f)
	plan := cp.checkColumns(d, f)
	if d.sv.Outcome == Allow {
		d.sv.Rule, d.sv.Reason = "allow", "allowed for role "+role.name
		for _, c := range plan {
			if c.Masker != nil {
				d.sv.Rule, d.sv.Reason = "allow_masked", "allowed with masked columns for role "+role.name
				break
			}
		}
		if f.Kind == "select" || f.Kind == "declare" || f.Kind == "show" || f.Kind == "explain" || (f.Kind == "copy" && len(f.Writes) == 0) {
			d.sv.RowCap = role.rowCap
		}
		d.sv.Columns = plan
	}
	d.sv.CopyOut = f.CopyOut
	switch f.Kind {
	case "declare":
		d.sv.CursorOp, d.sv.Cursor, d.sv.CursorHold = CursorDeclare, f.Cursor, f.CursorHold
	case "fetch":
		d.sv.CursorOp, d.sv.Cursor = CursorFetch, f.Cursor
		if f.CursorMove {
			d.sv.CursorOp = CursorMove
		}
		if d.sv.Outcome == Allow {
			// A placeholder: the engine applies the cursor's DECLARE (ResolveFetch).
			d.sv.Rule, d.sv.Reason = "cursor", "rows of cursor "+f.Cursor+", treated as its DECLARE"
		}
	case "close":
		d.sv.CursorOp, d.sv.Cursor = CursorClose, f.Cursor
	}
	if d.sv.Outcome == NeedsApproval {
		// An approved run proceeds with the same masks; the approval sets
		// its row limit. The request asks for the statement's own LIMIT.
		d.sv.Columns, d.sv.RowCap = plan, role.rowCap
		d.sv.RequestRows = role.rowCap
		if f.HasLimit && f.Limit > 0 {
			d.sv.RequestRows = f.Limit
		}
	}
	// Bulk modification: UPDATE/DELETE by a capped role. Without WHERE it
	// needs an approval; with one, the engine runs it so that it can be
	// rolled back when it affects more rows than the cap (enforced, not guessed).
	if role.rowCap > 0 && (f.Kind == "update" || f.Kind == "delete") {
		if !f.HasWhere {
			d.refuse(NeedsApproval, fault.ApprovalRequired, "bulk_modification", "%s without WHERE is a bulk modification", strings.ToUpper(f.Kind))
		}
		if d.sv.Outcome == Allow || d.sv.Outcome == NeedsApproval {
			d.sv.ModifyCap = role.rowCap
		}
	}
	if role.budget != nil {
		if d.sv.LookupGuesses > 0 {
			d.sv.Budget = role.budget
		}
		for _, c := range d.sv.Columns {
			if c.Class != "" {
				d.sv.Budget = role.budget
				break
			}
		}
	}
	if role.monitor {
		d.sv.Columns, d.sv.RowCap, d.sv.Budget, d.sv.ModifyCap, d.sv.LookupGuesses = nil, 0, nil, 0, 0 // monitor: decide and log only
	}
	return d.sv
}

// checkStatement applies the statement-level rules.
func (cp *compiledPolicy) checkStatement(d *decision, f *facts.Statement) {
	role := d.role
	if len(f.Unsupported) > 0 {
		d.refuse(Deny, fault.StatementDenied, "not_understood", "dbfence does not fully understand this statement (%s)", f.Unsupported[0])
	}
	if f.Dynamic {
		d.refuse(Deny, fault.StatementDenied, "dynamic_sql", "dynamic SQL cannot be analysed")
	}
	if what, ok := forbiddenKinds[f.Kind]; ok {
		d.refuse(Deny, fault.StatementDenied, "statement_forbidden", "%s is not allowed for restricted roles", what)
	}
	if !role.statements[permissionKind(f)] {
		d.refuse(Deny, fault.StatementDenied, "statement_not_allowed", "%s statements are not allowed", strings.ToUpper(f.Kind))
	}
	if f.Prepared != nil {
		inner := cp.decide(role, f.Prepared, nil)
		if inner.Outcome != Allow {
			d.refuse(inner.Outcome, inner.Error.Kind, inner.Rule, "the prepared statement is refused: %s", inner.Reason)
		}
	}
	if f.Show != "" && !harmlessShows[f.Show] && !(!role.hasColumnRules() && (f.Show == "warnings" || f.Show == "errors")) {
		d.refuse(Deny, fault.StatementDenied, "show_forbidden", "SHOW %s is not allowed for restricted roles", strings.ToUpper(strings.ReplaceAll(f.Show, "_", " ")))
	}
	if f.SetsGlobal {
		d.refuse(Deny, fault.StatementDenied, "set_global", "setting GLOBAL system variables is not allowed for restricted roles")
	}
	if f.ExplainAnalyze {
		d.refuse(Deny, fault.StatementDenied, "explain_analyze", "EXPLAIN ANALYZE runs the statement and reports row counts")
	}
	for _, o := range f.SystemObjects {
		if !harmlessSystemObjects[o.String()] {
			d.refuse(Deny, fault.TableDenied, "system_schema", "%s is a system table restricted roles may not read", o)
		}
	}
	if len(f.Dangerous) > 0 {
		d.refuse(Deny, fault.StatementDenied, "dangerous_function", "function %s is not allowed for restricted roles", strings.ToUpper(f.Dangerous[0]))
	}
	if len(f.UnknownFunctions) > 0 {
		d.refuse(Deny, fault.StatementDenied, "unknown_function", "function %s is not a known built-in (stored functions and UDFs cannot be analysed)", f.UnknownFunctions[0])
	}
	for _, list := range [][]facts.Object{f.Reads, f.Writes} {
		for _, o := range list {
			if systemObject(o) {
				continue
			}
			if o.Database == "" {
				d.refuse(Deny, fault.TableDenied, "no_database", "table %s has no database (no database selected)", o.Name)
				continue
			}
			if !role.tableAllowed(o) {
				d.refuse(Deny, fault.TableDenied, "table_denied", "table %s is not allowed", o)
			}
		}
	}
	for _, fl := range f.Flows {
		if fl.Target == facts.ToFile {
			d.refuse(NeedsApproval, fault.ApprovalRequired, "file_export", "%s is an export and needs an approval", exportName(fl))
		}
	}
}

// permissionKind is the statement kind a role's statement list is checked
// against: PostgreSQL's COPY reads (TO) or writes (FROM) a table; reading
// through a SQL cursor (DECLARE, FETCH, MOVE, CLOSE) is reading.
func permissionKind(f *facts.Statement) string {
	switch f.Kind {
	case "copy":
		if len(f.Writes) > 0 {
			return "insert"
		}
		return "select"
	case "declare", "fetch", "close":
		return "select"
	}
	return f.Kind
}

// exportName names an export flow for the refusal.
func exportName(fl facts.Flow) string {
	if strings.HasPrefix(strings.ToUpper(fl.Name), "COPY") {
		return fl.Name
	}
	return "writing query results to a server file"
}

func systemObject(o facts.Object) bool {
	switch strings.ToLower(o.Database) {
	case "mysql", "information_schema", "performance_schema", "sys", "pg_catalog":
		return true
	}
	return false
}

// tableAllowed applies the role's table allow and deny patterns.
func (r *compiledRole) tableAllowed(o facts.Object) bool {
	name := strings.ToLower(o.String())
	match := func(p string) bool {
		pp := strings.SplitN(p, ".", 2)
		np := strings.SplitN(name, ".", 2)
		return len(pp) == 2 && wildcardMatch(pp[0], np[0]) && wildcardMatch(pp[1], np[1])
	}
	if slices.ContainsFunc(r.denyTables, match) {
		return false
	}
	return len(r.allowTables) == 0 || slices.ContainsFunc(r.allowTables, match)
}

// checkColumns applies the column rules and returns the result plan (nil
// when no output column needs masking).
func (cp *compiledPolicy) checkColumns(d *decision, f *facts.Statement) []ColumnPlan {
	role := d.role
	strict := role.hasColumnRules()
	// Flows: classified data may not leave the result set (class 9, 10, 11).
	for _, fl := range f.Flows {
		if col, ok := cp.firstSensitive(role, fl.Lineage); ok {
			d.refuse(Deny, fault.StatementDenied, "flow_to_"+string(fl.Target), "column %s may not be written to a %s (%s)", col, fl.Target, fl.Name)
		} else if strict && fl.Lineage.Unknown {
			d.refuse(Deny, fault.StatementDenied, "flow_to_"+string(fl.Target), "data of unknown origin (%s) may not be written to a %s", fl.Lineage.UnknownWhy, fl.Target)
		}
	}
	// Row shaping: only exact lookups may use hidden columns (class 7), and
	// only of a few values each: an IN list of hundreds of candidates is a
	// search (a binary search over the candidates finds a hidden value).
	guesses := map[facts.Column]int{}
	for _, sh := range f.Shaping {
		t := cp.treatment(role, sh.Column)
		if !t.sensitive() {
			continue
		}
		if sh.ExactLookup && (sh.Position == facts.InWhere || sh.Position == facts.InJoin || sh.Position == facts.InHaving) {
			guesses[sh.Column] += max(sh.Guesses, 1)
			d.sv.LookupGuesses += int64(max(sh.Guesses, 1))
			if n := guesses[sh.Column]; n > MaxLookupValues {
				d.refuse(Deny, fault.ColumnDenied, "lookup_too_wide", "column %s may be looked up by at most %d values per statement, not %d", sh.Column, MaxLookupValues, n)
			}
			continue
		}
		d.refuse(Deny, fault.ColumnDenied, "row_shaping", "column %s may only be used in exact lookups (col = literal, col IN (literals)), not in %s", sh.Column, strings.ReplaceAll(string(sh.Position), "_", " "))
	}
	if strict && f.ShapingUnknown {
		d.refuse(Deny, fault.ColumnDenied, "unknown_lineage", "a condition uses a value of unknown origin")
	}
	// Outputs (classes 1-6).
	var plan []ColumnPlan
	needsMask := false
	classified := false
	for i, o := range f.Outputs {
		cpl := ColumnPlan{OrgDatabase: o.OrgDatabase, OrgTable: o.OrgTable, OrgColumn: o.OrgColumn}
		var masked *compiledAction
		for _, s := range o.Lineage.Sources {
			t := cp.treatment(role, s.Column)
			if t.class.class != "" || t.class.level != "" {
				classified = true
				if cpl.Class == "" {
					cpl.Class = t.class.class
				}
				if levelRank(t.class.level) > levelRank(cpl.Level) {
					cpl.Level = t.class.level
				}
			}
			switch t.action.action {
			case ActionDeny:
				d.refuse(Deny, fault.ColumnDenied, "column_denied", "column %s may not be read (output column %d)", s.Column, i+1)
			case ActionMask:
				if !s.Direct {
					d.refuse(Deny, fault.ColumnDenied, "transformed_masked_column", "masked column %s may only be read as it is, not through %s (output column %d)", s.Column, strings.ToUpper(strings.Join(s.Via, ", ")), i+1)
					continue
				}
				if masked != nil && masked.masker != t.action.masker {
					d.refuse(Deny, fault.ColumnDenied, "mixed_masks", "output column %d combines columns with different masks", i+1)
					continue
				}
				a := t.action
				masked = &a
			}
		}
		if o.Lineage.Unknown && strict {
			d.refuse(Deny, fault.ColumnDenied, "unknown_lineage", "output column %d has a value of unknown origin (%s)", i+1, o.Lineage.UnknownWhy)
		}
		if masked != nil {
			cpl.Masker = masked.masker
			needsMask = true
		}
		plan = append(plan, cpl)
	}
	// Everything the server may compute (class 8: a computation that can
	// fail is an oracle even when its result is never returned): a hidden
	// column may be read as it is, never computed on.
	for _, src := range f.Evaluated.Sources {
		if src.Direct || !cp.treatment(role, src.Column).sensitive() {
			continue
		}
		d.refuse(Deny, fault.ColumnDenied, "computed_hidden_column", "column %s may not be computed on (through %s), even where the result is not returned", src.Column, strings.ToUpper(strings.Join(src.Via, ", ")))
	}
	if needsMask && f.OutputsUnknown {
		d.refuse(Deny, fault.ColumnDenied, "unknown_outputs", "the result's columns cannot all be predicted, so masked columns cannot be placed")
	}
	// Bulk read (class 24): classified data with neither WHERE nor a LIMIT within the cap.
	if role.rowCap > 0 && (f.Kind == "select" || f.Kind == "declare") && classified && !f.HasWhere && !(f.HasLimit && f.Limit >= 0 && f.Limit <= role.rowCap) {
		d.refuse(NeedsApproval, fault.ApprovalRequired, "bulk_read", "reading classified data without WHERE or LIMIT <= %d is a bulk read", role.rowCap)
	}
	// For a role that hides anything, the plan goes out even without a mask:
	// its predicted origins let the engine cross-check the server's column
	// metadata on every result (a wrong prediction is refused, not trusted).
	// Rows of such results are still relayed without being decoded.
	if !needsMask && (!strict || f.OutputsUnknown || len(plan) == 0) {
		return nil
	}
	return plan
}

// firstSensitive returns a source column the role hides, if any.
func (cp *compiledPolicy) firstSensitive(role *compiledRole, l facts.Lineage) (facts.Column, bool) {
	for _, s := range l.Sources {
		if cp.treatment(role, s.Column).sensitive() {
			return s.Column, true
		}
	}
	return facts.Column{}, false
}

// statementRefusal is the client error for a statement not allowed.
func statementRefusal(sv *StatementVerdict) *fault.Error {
	if sv.Error != nil {
		return sv.Error
	}
	return fault.New(fault.StatementDenied, "statement refused by dbfence (%s)", sv.Rule)
}
