package rules

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules/catalog"
)

func newTestEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := NewEngine(loadTestPolicy(t), govCatalog(), testMasks, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestCatalogueForClerk states, for the role that sees personal data
// masked, the decision on the catalogue's examples. The golden file holds
// the full picture; this table is the specification it must agree with.
func TestCatalogueForClerk(t *testing.T) {
	e := newTestEngine(t)
	tests := []struct {
		desc     string
		sql      string
		mode     SQLMode
		want     Outcome
		wantKind fault.Kind // refusal kind when not allowed
		masked   []int      // 1-based output columns that must be masked when allowed
	}{
		{desc: "lookup by id, masked", sql: "SELECT name, id_card, phone FROM person WHERE id = 7", want: Allow, masked: []int{1, 2, 3}},
		{desc: "1: alias", sql: "SELECT id_card AS x FROM person WHERE id = 7", want: Allow, masked: []int{1}},
		{desc: "1: CTE column list", sql: "WITH c(x) AS (SELECT id_card FROM person WHERE id = 7) SELECT x FROM c", want: Allow, masked: []int{1}},
		{desc: "1: view renaming", sql: "SELECT id, card FROM v_person WHERE id = 7", want: Allow, masked: []int{2}},
		{desc: "1: view over view", sql: "SELECT card FROM v_nested LIMIT 5", want: Allow, masked: []int{1}},
		{desc: "1: view computing", sql: "SELECT contact FROM v_contact WHERE pid = 7", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "2: CONCAT", sql: "SELECT CONCAT(id_card, '') FROM person WHERE id = 7", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "2: arithmetic", sql: "SELECT id_card + 0 FROM person WHERE id = 7", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "2: CAST", sql: "SELECT CAST(phone AS CHAR) FROM person WHERE id = 7", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "2: JSON_OBJECT", sql: "SELECT JSON_OBJECT('a', id_card) FROM person WHERE id = 7", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "2: COLLATE", sql: "SELECT id_card COLLATE utf8mb4_bin FROM person WHERE id = 7", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "3: scalar subquery", sql: "SELECT (SELECT id_card FROM person WHERE id = 7) AS s", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "3: derived table star", sql: "SELECT * FROM (SELECT * FROM person) d WHERE id = 7", want: Allow, masked: []int{2, 3, 4, 5, 6, 7}},
		{desc: "4: UNION mixing name and id_card", sql: "SELECT name FROM person WHERE id = 7 UNION ALL SELECT id_card FROM person WHERE id = 8", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "5: NATURAL JOIN", sql: "SELECT * FROM person NATURAL JOIN dept WHERE person.id = 7", want: Allow, masked: []int{2, 3, 4, 5, 6, 7}},
		{desc: "5: TABLE", sql: "TABLE person", want: NeedsApproval, wantKind: fault.ApprovalRequired},
		{desc: "6: MAX", sql: "SELECT MAX(id_card) FROM person", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "6: GROUP_CONCAT", sql: "SELECT GROUP_CONCAT(phone) FROM person", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "6: LAG", sql: "SELECT LAG(phone) OVER () FROM person", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "7: LIKE", sql: "SELECT id FROM person WHERE id_card LIKE '1101051949%'", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "7: ORDER BY", sql: "SELECT id FROM person ORDER BY id_card LIMIT 10", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "7: ORDER BY position", sql: "SELECT id, id_card FROM person WHERE id < 9 ORDER BY 2", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "7: GROUP BY SUBSTR", sql: "SELECT COUNT(*) FROM person GROUP BY SUBSTR(id_card,7,1)", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "7: DISTINCT", sql: "SELECT DISTINCT phone FROM person WHERE id < 9", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "7: window partition", sql: "SELECT ROW_NUMBER() OVER (PARTITION BY phone) FROM person WHERE id < 9", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "7: exact lookup", sql: "SELECT id, name FROM person WHERE id_card = '110105194912310025'", want: Allow, masked: []int{2}},
		{desc: "7: IN lookup", sql: "SELECT id FROM person WHERE phone IN ('13800138000', '13900139000')", want: Allow},
		{desc: "7: IN search over 11 candidates", sql: "SELECT id FROM person WHERE id_card IN ('1','2','3','4','5','6','7','8','9','10','11')", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "7: OR chain of 6 and IN of 5 on one column", sql: "SELECT id FROM person WHERE phone = '1' OR phone = '2' OR phone = '3' OR phone = '4' OR phone = '5' OR phone = '6' OR phone IN ('7','8','9','10','11')", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "8: error oracle in an unreturned derived column", sql: "SELECT id FROM (SELECT id, IF(SUBSTR(id_card, 7, 1) = '1', EXP(1000), 0) AS x FROM person WHERE id = 7) d", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "8: error oracle in EXISTS", sql: "SELECT EXISTS (SELECT MAX(IF(SUBSTR(id_card, 7, 1) = '1', EXP(1000), 0)) FROM person WHERE id = 7)", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "8: a masked column read as it is in a derived table", sql: "SELECT x FROM (SELECT id_card AS x FROM person WHERE id = 7) d", want: Allow, masked: []int{1}},
		{desc: "7: ten values still look up", sql: "SELECT id FROM person WHERE id_card IN ('1','2','3','4','5','6','7','8','9','10')", want: Allow},
		{desc: "8: ExtractValue", sql: "SELECT ExtractValue(1, CONCAT(0x7e, (SELECT id_card FROM person WHERE id = 7)))", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "8: SHOW WARNINGS", sql: "SHOW WARNINGS", want: Deny, wantKind: fault.StatementDenied},
		{desc: "8: SET sql_mode from a column", sql: "SET sql_mode = (SELECT id_card FROM person WHERE id = 7)", want: Deny, wantKind: fault.StatementDenied},
		{desc: "9: @v :=", sql: "SELECT @v := id_card FROM person WHERE id = 7", want: Deny, wantKind: fault.StatementDenied},
		{desc: "9: SET @v", sql: "SET @v = (SELECT phone FROM person WHERE id = 7)", want: Deny, wantKind: fault.StatementDenied},
		{desc: "10: INSERT SELECT", sql: "INSERT INTO mine SELECT phone, 1 FROM person", want: Deny, wantKind: fault.StatementDenied},
		{desc: "10: CTAS", sql: "CREATE TABLE c AS SELECT id_card FROM person", want: Deny, wantKind: fault.StatementDenied},
		{desc: "11: INTO OUTFILE", sql: "SELECT id_card FROM person INTO OUTFILE '/tmp/x'", want: NeedsApproval, wantKind: fault.ApprovalRequired},
		{desc: "11: LOAD_FILE", sql: "SELECT LOAD_FILE('/etc/passwd')", want: Deny, wantKind: fault.StatementDenied},
		{desc: "12: CALL", sql: "CALL get_person(7)", want: Deny, wantKind: fault.StatementDenied},
		{desc: "12: stored function", sql: "SELECT get_name(7)", want: Deny, wantKind: fault.StatementDenied},
		{desc: "13: PREPARE FROM @s", sql: "PREPARE p FROM @s", want: Deny, wantKind: fault.StatementDenied},
		{desc: "13: PREPARE literal", sql: "PREPARE p FROM 'SELECT CONCAT(id_card, '''') FROM person WHERE id = ?'", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "13: EXECUTE IMMEDIATE", sql: "EXECUTE IMMEDIATE 'SELECT id_card FROM person'", want: Deny, wantKind: fault.StatementDenied},
		{desc: "15: second statement", sql: "SELECT 1; SELECT CONCAT(id_card, '') FROM person WHERE id = 7", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "16: /*M! hidden column is masked", sql: "SELECT name /*M!, id_card */ FROM person WHERE id = 7", want: Allow, masked: []int{1, 2}},
		{desc: "16: /*!99999 LIMIT is not a LIMIT", sql: "SELECT name FROM person /*!99999 LIMIT 1 */", want: NeedsApproval, wantKind: fault.ApprovalRequired},
		{desc: "17: NO_BACKSLASH_ESCAPES", sql: `SELECT 'a\' AS a, CONCAT(id_card, '') FROM person WHERE id = 7 -- '`, mode: ModeNoBackslashEscapes, want: Deny, wantKind: fault.ColumnDenied},
		{desc: "17: ANSI_QUOTES", sql: `SELECT CONCAT("id_card") FROM person WHERE id = 7`, mode: ModeANSIQuotes, want: Deny, wantKind: fault.ColumnDenied},
		{desc: "17: PIPES_AS_CONCAT", sql: `SELECT name || id_card FROM person WHERE id = 7`, mode: ModePipesAsConcat, want: Deny, wantKind: fault.ColumnDenied},
		{desc: "17: mode change then statement", sql: "SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SELECT 1", want: Allow, wantKind: fault.StatementDenied},
		{desc: "19: unknown table", sql: "SELECT name FROM PERSON WHERE id = 7", want: Deny, wantKind: fault.ColumnDenied},
		{desc: "21: processlist", sql: "SELECT * FROM information_schema.processlist", want: Deny, wantKind: fault.TableDenied},
		{desc: "21: mysql.user", sql: "SELECT * FROM mysql.user", want: Deny, wantKind: fault.TableDenied},
		{desc: "24: bulk read", sql: "SELECT * FROM person", want: NeedsApproval, wantKind: fault.ApprovalRequired},
		{desc: "24: LIMIT within the cap", sql: "SELECT name FROM person LIMIT 100", want: Allow, masked: []int{1}},
		{desc: "table deny", sql: "SELECT x FROM mine", want: Deny, wantKind: fault.TableDenied},
		{desc: "DDL", sql: "DROP TABLE mine", want: Deny, wantKind: fault.StatementDenied},
		{desc: "statement kind not listed", sql: "UPDATE person SET dept = 3 WHERE id = 7", want: Deny, wantKind: fault.StatementDenied},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			sess := mariaSession("clerk")
			sess.SQLMode = tc.mode
			v := e.CheckMySQL(sess, tc.sql)
			last := v.Statements[len(v.Statements)-1]
			if tc.wantKind != 0 {
				if v.Refusal == nil || v.Refusal.Kind != tc.wantKind {
					t.Fatalf("refusal %v, want kind %v", v.Refusal, tc.wantKind)
				}
				if v.Forward != "" {
					t.Errorf("a refused text is forwarded: %q", v.Forward)
				}
				if last.Outcome != tc.want {
					t.Errorf("outcome %v, want %v", last.Outcome, tc.want)
				}
				return
			}
			if v.Refusal != nil || last.Outcome != Allow {
				t.Fatalf("refused: %v (%s)", v.Refusal, last.Reason)
			}
			masked := map[int]bool{}
			for _, c := range tc.masked {
				masked[c] = true
			}
			// The clerk hides columns, so every predictable result carries a
			// plan (for the origin cross-check); only masked columns have a masker.
			if len(tc.masked) > 0 && last.Columns == nil {
				t.Errorf("columns need masking, but there is no plan")
			}
			for i, c := range last.Columns {
				if (c.Masker != nil) != masked[i+1] {
					t.Errorf("column %d masked=%v, want %v", i+1, c.Masker != nil, masked[i+1])
				}
			}
			if len(tc.masked) > 0 && len(last.Columns) < tc.masked[len(tc.masked)-1] {
				t.Errorf("plan has %d columns, want at least %d", len(last.Columns), tc.masked[len(tc.masked)-1])
			}
			if last.PolicyVersion != "test-1" || last.Rule == "" || last.Reason == "" {
				t.Errorf("decision not stamped: %+v", last)
			}
		})
	}
}

func TestAdmit(t *testing.T) {
	e := newTestEngine(t)
	tests := []struct {
		desc string
		user string
		addr string
		ok   bool
	}{
		{desc: "clerk from loopback", user: "clerk", addr: "127.0.0.1", ok: true},
		{desc: "clerk pattern from IPv6 loopback", user: "clerk_7", addr: "::1", ok: true},
		{desc: "clerk from IPv4-mapped loopback", user: "clerk", addr: "::ffff:127.0.0.2", ok: true},
		{desc: "clerk from elsewhere", user: "clerk", addr: "203.0.113.9"},
		{desc: "officer has no allowlist", user: "officer", addr: "203.0.113.9", ok: true},
		{desc: "unknown user gets the default role", user: "someone", addr: "203.0.113.9", ok: true},
	}
	for _, tc := range tests {
		err := e.Admit(tc.user, netip.MustParseAddr(tc.addr))
		if (err == nil) != tc.ok {
			t.Errorf("%s: Admit = %v, want ok=%v", tc.desc, err, tc.ok)
		}
		if err != nil && err.Kind != fault.HostNotAllowed {
			t.Errorf("%s: kind %v, want HostNotAllowed", tc.desc, err.Kind)
		}
	}
}

func TestMonitorRoleDoesNotBlockOrMask(t *testing.T) {
	e := newTestEngine(t)
	v := e.CheckMySQL(mariaSession("monitor"), "SELECT CONCAT(id_card, '') FROM person WHERE id = 7")
	sv := v.Statements[0]
	if v.Refusal != nil || v.Forward == "" || !sv.Monitor || sv.Outcome != Deny || sv.Columns != nil {
		t.Errorf("monitor verdict %+v / %+v: want forwarded, outcome deny recorded, no plan", v, sv)
	}
}

func TestReloadSwapsPolicy(t *testing.T) {
	e := newTestEngine(t)
	sess := mariaSession("clerk")
	if v := e.CheckMySQL(sess, "SELECT x FROM mine"); v.Refusal == nil {
		t.Fatal("mine is denied to clerk under the test policy")
	}
	p := loadTestPolicy(t)
	p.Version = "test-2"
	p.Roles["clerk"].Tables.Deny = nil
	if err := e.Reload(p); err != nil {
		t.Fatal(err)
	}
	v := e.CheckMySQL(sess, "SELECT x FROM mine")
	if v.Refusal != nil || v.Statements[0].PolicyVersion != "test-2" {
		t.Errorf("after reload: %v, version %s", v.Refusal, v.Statements[0].PolicyVersion)
	}
	bad := loadTestPolicy(t)
	bad.DefaultRole = "nobody"
	if err := e.Reload(bad); err == nil {
		t.Error("Reload accepted an invalid policy")
	}
	if v := e.CheckMySQL(sess, "SELECT x FROM mine"); v.Statements[0].PolicyVersion != "test-2" {
		t.Error("a failed reload replaced the policy")
	}
}

func TestRefreshCatalog(t *testing.T) {
	e, err := NewEngine(loadTestPolicy(t), catalog.New(catalog.Options{}, nil), testMasks, nil)
	if err != nil {
		t.Fatal(err)
	}
	sess := mariaSession("clerk")
	if v := e.CheckMySQL(sess, "SELECT name FROM person WHERE id = 7"); v.Refusal == nil {
		t.Fatal("with an empty catalog the table is unknown and must be refused")
	}
	if err := e.RefreshCatalog(context.Background()); err == nil {
		t.Error("RefreshCatalog without a loader must fail")
	}
	e.SetCatalogLoader(func(context.Context) (*catalog.Catalog, error) { return govCatalog(), nil })
	e.MarkCatalogStale()
	if !e.CatalogStale() {
		t.Error("MarkCatalogStale not recorded")
	}
	if err := e.RefreshCatalog(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.CatalogStale() {
		t.Error("refresh did not clear the stale mark")
	}
	v := e.CheckMySQL(sess, "SELECT name FROM person WHERE id = 7")
	if v.Refusal != nil || v.Statements[0].Columns == nil {
		t.Errorf("after refresh: %v, plan %v", v.Refusal, v.Statements[0].Columns)
	}
}

func TestCacheIsPerRoleAndBounded(t *testing.T) {
	e := newTestEngine(t)
	officer := e.CheckMySQL(mariaSession("officer"), "SELECT name FROM person WHERE id = 1")
	clerk := e.CheckMySQL(mariaSession("clerk"), "SELECT name FROM person WHERE id = 2")
	if officer.Statements[0].Columns != nil || clerk.Statements[0].Columns == nil {
		t.Error("a decision was shared across roles")
	}
	c := newDecisionCache(4096)
	for i := 0; i < 200; i++ {
		c.put(strings.Repeat("k", 10)+string(rune('a'+i%26))+strings.Repeat("x", i), &cacheEntry{statements: []StatementVerdict{{}}})
	}
	if c.bytes > 4096 {
		t.Errorf("cache holds %d bytes, bound 4096", c.bytes)
	}
}

func TestExplain(t *testing.T) {
	e := newTestEngine(t)
	var b bytes.Buffer
	if err := Explain(&b, e, mariaSession("clerk"), "SELECT id_card AS x, CONCAT(phone, '') FROM person WHERE id = 7"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"role clerk", "refused: column_denied (MySQL error 1143, SQLSTATE 42000)", "rule transformed_masked_column",
		`output 1 "x": gov.person.id_card`, "gov.person.phone via concat"} {
		if !strings.Contains(out, want) {
			t.Errorf("explanation lacks %q:\n%s", want, out)
		}
	}
}

func TestCheck(t *testing.T) {
	data, err := os.ReadFile("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Check(&b, data, "policy.yaml", testMasks); err != nil || !strings.Contains(b.String(), "ok") {
		t.Errorf("Check = %v: %s", err, b.String())
	}
	b.Reset()
	bad := strings.Replace(string(data), "row_cap: 100", "row_cap: 100\n      rowcap: 1", 1)
	if err := Check(&b, []byte(bad), "policy.yaml", testMasks); err == nil || !strings.HasPrefix(b.String(), "policy.yaml:") {
		t.Errorf("Check = %v: %s", err, b.String())
	}
}

func TestKeepCatalogFreshRefreshesWhenStale(t *testing.T) {
	e, err := NewEngine(loadTestPolicy(t), catalog.New(catalog.Options{}, nil), testMasks, nil)
	if err != nil {
		t.Fatal(err)
	}
	loaded := make(chan struct{}, 1)
	e.SetCatalogLoader(func(context.Context) (*catalog.Catalog, error) {
		select {
		case loaded <- struct{}{}:
		default:
		}
		return govCatalog(), nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.KeepCatalogFresh(ctx, time.Hour)
	e.MarkCatalogStale()
	select {
	case <-loaded:
	case <-time.After(5 * time.Second):
		t.Fatal("a stale catalog was not refreshed")
	}
}

// TestConcurrentChecksAndReloads runs sessions in parallel with policy
// reloads and catalog refreshes (meaningful under -race).
func TestConcurrentChecksAndReloads(t *testing.T) {
	e := newTestEngine(t)
	e.SetCatalogLoader(func(context.Context) (*catalog.Catalog, error) { return govCatalog(), nil })
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func(g int) {
			defer func() { done <- struct{}{} }()
			sess := mariaSession([]string{"clerk", "officer", "analyst", "dba"}[g])
			for i := 0; i < 200; i++ {
				v := e.CheckMySQL(sess, "SELECT name, id_card FROM person WHERE id = "+strconv.Itoa(i))
				if sess.User == "clerk" && (v.Refusal != nil || v.Statements[0].Columns[1].Masker == nil) {
					t.Errorf("clerk lost masking under concurrency: %v", v.Refusal)
					return
				}
			}
		}(g)
	}
	for i := 0; i < 20; i++ {
		if err := e.Reload(loadTestPolicy(t)); err != nil {
			t.Fatal(err)
		}
		if err := e.RefreshCatalog(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}
