package pgsql

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dbfence/dbfence/rules/facts"
)

// analyzeOne parses one statement and analyses it.
func analyzeOne(t *testing.T, sql string, env Env) *facts.Statement {
	t.Helper()
	stmts, err := Parse(sql)
	if err != nil || len(stmts) != 1 {
		t.Fatalf("%s: parse: %v (%d statements)", sql, err, len(stmts))
	}
	f := Analyze(stmts[0], env)
	if f == nil {
		t.Fatalf("%s: nil facts", sql)
	}
	return f
}

var idCard = facts.Column{Database: "gov", Table: "person", Column: "id_card"}

// source returns the source of lin on column c, if any.
func source(lin facts.Lineage, c facts.Column) (facts.Source, bool) {
	for _, s := range lin.Sources {
		if s.Column == c {
			return s, true
		}
	}
	return facts.Source{}, false
}

// indirectOn reports whether output i reads c through something (the
// decision refuses a masked column read that way).
func indirectOn(f *facts.Statement, i int, c facts.Column) bool {
	if i >= len(f.Outputs) {
		return false
	}
	s, ok := source(f.Outputs[i].Lineage, c)
	return ok && !s.Direct
}

// TestWholeRowReferences: every way of reading a whole row carries every
// column of the relation, indirectly, so a masked column is refused.
func TestWholeRowReferences(t *testing.T) {
	for _, sql := range []string{
		"SELECT p FROM person p WHERE p.id = 1",
		"SELECT person FROM gov.person",
		"SELECT row_to_json(p) FROM person p",
		"SELECT to_jsonb(p) FROM person p",
		"SELECT to_json(p) FROM person p",
		"SELECT to_json(p.*) FROM person p",
		"SELECT json_agg(p) FROM person p",
		"SELECT jsonb_agg(p) FROM person p",
		"SELECT hstore(p) FROM person p",
		"SELECT ROW(p.*) FROM person p",
		"SELECT p::text FROM person p",
		"SELECT (p.*)::text FROM person p",
		"SELECT (p).id_card FROM person p",
		"SELECT p.row_to_json FROM person p",
		"SELECT s FROM (SELECT id_card FROM person) s",
		"SELECT x FROM (SELECT * FROM person) AS x",
		"SELECT to_jsonb(c) FROM (WITH c AS (SELECT id_card FROM person) SELECT * FROM c) c",
		"SELECT j FROM (person p JOIN household h ON h.person_id = p.id) j",
		"SELECT key, value FROM person p, jsonb_each_text(to_jsonb(p))",
		"SELECT string_agg(p::text, ',') FROM person p",
		"SELECT format('%s', p) FROM person p",
		"SELECT array_agg(p) FROM gov.person_cards p",
	} {
		f := analyzeOne(t, sql, testEnv())
		if !indirectOn(f, 0, idCard) {
			t.Errorf("%s: output 1 does not read id_card indirectly: %+v", sql, f.Outputs)
		}
		if len(f.Outputs) > 0 && f.Outputs[0].OrgTable != "" {
			t.Errorf("%s: whole-row output with a predicted origin", sql)
		}
	}
	// (p).* expands to every column, through the row, without origins.
	f := analyzeOne(t, "SELECT (p).* FROM person p", testEnv())
	if len(f.Outputs) != 9 || !indirectOn(f, 2, idCard) || f.Outputs[2].OrgColumn != "" {
		t.Errorf("(p).*: %+v", f.Outputs)
	}
	// A column named like the alias wins over the whole row.
	f = analyzeOne(t, "SELECT id FROM person id", testEnv())
	if c, ok := f.Outputs[0].Lineage.DirectColumn(); !ok || c.Column != "id" {
		t.Errorf("column preferred over whole row: %+v", f.Outputs)
	}
}

// TestTableExpandsAllColumns: TABLE and * list every column, directly, in
// catalog order, with predicted origins.
func TestTableExpandsAllColumns(t *testing.T) {
	want := []string{"id", "name", "id_card", "phone", "address", "bank_card", "birthday", "dept", "created_at"}
	for _, sql := range []string{"TABLE gov.person", "SELECT * FROM person", "SELECT p.* FROM gov.person p"} {
		f := analyzeOne(t, sql, testEnv())
		if len(f.Outputs) != len(want) || f.OutputsUnknown {
			t.Fatalf("%s: %d outputs", sql, len(f.Outputs))
		}
		for i, o := range f.Outputs {
			c, ok := o.Lineage.DirectColumn()
			if !ok || c.Column != want[i] || o.Name != want[i] || o.OrgDatabase != "gov" || o.OrgTable != "person" || o.OrgColumn != want[i] {
				t.Errorf("%s: output %d = %+v", sql, i+1, o)
			}
		}
	}
}

func TestDangerousFunctions(t *testing.T) {
	for sql, want := range map[string]string{
		"SELECT set_config('search_path', 'evil', false)":               "set_config",
		"SELECT pg_catalog.set_config('role', 'x', true)":               "set_config",
		"SELECT pg_read_file('/etc/passwd')":                            "pg_read_file",
		"SELECT pg_read_binary_file('x')":                               "pg_read_binary_file",
		"SELECT pg_ls_dir('.')":                                         "pg_ls_dir",
		"SELECT pg_ls_waldir()":                                         "pg_ls_waldir",
		"SELECT pg_stat_file('x')":                                      "pg_stat_file",
		"SELECT lo_import('/etc/passwd')":                               "lo_import",
		"SELECT lo_export(1, '/tmp/x')":                                 "lo_export",
		"SELECT lo_get(1)":                                              "lo_get",
		"SELECT loread(lo_open(1, 262144), 100)":                        "loread",
		"SELECT lo_from_bytea(0, 'x')":                                  "lo_from_bytea",
		"SELECT public.dblink('x', 'SELECT 1')":                         "dblink",
		"SELECT dblink_exec('x', 'DROP TABLE t')":                       "dblink_exec",
		"SELECT query_to_xml('SELECT 1', true, true, '')":               "query_to_xml",
		"SELECT query_to_xmlschema('SELECT 1', true, true, '')":         "query_to_xmlschema",
		"SELECT table_to_xml('gov.person', true, true, '')":             "table_to_xml",
		"SELECT cursor_to_xml('c', 1, true, true, '')":                  "cursor_to_xml",
		"SELECT schema_to_xml('gov', true, true, '')":                   "schema_to_xml",
		"SELECT database_to_xml(true, true, '')":                        "database_to_xml",
		"SELECT pg_notify('c', 'x')":                                    "pg_notify",
		"SELECT pg_sleep_for('1 minute')":                               "pg_sleep_for",
		"SELECT pg_terminate_backend(1)":                                "pg_terminate_backend",
		"SELECT pg_cancel_backend(1)":                                   "pg_cancel_backend",
		"SELECT pg_reload_conf()":                                       "pg_reload_conf",
		"SELECT pg_rotate_logfile()":                                    "pg_rotate_logfile",
		"SELECT pg_switch_wal()":                                        "pg_switch_wal",
		"SELECT pg_create_logical_replication_slot('s', 'p')":           "pg_create_logical_replication_slot",
		"SELECT pg_logical_slot_get_changes('s', NULL, NULL)":           "pg_logical_slot_get_changes",
		"SELECT pg_advisory_lock(1)":                                    "pg_advisory_lock",
		"SELECT pg_stat_get_backend_activity(1)":                        "pg_stat_get_backend_activity",
		"SELECT * FROM pg_stat_statements(true)":                        "pg_stat_statements",
		"SELECT pg_file_write('x', 'y', false)":                         "pg_file_write",
		"SELECT pg_promote()":                                           "pg_promote",
		"SELECT nextval('s')":                                           "nextval",
		"SELECT setval('s', 1)":                                         "setval",
		"SELECT txid_current()":                                         "txid_current",
		"SELECT pg_export_snapshot()":                                   "pg_export_snapshot",
		"SELECT pg_import_system_collations('pg_catalog')":              "pg_import_system_collations",
		"SELECT 1 FROM person WHERE id = 1 AND pg_sleep(5) IS NOT NULL": "pg_sleep",
	} {
		f := analyzeOne(t, sql, testEnv())
		if !slices.Contains(f.Dangerous, want) {
			t.Errorf("%s: dangerous %v, want %s", sql, f.Dangerous, want)
		}
	}
	if f := analyzeOne(t, "SELECT set_config('search_path', 'evil', false)", testEnv()); !f.ChangesSession {
		t.Error("set_config must mark the session as changed")
	}
}

func TestSystemObjects(t *testing.T) {
	for sql, want := range map[string]string{
		"SELECT most_common_vals FROM pg_stats WHERE attname = 'id_card'": "pg_catalog.pg_stats",
		"SELECT query FROM pg_catalog.pg_stat_activity":                   "pg_catalog.pg_stat_activity",
		"SELECT stavalues1 FROM pg_statistic":                             "pg_catalog.pg_statistic",
		"SELECT * FROM information_schema.columns":                        "information_schema.columns",
		"SELECT * FROM pg_catalog.pg_proc":                                "pg_catalog.pg_proc",
		"SELECT x.y FROM (SELECT relname AS y FROM pg_class) x":           "pg_catalog.pg_class",
		"SELECT 1 FROM person WHERE EXISTS (SELECT 1 FROM pg_stats)":      "pg_catalog.pg_stats",
	} {
		f := analyzeOne(t, sql, testEnv())
		found := false
		for _, o := range f.SystemObjects {
			found = found || o.String() == want
		}
		if !found {
			t.Errorf("%s: system objects %v, want %s", sql, f.SystemObjects, want)
		}
		for _, o := range f.Reads {
			if systemSchemas[o.Database] {
				t.Errorf("%s: system relation %s among reads", sql, o)
			}
		}
	}
	// A pg_catalog relation shadows a user table of the same name unless
	// pg_catalog is listed after the user's schema.
	env := testEnv()
	f := analyzeOne(t, "SELECT * FROM pg_class", env)
	if len(f.SystemObjects) != 1 || len(f.Reads) != 0 {
		t.Errorf("pg_class: %v %v", f.SystemObjects, f.Reads)
	}
}

func TestSearchPath(t *testing.T) {
	unknown := testEnv()
	unknown.SearchPath, unknown.SearchPathKnown = nil, false
	f := analyzeOne(t, "SELECT name FROM person WHERE id = 1", unknown)
	if len(f.Unsupported) == 0 || !strings.HasPrefix(f.Unsupported[0], "search_path not known") {
		t.Errorf("unqualified relation with unknown search_path: %v", f.Unsupported)
	}
	f = analyzeOne(t, "SELECT name FROM gov.person", unknown)
	if len(f.Unsupported) != 0 || len(f.Reads) != 1 || f.Reads[0].String() != "gov.person" {
		t.Errorf("qualified relation with unknown search_path: %v %v", f.Unsupported, f.Reads)
	}
	f = analyzeOne(t, "SELECT pg_catalog.lower(name) FROM gov.person WHERE id OPERATOR(pg_catalog.=) 1", unknown)
	if len(f.Unsupported) != 0 || len(f.UnknownFunctions) != 0 || f.Outputs[0].Lineage.Unknown {
		t.Errorf("qualified function with unknown search_path: %v %v", f.Unsupported, f.UnknownFunctions)
	}

	evil := testEnv()
	evil.SearchPath = []string{"evil", "pg_catalog", "gov"}
	f = analyzeOne(t, "SELECT lower(name) FROM person", evil)
	if !slices.Contains(f.UnknownFunctions, "lower") || !f.Outputs[0].Lineage.Unknown {
		t.Errorf("evil, pg_catalog: lower must be unknown: %v %v", f.UnknownFunctions, f.Outputs)
	}
	f = analyzeOne(t, "SELECT name FROM person WHERE id = 1", evil)
	if !slices.Contains(f.UnknownFunctions, "operator =") || !f.ShapingUnknown {
		t.Errorf("evil, pg_catalog: = must be unknown: %v", f.UnknownFunctions)
	}
	f = analyzeOne(t, "SELECT id::int FROM person", evil)
	if !slices.Contains(f.UnknownFunctions, "type pg_catalog.int4") && !slices.Contains(f.UnknownFunctions, "type int4") {
		// int is pg_catalog.int4: qualified, so still a built-in.
		if len(f.UnknownFunctions) != 0 {
			t.Errorf("evil: qualified type: %v", f.UnknownFunctions)
		}
	}
	f = analyzeOne(t, "SELECT id::text FROM person", evil)
	if !slices.Contains(f.UnknownFunctions, "type text") {
		t.Errorf("evil, pg_catalog: unqualified type text must be unknown: %v", f.UnknownFunctions)
	}

	// pg_catalog implicit, or listed first, or listed after schemas that
	// do not exist: built-ins apply.
	for _, path := range [][]string{{"gov"}, {"pg_catalog", "evil", "gov"}, {"nosuch", "pg_catalog", "gov"}, {"$user", "gov"}} {
		env := testEnv()
		env.SearchPath = path
		f := analyzeOne(t, "SELECT lower(name) FROM person WHERE id = 1", env)
		if len(f.UnknownFunctions) != 0 || f.Outputs[0].Lineage.Unknown || f.Reads[0].String() != "gov.person" {
			t.Errorf("path %v: %v %v", path, f.UnknownFunctions, f.Reads)
		}
	}
	// The first schema that has the relation wins; "$user" is the user.
	env := testEnv()
	env.SearchPath = []string{"public", "gov"}
	if f := analyzeOne(t, "SELECT * FROM person", env); f.Reads[0].String() != "public.person" {
		t.Errorf("public first: %v", f.Reads)
	}
	env.SearchPath, env.User = []string{"$user", "public"}, "gov"
	if f := analyzeOne(t, "SELECT * FROM person", env); f.Reads[0].String() != "gov.person" {
		t.Errorf("$user: %v", f.Reads)
	}
	// After a SET in the same text the path is unknown (as the engine does).
	list, err := analyzeText("SET search_path = evil, pg_catalog; SELECT lower(name) FROM gov.person", testEnv())
	if err != nil || len(list) != 2 || len(list[1].Unsupported) == 0 {
		t.Errorf("SET then SELECT: %v", list)
	}
}

func TestFunctionsAndOperators(t *testing.T) {
	tests := []struct {
		sql            string
		unknown, known []string
		outputUnknown  bool
		shapingUnknown bool
	}{
		{"SELECT gov.mask(id_card) FROM person", []string{"gov.mask"}, nil, true, false},
		{"SELECT my_func(1)", []string{"my_func"}, nil, true, false},
		{"SELECT public.lower(name) FROM person", []string{"public.lower"}, nil, true, false},
		{"SELECT pg_catalog.lower(name) FROM person", nil, []string{"pg_catalog.lower"}, false, false},
		{"SELECT lower(name), format_type(1, 2), pg_get_viewdef(1), now(), count(*) FROM person", nil,
			[]string{"count", "format_type", "lower", "now", "pg_get_viewdef"}, false, false},
		{"SELECT name FROM person WHERE phone <=> 'x'", []string{"operator <=>"}, nil, false, true},
		{"SELECT name FROM person WHERE id OPERATOR(evil.=) 1", []string{"operator(evil.=)"}, nil, false, true},
		{"SELECT name FROM person WHERE id OPERATOR(pg_catalog.=) 1", nil, nil, false, false},
		{"SELECT id::evil.t FROM person", []string{"type evil.t"}, nil, true, false},
		{"SELECT name FROM person WHERE gov.check(id_card)", []string{"gov.check"}, nil, false, true},
		{"SELECT * FROM gov.people()", []string{"gov.people"}, nil, true, true},
		{"SELECT 1 FROM person TABLESAMPLE evil_method (1)", []string{"tablesample evil_method"}, nil, false, false},
		{"CALL gov.proc()", []string{"gov.proc"}, nil, false, false},
	}
	for _, tc := range tests {
		f := analyzeOne(t, tc.sql, testEnv())
		for _, u := range tc.unknown {
			if !slices.Contains(f.UnknownFunctions, u) {
				t.Errorf("%s: unknown functions %v, want %s", tc.sql, f.UnknownFunctions, u)
			}
		}
		if len(tc.unknown) == 0 && len(f.UnknownFunctions) > 0 {
			t.Errorf("%s: unexpected unknown functions %v", tc.sql, f.UnknownFunctions)
		}
		for _, k := range tc.known {
			if !slices.Contains(f.Functions, k) {
				t.Errorf("%s: functions %v, want %s", tc.sql, f.Functions, k)
			}
		}
		if len(f.Outputs) > 0 && f.Outputs[0].Lineage.Unknown != tc.outputUnknown {
			t.Errorf("%s: output lineage %v", tc.sql, f.Outputs[0].Lineage)
		}
		if f.ShapingUnknown != tc.shapingUnknown {
			t.Errorf("%s: shaping unknown %v", tc.sql, f.ShapingUnknown)
		}
	}
	// Every value through a function or operator is transformed.
	f := analyzeOne(t, "SELECT lower(id_card), id_card || 'x', id_card::text, id_card COLLATE \"C\", -id, coalesce(id_card, '') FROM person", testEnv())
	for i := range 4 {
		if !indirectOn(f, i, idCard) {
			t.Errorf("output %d not transformed: %v", i+1, f.Outputs[i].Lineage)
		}
	}
	if !indirectOn(f, 5, idCard) {
		t.Errorf("coalesce not transformed: %v", f.Outputs[5].Lineage)
	}
}

func TestShaping(t *testing.T) {
	type sh struct {
		col   string
		pos   facts.Position
		exact bool
	}
	tests := []struct {
		sql  string
		want []sh
	}{
		{"SELECT name FROM person WHERE id_card = '1'", []sh{{"id_card", facts.InWhere, true}}},
		{"SELECT name FROM person WHERE '1' = id_card", []sh{{"id_card", facts.InWhere, true}}},
		{"SELECT name FROM person WHERE id_card = $1", []sh{{"id_card", facts.InWhere, true}}},
		{"SELECT name FROM person WHERE id_card = $1::varchar", []sh{{"id_card", facts.InWhere, true}}},
		{"SELECT name FROM person WHERE id_card IN ('1', '2')", []sh{{"id_card", facts.InWhere, true}}},
		{"SELECT name FROM person WHERE id_card = ANY('{1,2}'::text[])", []sh{{"id_card", facts.InWhere, true}}},
		// A parameter's element count is not known when deciding: no lookup.
		{"SELECT name FROM person WHERE id_card = ANY($1)", []sh{{"id_card", facts.InWhere, false}}},
		{"SELECT name FROM person WHERE id_card LIKE '1%'", []sh{{"id_card", facts.InWhere, false}}},
		{"SELECT name FROM person WHERE id_card > '1'", []sh{{"id_card", facts.InWhere, false}}},
		{"SELECT name FROM person WHERE upper(id_card) = '1'", []sh{{"id_card", facts.InWhere, false}}},
		{"SELECT name FROM person WHERE id_card = name", []sh{{"id_card", facts.InWhere, false}, {"name", facts.InWhere, false}}},
		{"SELECT name FROM person WHERE id_card = ANY(ARRAY[name])", []sh{{"id_card", facts.InWhere, false}, {"name", facts.InWhere, false}}},
		{"SELECT p.name FROM person p JOIN household h ON h.member_id_card = p.id_card", []sh{{"id_card", facts.InJoin, false}}},
		{"SELECT p.name FROM person p JOIN household h ON p.id_card = '1' AND h.person_id = p.id", []sh{{"id_card", facts.InJoin, true}}},
		{"SELECT dept FROM person GROUP BY dept, id_card", []sh{{"id_card", facts.InGroupBy, false}}},
		{"SELECT dept FROM person GROUP BY dept HAVING max(id_card) = '1'", []sh{{"id_card", facts.InHaving, false}}},
		{"SELECT name FROM person ORDER BY id_card", []sh{{"id_card", facts.InOrderBy, false}}},
		{"SELECT id_card AS c FROM person ORDER BY c", []sh{{"id_card", facts.InOrderBy, false}}},
		{"SELECT name, id_card FROM person ORDER BY 2", []sh{{"id_card", facts.InOrderBy, false}}},
		{"SELECT DISTINCT id_card FROM person", []sh{{"id_card", facts.InDistinct, false}}},
		{"SELECT DISTINCT ON (id_card) name FROM person", []sh{{"id_card", facts.InDistinct, false}}},
		{"SELECT rank() OVER (ORDER BY id_card) FROM person", []sh{{"id_card", facts.InWindow, false}}},
		{"SELECT count(*) OVER (PARTITION BY id_card) FROM person", []sh{{"id_card", facts.InWindow, false}}},
		{"SELECT count(*) FILTER (WHERE id_card LIKE '1%') FROM person", []sh{{"id_card", facts.InWhere, false}}},
		{"SELECT string_agg(name, ',' ORDER BY id_card) FROM person", []sh{{"id_card", facts.InOrderBy, false}}},
		{"SELECT name FROM person LIMIT (SELECT length(id_card) FROM person WHERE id = 1)", []sh{{"id_card", facts.InLimit, false}}},
		{"SELECT id_card FROM person UNION SELECT member_id_card FROM household", []sh{{"id_card", facts.InDistinct, false}}},
		{"SELECT name FROM person p WHERE EXISTS (SELECT 1 FROM household h WHERE h.member_id_card = p.id_card)", []sh{{"id_card", facts.InWhere, false}}},
		{"SELECT * FROM person JOIN household USING (id) WHERE id = 1", []sh{{"id", facts.InWhere, true}, {"id", facts.InJoin, false}}},
		{"SELECT 1 FROM person p JOIN household h ON h.id = p.id WHERE p.id_card = '1' OR p.id_card IN ('2')", []sh{{"id_card", facts.InWhere, true}}},
		{"UPDATE person SET name = 'x' WHERE id_card LIKE '1%'", []sh{{"id_card", facts.InWhere, false}}},
		{"DELETE FROM person WHERE id_card = '1'", []sh{{"id_card", facts.InWhere, true}}},
		{"EXPLAIN SELECT 1 FROM person WHERE id_card < '2'", []sh{{"id_card", facts.InWhere, false}}},
	}
	for _, tc := range tests {
		f := analyzeOne(t, tc.sql, testEnv())
		for _, w := range tc.want {
			found := false
			for _, s := range f.Shaping {
				if s.Column.Table == "person" && s.Column.Column == w.col && s.Position == w.pos && s.ExactLookup == w.exact {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: shaping %+v, want %+v", tc.sql, f.Shaping, w)
			}
			if w.exact {
				continue
			}
			for _, s := range f.Shaping {
				if s.Column.Table == "person" && s.Column.Column == w.col && s.Position == w.pos && s.ExactLookup {
					t.Errorf("%s: %s wrongly an exact lookup", tc.sql, w.col)
				}
			}
		}
	}
	// Rows shaping inside a view is the definer's, not the user's.
	f := analyzeOne(t, "SELECT contact FROM person_contact WHERE pid = 1", testEnv())
	for _, s := range f.Shaping {
		if s.Column.Column == "dept" {
			t.Errorf("view's own WHERE recorded as the user's: %+v", f.Shaping)
		}
	}
	if f.ShapingUnknown {
		t.Error("view analysis leaked unknown shaping")
	}
}

func TestOrigins(t *testing.T) {
	type org struct{ db, table, col string }
	tests := []struct {
		sql  string
		want []org
	}{
		{"SELECT name, id_card FROM person", []org{{"gov", "person", "name"}, {"gov", "person", "id_card"}}},
		{"SELECT a FROM person AS p(a)", []org{{"gov", "person", "id"}}},
		{"SELECT id, name FROM person_public", []org{{"gov", "person_public", "id"}, {"gov", "person_public", "name"}}},
		{"SELECT card FROM nested_cards", []org{{"gov", "nested_cards", "card"}}},
		{"SELECT s.c FROM (SELECT id_card AS c FROM person) s", []org{{"gov", "person", "id_card"}}},
		{"SELECT s.c FROM (SELECT c FROM (SELECT id_card AS c FROM person) t) s", []org{{"gov", "person", "id_card"}}},
		{"WITH c AS (SELECT id_card FROM person) SELECT id_card FROM c", []org{{"gov", "person", "id_card"}}},
		{"WITH c(x) AS (SELECT name FROM person_public) SELECT x FROM c", []org{{"gov", "person_public", "name"}}},
		{"SELECT j.name FROM (person p JOIN household h ON h.person_id = p.id) j", []org{{"gov", "person", "name"}}},
		{"SELECT x.c FROM person p, LATERAL (SELECT p.id_card AS c) x", []org{{"gov", "person", "id_card"}}},
		{"SELECT relname FROM pg_class", []org{{"pg_catalog", "pg_class", "relname"}}},
		// Not predicted: computed values, merged USING columns, set
		// operations, VALUES, functions, recursive CTEs, whole rows.
		{"SELECT upper(name), id + 1, id::int FROM person", []org{{}, {}, {}}},
		{"SELECT id FROM person JOIN household USING (id)", []org{{}}},
		{"SELECT name FROM person UNION SELECT member_name FROM household", []org{{}}},
		{"SELECT s.name FROM (SELECT name FROM person UNION ALL SELECT name FROM person) s", []org{{}}},
		{"SELECT x FROM (VALUES (1)) v(x)", []org{{}}},
		{"SELECT g FROM generate_series(1, 3) g", []org{{}}},
		{"WITH RECURSIVE r(n) AS (SELECT id FROM person UNION ALL SELECT n FROM r) SELECT n FROM r", []org{{}}},
		{"SELECT p FROM person p", []org{{}}},
		{"SELECT (SELECT name FROM person LIMIT 1)", []org{{}}},
		{"INSERT INTO person (id) VALUES (1) RETURNING id_card", []org{{}}},
		{"COPY person (id_card) TO STDOUT", []org{{}}},
	}
	for _, tc := range tests {
		f := analyzeOne(t, tc.sql, testEnv())
		if len(f.Outputs) != len(tc.want) {
			t.Errorf("%s: %d outputs", tc.sql, len(f.Outputs))
			continue
		}
		for i, w := range tc.want {
			o := f.Outputs[i]
			if o.OrgDatabase != w.db || o.OrgTable != w.table || o.OrgColumn != w.col {
				t.Errorf("%s: output %d origin %s.%s.%s, want %s.%s.%s", tc.sql, i+1, o.OrgDatabase, o.OrgTable, o.OrgColumn, w.db, w.table, w.col)
			}
		}
	}
}

func TestViews(t *testing.T) {
	env := testEnv()
	f := analyzeOne(t, "SELECT card FROM person_cards WHERE id = 1", env)
	if c, ok := f.Outputs[0].Lineage.DirectColumn(); !ok || c != idCard {
		t.Errorf("view column: %v", f.Outputs[0].Lineage)
	}
	if !slices.Contains(f.Reads, facts.Object{Database: "gov", Name: "person_cards", View: true}) ||
		!slices.Contains(f.Reads, facts.Object{Database: "gov", Name: "person"}) {
		t.Errorf("view reads: %v", f.Reads)
	}
	f = analyzeOne(t, "SELECT card FROM nested_cards", env)
	if c, ok := f.Outputs[0].Lineage.DirectColumn(); !ok || c != idCard {
		t.Errorf("nested view: %v", f.Outputs[0].Lineage)
	}
	f = analyzeOne(t, "SELECT a FROM broken_view", env)
	if !f.Outputs[0].Lineage.Unknown {
		t.Errorf("broken view must be unknown: %v", f.Outputs[0].Lineage)
	}
	f = analyzeOne(t, "SELECT id FROM masked_view", env)
	if !slices.Contains(f.UnknownFunctions, "gov.mask") {
		t.Errorf("a view's unknown functions are the statement's: %v", f.UnknownFunctions)
	}
	f = analyzeOne(t, "SELECT contact FROM person_contact", env)
	if !indirectOn(f, 0, facts.Column{Database: "gov", Table: "person", Column: "phone"}) {
		t.Errorf("view expression: %v", f.Outputs[0].Lineage)
	}
	// A view's analysis is cached on the snapshot and shared by sessions.
	cat := govCatalog()
	env.Catalog = cat
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stmts, _ := Parse("SELECT card FROM nested_cards n JOIN person_public p ON p.id = 1")
			Analyze(stmts[0], env)
		}()
	}
	wg.Wait()
	v, _ := cat.Table("gov", "person_cards")
	if _, ok := v.Derived().(*viewLineage); !ok {
		t.Error("view analysis not cached")
	}
}

func TestStatements(t *testing.T) {
	type check func(*facts.Statement) bool
	flowTo := func(target facts.FlowTarget, col facts.Column) check {
		return func(f *facts.Statement) bool {
			for _, fl := range f.Flows {
				if _, ok := source(fl.Lineage, col); fl.Target == target && ok {
					return true
				}
			}
			return false
		}
	}
	unknownFlow := func(target facts.FlowTarget) check {
		return func(f *facts.Statement) bool {
			for _, fl := range f.Flows {
				if fl.Target == target && fl.Lineage.Unknown {
					return true
				}
			}
			return false
		}
	}
	unsupported := func(prefix string) check {
		return func(f *facts.Statement) bool {
			return slices.ContainsFunc(f.Unsupported, func(u string) bool { return strings.HasPrefix(u, prefix) })
		}
	}
	dangerous := func(name string) check {
		return func(f *facts.Statement) bool { return slices.Contains(f.Dangerous, name) }
	}
	directOutput := func(i int, col facts.Column) check {
		return func(f *facts.Statement) bool {
			if i >= len(f.Outputs) {
				return false
			}
			c, ok := f.Outputs[i].Lineage.DirectColumn()
			return ok && c == col
		}
	}
	phone := facts.Column{Database: "gov", Table: "person", Column: "phone"}
	tests := []struct {
		sql  string
		kind string
		ok   check
	}{
		{"INSERT INTO audit (note) SELECT id_card FROM person", "insert", flowTo(facts.ToTable, idCard)},
		{"INSERT INTO audit (note) VALUES ((SELECT id_card FROM person WHERE id = 1))", "insert", flowTo(facts.ToTable, idCard)},
		{"INSERT INTO audit (id, note) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET note = (SELECT phone FROM person LIMIT 1)", "insert", flowTo(facts.ToTable, phone)},
		{"INSERT INTO person (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET name = person.id_card", "insert", flowTo(facts.ToTable, idCard)},
		{"INSERT INTO person (id) VALUES (1) RETURNING id_card", "insert", directOutput(0, idCard)},
		{"UPDATE person SET name = id_card WHERE id = 1", "update", flowTo(facts.ToTable, idCard)},
		{"UPDATE audit a SET note = p.phone FROM person p WHERE p.id = a.id", "update", flowTo(facts.ToTable, phone)},
		{"UPDATE audit SET (id, note) = (SELECT id, id_card FROM person WHERE id = 1)", "update", flowTo(facts.ToTable, idCard)},
		{"UPDATE person SET name = 'x' WHERE id = 1 RETURNING id_card", "update", directOutput(0, idCard)},
		{"DELETE FROM person WHERE id = 1 RETURNING id_card", "delete", directOutput(0, idCard)},
		{"DELETE FROM person WHERE id = 1 RETURNING *", "delete", directOutput(2, idCard)},
		{"SELECT id_card INTO stash FROM person", "ddl", flowTo(facts.ToTable, idCard)},
		{"CREATE TABLE stash AS SELECT id_card FROM person", "ddl", flowTo(facts.ToTable, idCard)},
		{"CREATE MATERIALIZED VIEW m AS SELECT id_card FROM person", "ddl", flowTo(facts.ToTable, idCard)},
		{"CREATE TABLE x AS EXECUTE p1", "ddl", func(f *facts.Statement) bool { return f.Dynamic }},
		{"COPY (SELECT id_card FROM person) TO STDOUT", "copy", flowTo(facts.ToFile, idCard)},
		{"COPY person TO STDOUT", "copy", func(f *facts.Statement) bool { return flowTo(facts.ToFile, idCard)(f) && directOutput(2, idCard)(f) }},
		{"COPY person (id_card) TO STDOUT", "copy", directOutput(0, idCard)},
		// The row format as the server reads the options: a header only when
		// HEADER is on, whatever the spelling (data taken for a header would
		// be relayed unmasked).
		{"COPY person (id_card) TO STDOUT (FORMAT csv, HEADER)", "copy", func(f *facts.Statement) bool { return f.CopyOut.Header }},
		{"COPY person (id_card) TO STDOUT (FORMAT csv, HEADER 0)", "copy", func(f *facts.Statement) bool { return !f.CopyOut.Header }},
		{"COPY person (id_card) TO STDOUT (FORMAT csv, HEADER 'off')", "copy", func(f *facts.Statement) bool { return !f.CopyOut.Header }},
		{"COPY person (id_card) TO STDOUT (FORMAT csv, HEADER false)", "copy", func(f *facts.Statement) bool { return !f.CopyOut.Header }},
		{"COPY person (id_card) TO STDOUT WITH CSV HEADER", "copy", func(f *facts.Statement) bool {
			return f.CopyOut.Header && f.CopyOut.Format == "csv" && f.CopyOut.Delimiter == ',' && f.CopyOut.Unsupported == ""
		}},
		{"COPY person TO '/tmp/x'", "copy", dangerous("copy to server file/program")},
		{"COPY person TO PROGRAM 'nc x 1'", "copy", dangerous("copy to server file/program")},
		{"COPY audit FROM STDIN", "copy", unknownFlow(facts.ToTable)},
		{"COPY audit FROM '/etc/passwd'", "copy", dangerous("copy from server file/program")},
		{"WITH d AS (DELETE FROM person RETURNING id_card) SELECT * FROM d", "select", unsupported("data-modifying WITH")},
		{"WITH d AS (INSERT INTO audit VALUES (1) RETURNING *) SELECT 1", "select", unsupported("data-modifying WITH")},
		{"MERGE INTO audit a USING person p ON a.id = p.id WHEN MATCHED THEN UPDATE SET note = p.id_card", "merge", unsupported("MERGE")},
		{"SET ROLE admin", "set", unsupported("SET ROLE")},
		{"SET LOCAL ROLE admin", "set", unsupported("SET ROLE")},
		{"SET SESSION AUTHORIZATION admin", "set", unsupported("SET SESSION AUTHORIZATION")},
		{"RESET SESSION AUTHORIZATION", "set", unsupported("RESET SESSION AUTHORIZATION")},
		{"RESET ROLE", "set", unsupported("RESET ROLE")},
		{"RESET ALL", "set", unsupported("RESET ALL")},
		{"SET client_encoding TO 'SJIS'", "set", unsupported("SET client_encoding")},
		{"SET \"Client_Encoding\" TO 'SJIS'", "set", unsupported("SET client_encoding")},
		{"SET NAMES 'SJIS'", "set", unsupported("SET client_encoding")},
		{"SET standard_conforming_strings = off", "set", unsupported("SET standard_conforming_strings")},
		{"RESET standard_conforming_strings", "set", unsupported("RESET standard_conforming_strings")},
		{"SET search_path = evil, public", "set", func(f *facts.Statement) bool { return f.ChangesSession && len(f.Unsupported) == 0 && !f.SetsGlobal }},
		{"SET statement_timeout = 1000", "set", func(f *facts.Statement) bool { return f.ChangesSession && len(f.Unsupported) == 0 }},
		{"SHOW search_path", "show", func(f *facts.Statement) bool { return f.Show == "variables" }},
		{"SHOW ALL", "show", func(f *facts.Statement) bool { return f.Show == "variables" }},
		{"ALTER SYSTEM SET log_statement = 'all'", "other", unsupported("statement AlterSystemStmt")},
		{"DISCARD ALL", "discard", func(f *facts.Statement) bool { return f.ChangesSession }},
		{"ROLLBACK", "transaction", func(f *facts.Statement) bool { return f.ChangesSession }},
		{"ROLLBACK TO SAVEPOINT a", "transaction", func(f *facts.Statement) bool { return f.ChangesSession }},
		{"COMMIT", "transaction", func(f *facts.Statement) bool { return f.ChangesSession }},
		{"ROLLBACK PREPARED 'x'", "transaction", func(f *facts.Statement) bool { return f.ChangesSession }},
		{"BEGIN", "transaction", func(f *facts.Statement) bool { return !f.ChangesSession }},
		{"SAVEPOINT a", "transaction", func(f *facts.Statement) bool { return !f.ChangesSession }},
		{"EXPLAIN ANALYZE SELECT 1", "explain", func(f *facts.Statement) bool { return f.ExplainAnalyze && f.OutputsUnknown }},
		{"EXPLAIN (ANALYZE) SELECT 1", "explain", func(f *facts.Statement) bool { return f.ExplainAnalyze }},
		{"EXPLAIN (ANALYZE true) SELECT 1", "explain", func(f *facts.Statement) bool { return f.ExplainAnalyze }},
		{"EXPLAIN (ANALYZE on, BUFFERS) SELECT 1", "explain", func(f *facts.Statement) bool { return f.ExplainAnalyze }},
		{"EXPLAIN (ANALYZE false) SELECT 1", "explain", func(f *facts.Statement) bool { return !f.ExplainAnalyze }},
		{"EXPLAIN SELECT name FROM person WHERE id_card LIKE '1%'", "explain", func(f *facts.Statement) bool {
			return !f.ExplainAnalyze && len(f.Shaping) == 1 && !f.Shaping[0].ExactLookup && len(f.Reads) == 1
		}},
		{"EXPLAIN SELECT pg_sleep(1)", "explain", dangerous("pg_sleep")},
		{"EXPLAIN CREATE TABLE x AS SELECT 1", "explain", unsupported("EXPLAIN of a ddl")},
		{"PREPARE p (int) AS SELECT id_card FROM person WHERE id = $1", "prepare", func(f *facts.Statement) bool {
			return f.Prepared != nil && directOutput(0, idCard)(f.Prepared)
		}},
		{"PREPARE p AS SELECT pg_read_file('x')", "prepare", func(f *facts.Statement) bool { return f.Prepared != nil && dangerous("pg_read_file")(f.Prepared) }},
		{"EXECUTE p (1)", "execute", func(f *facts.Statement) bool { return f.Dynamic && f.OutputsUnknown }},
		{"DECLARE c CURSOR FOR SELECT id_card FROM person WHERE id = 1", "declare", func(f *facts.Statement) bool {
			return directOutput(0, idCard)(f) && f.HasWhere
		}},
		{"DECLARE \"C 1\" NO SCROLL CURSOR WITH HOLD FOR SELECT name FROM person", "declare", func(f *facts.Statement) bool {
			return f.Cursor == "C 1" && f.CursorHold && len(f.Outputs) == 1
		}},
		{"FETCH ALL FROM c", "fetch", func(f *facts.Statement) bool { return f.OutputsUnknown && f.Cursor == "c" && !f.CursorMove }},
		{"MOVE FORWARD 5 IN c", "fetch", func(f *facts.Statement) bool { return !f.OutputsUnknown && f.Cursor == "c" && f.CursorMove }},
		{"CLOSE c", "close", func(f *facts.Statement) bool { return len(f.Unsupported) == 0 && f.Cursor == "c" }},
		{"CLOSE ALL", "close", func(f *facts.Statement) bool { return f.Cursor == "" }},
		{"DO $$ BEGIN END $$", "do", func(f *facts.Statement) bool { return f.Dynamic }},
		{"CALL gov.p(1)", "call", func(f *facts.Statement) bool { return f.OutputsUnknown && slices.Contains(f.UnknownFunctions, "gov.p") }},
		{"NOTIFY ch, 'x'", "notify", func(f *facts.Statement) bool { return len(f.Unsupported) == 0 }},
		{"LOCK person", "lock", func(f *facts.Statement) bool { return len(f.Reads) == 1 }},
		{"DROP TABLE gov.person", "ddl", func(f *facts.Statement) bool { return len(f.Writes) == 1 && f.Writes[0].String() == "gov.person" }},
		{"VACUUM", "other", unsupported("statement VacuumStmt")},
	}
	for _, tc := range tests {
		f := analyzeOne(t, tc.sql, testEnv())
		if f.Kind != tc.kind || !tc.ok(f) {
			var b strings.Builder
			facts.Describe(&b, f, "  ")
			t.Errorf("%s: kind %s (want %s)\n%s", tc.sql, f.Kind, tc.kind, b.String())
		}
	}
}

func TestLimitsAndWhere(t *testing.T) {
	tests := []struct {
		sql        string
		where, has bool
		limit      int64
		literal    bool
	}{
		{"SELECT name FROM person", false, false, -1, false},
		{"SELECT name FROM person WHERE id = 1", true, false, -1, false},
		{"SELECT name FROM person LIMIT 10", false, true, 10, true},
		{"SELECT name FROM person LIMIT $1", false, true, -1, true},
		{"SELECT name FROM person LIMIT 2 + 3", false, true, -1, true},
		{"SELECT name FROM person FETCH FIRST 3 ROWS ONLY", false, true, 3, true},
		{"SELECT name FROM person FETCH FIRST ROW ONLY", false, true, 1, true},
		{"SELECT name FROM person ORDER BY dept FETCH FIRST 3 ROWS WITH TIES", false, true, -1, true},
		{"SELECT name FROM person LIMIT ALL", false, false, -1, true},
		{"SELECT name FROM person OFFSET 10", false, false, -1, true},
		{"SELECT name FROM person ORDER BY 1", false, false, -1, true},
		{"SELECT dept FROM person GROUP BY 1", false, false, -1, true},
		{"SELECT * FROM (SELECT name FROM person LIMIT 1) s", false, false, -1, true},
		{"SELECT name FROM person WHERE id = 1 UNION SELECT name FROM person", false, false, -1, false},
		{"SELECT name FROM person WHERE id = 1 UNION SELECT name FROM person WHERE id = 2 LIMIT 5", true, true, 5, true},
		{"UPDATE person SET name = 'x'", false, false, -1, false},
		{"DELETE FROM person WHERE id = 1", true, false, -1, false},
	}
	for _, tc := range tests {
		f := analyzeOne(t, tc.sql, testEnv())
		if f.HasWhere != tc.where || f.HasLimit != tc.has || f.Limit != tc.limit || f.LiteralDependent != tc.literal {
			t.Errorf("%s: where=%v limit=%v/%d literal=%v", tc.sql, f.HasWhere, f.HasLimit, f.Limit, f.LiteralDependent)
		}
	}
}

func TestLineageConstructs(t *testing.T) {
	person := func(c string) facts.Column { return facts.Column{Database: "gov", Table: "person", Column: c} }
	member := facts.Column{Database: "gov", Table: "household", Column: "member_id_card"}
	tests := []struct {
		sql    string
		output int
		direct []facts.Column
		via    []facts.Column
	}{
		{"SELECT name FROM person UNION SELECT member_id_card FROM household", 0, []facts.Column{person("name"), member}, nil},
		{"WITH RECURSIVE r(a, b) AS (SELECT 1, id_card FROM person UNION ALL SELECT b, a::text FROM r) SELECT a FROM r", 0, []facts.Column{idCard}, []facts.Column{idCard}},
		{"WITH RECURSIVE c(x) AS (SELECT id_card FROM person UNION SELECT h.member_id_card FROM household h JOIN c ON c.x = h.member_id_card) SELECT x FROM c", 0, []facts.Column{idCard, member}, nil},
		{"SELECT (SELECT max(id_card) FROM person p2 WHERE p2.id = p.id) FROM person p", 0, nil, []facts.Column{idCard}},
		{"SELECT x.c FROM person p, LATERAL (SELECT p.id_card AS c) x", 0, []facts.Column{idCard}, nil},
		{"SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY id_card) FROM person", 0, nil, []facts.Column{idCard}},
		{"SELECT column1 FROM (VALUES ((SELECT id_card FROM person LIMIT 1))) v", 0, nil, []facts.Column{idCard}},
		{"SELECT v FROM person p, unnest(ARRAY[p.id_card]) AS u(v)", 0, nil, []facts.Column{idCard}},
		{"SELECT id FROM person FULL JOIN household USING (id)", 0, nil, []facts.Column{person("id")}},
		{"SELECT CASE WHEN id_card LIKE '1%' THEN 1 END FROM person", 0, nil, []facts.Column{idCard}},
		{"SELECT ARRAY(SELECT id_card FROM person)", 0, nil, []facts.Column{idCard}},
		{"SELECT json_object('k' VALUE id_card) FROM person", 0, nil, []facts.Column{idCard}},
		{"SELECT xmlelement(name x, id_card) FROM person", 0, nil, []facts.Column{idCard}},
		{"SELECT grp FROM (SELECT id_card AS grp FROM person GROUP BY 1) s", 0, []facts.Column{idCard}, nil},
	}
	for _, tc := range tests {
		f := analyzeOne(t, tc.sql, testEnv())
		if tc.output >= len(f.Outputs) {
			t.Errorf("%s: %d outputs", tc.sql, len(f.Outputs))
			continue
		}
		lin := f.Outputs[tc.output].Lineage
		for _, c := range tc.direct {
			if !slices.ContainsFunc(lin.Sources, func(s facts.Source) bool { return s.Column == c && s.Direct }) {
				t.Errorf("%s: %v lacks direct %s", tc.sql, lin, c)
			}
		}
		for _, c := range tc.via {
			if !slices.ContainsFunc(lin.Sources, func(s facts.Source) bool { return s.Column == c && !s.Direct }) {
				t.Errorf("%s: %v lacks transformed %s", tc.sql, lin, c)
			}
		}
		if lin.Unknown {
			t.Errorf("%s: unexpected unknown lineage %v", tc.sql, lin)
		}
	}
	// Unknown relations and columns are unknown lineage, never constants.
	for _, sql := range []string{
		"SELECT x FROM nowhere",
		"SELECT nosuchcolumn FROM person",
		"SELECT * FROM gov.nowhere",
		"SELECT (SELECT id_card FROM nowhere) FROM person",
		"SELECT q.x FROM person p JOIN nowhere q ON true",
		"SELECT id_card FROM person NATURAL JOIN nowhere",
		"SELECT a FROM gov.people() AS f",
	} {
		f := analyzeOne(t, sql, testEnv())
		if len(f.Outputs) == 0 || !f.Outputs[0].Lineage.Unknown {
			t.Errorf("%s: %+v", sql, f.Outputs)
		}
	}
	// A name unknown in a subquery's own relations resolves outward; a
	// relation of unknown columns might have it, so it is unknown too.
	f := analyzeOne(t, "SELECT (SELECT id_card FROM gov.people() g LIMIT 1) FROM person", testEnv())
	if !f.Outputs[0].Lineage.Unknown {
		t.Errorf("outer reference through unknown relation: %v", f.Outputs[0].Lineage)
	}
	f = analyzeOne(t, "SELECT (SELECT id_card FROM household LIMIT 1) FROM person", testEnv())
	if !indirectOn(f, 0, idCard) {
		t.Errorf("correlated reference: %v", f.Outputs[0].Lineage)
	}
}

func TestNeverNil(t *testing.T) {
	for _, s := range []Statement{
		{},
		{Kind: "select"},
		{Text: "SELECT 1"},
		{Text: "SELEC nonsense"},
	} {
		f := Analyze(s, Env{})
		if f == nil {
			t.Fatalf("%+v: nil", s)
		}
	}
	f := Analyze(Statement{Text: "SELECT id_card FROM gov.person"}, testEnv())
	if f.Kind != "select" || len(f.Outputs) != 1 {
		t.Errorf("statement without a tree: %+v", f)
	}
	if f := Analyze(Statement{Kind: "select"}, testEnv()); len(f.Unsupported) == 0 {
		t.Error("a statement without a tree must not be understood")
	}
	// Nothing in the catalog: everything unknown, nothing panics.
	f = Analyze(Statement{Text: "SELECT * FROM person p JOIN household h USING (id) WHERE p.id = 1"}, Env{SearchPath: []string{"gov"}, SearchPathKnown: true})
	if !f.OutputsUnknown {
		t.Errorf("empty catalog: %+v", f)
	}
}

func TestDeterministic(t *testing.T) {
	cases := readGoldenCases(t, "testdata/statements.sql")
	for _, c := range cases {
		a, err := analyzeText(c.sql, c.env)
		if err != nil {
			continue
		}
		b, _ := analyzeText(c.sql, c.env)
		var sa, sb strings.Builder
		for i := range a {
			facts.Describe(&sa, a[i], "")
			facts.Describe(&sb, b[i], "")
		}
		if sa.String() != sb.String() {
			t.Errorf("%s: not deterministic", c.sql)
		}
	}
}

func TestTooComplex(t *testing.T) {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i := range 5000 {
		if i > 0 {
			b.WriteString(" + ")
		}
		b.WriteString("(SELECT id FROM person WHERE id = 1)")
	}
	f := Analyze(Statement{Text: b.String()}, testEnv())
	if f == nil {
		t.Fatal("nil")
	}
	// Either fully analysed or refused as too complex, never a panic.
	for _, u := range f.Unsupported {
		if strings.HasPrefix(u, "analyser failure") {
			t.Fatal(u)
		}
	}
	// Deeply nested recursive CTEs stay bounded.
	nested := "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n FROM r) SELECT n FROM r"
	for range 6 {
		nested = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n FROM r, (" + nested + ") x) SELECT n FROM r"
	}
	if f := Analyze(Statement{Text: nested}, testEnv()); f == nil {
		t.Fatal("nil")
	}
}

func TestParseKinds(t *testing.T) {
	for sql, kind := range map[string]string{
		"SELECT 1 INTO t":                                      "ddl",
		"CREATE TABLE t AS SELECT 1":                           "ddl",
		"CREATE MATERIALIZED VIEW m AS SELECT 1":               "ddl",
		"REFRESH MATERIALIZED VIEW m":                          "ddl",
		"ALTER SYSTEM SET x = 1":                               "other",
		"COMMENT ON TABLE t IS 'x'":                            "ddl",
		"ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO x": "grant",
	} {
		stmts, err := Parse(sql)
		if err != nil || len(stmts) != 1 || stmts[0].Kind != kind || stmts[0].Node == nil {
			t.Errorf("%s: %+v %v", sql, stmts, err)
		}
	}
	for sql, changes := range map[string]bool{"ROLLBACK": true, "COMMIT": true, "BEGIN": false, "DO $$ $$": true, "SET x = 1": true} {
		stmts, _ := Parse(sql)
		if len(stmts) != 1 || stmts[0].ChangesSession != changes {
			t.Errorf("%s: %+v", sql, stmts)
		}
	}
}

// TestRowCountChannels: whatever decides how many rows come back shapes
// the result, so a hidden column used there is refused even when no output
// reads it.
func TestRowCountChannels(t *testing.T) {
	for _, sql := range []string{
		"SELECT count(*) FROM person p, generate_series(1, ascii(substr(p.id_card, 1, 1))) g WHERE p.id = 1",
		"SELECT count(*) FROM (SELECT generate_series(1, length(id_card)) FROM person WHERE id = 1) s",
		"SELECT count(*) FROM person p JOIN LATERAL regexp_split_to_table(p.id_card, '') x ON true WHERE p.id = 1",
		"SELECT count(*) FROM person p, LATERAL (SELECT 1 FROM generate_series(1, length(p.id_card))) x WHERE p.id = 1",
		"SELECT count(*) FROM person p, unnest(string_to_array(p.id_card, NULL)) x WHERE p.id = 1",
		"SELECT count(*) FROM person WHERE id = 1 AND id_card LIKE '11%'",
		"SELECT count(*) FROM (SELECT DISTINCT substr(id_card, 1, 3) FROM person) s",
		"SELECT count(*) FROM (SELECT rank() OVER (ORDER BY id_card) r FROM person) s WHERE r = 1",
		"SELECT name FROM person WHERE id = 1 LIMIT length((SELECT id_card FROM person WHERE id = 1))",
		"SELECT count(*) FROM (SELECT name FROM person EXCEPT SELECT name FROM person WHERE id_card > '5') s",
		"WITH RECURSIVE r(n, c) AS (SELECT 1, id_card FROM person WHERE id = 1 UNION ALL SELECT n + 1, c FROM r WHERE n < length(c)) SELECT count(*) FROM r",
	} {
		f := analyzeOne(t, sql, testEnv())
		if !slices.ContainsFunc(f.Shaping, func(s facts.Shaping) bool { return s.Column == idCard && !s.ExactLookup }) {
			t.Errorf("%s: id_card not recorded as row shaping: %+v", sql, f.Shaping)
		}
	}
}
