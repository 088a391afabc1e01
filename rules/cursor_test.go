package rules

import (
	"context"
	"net/netip"
	"testing"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules/catalog"
)

// TestPostgresCursors: a DECLARE is decided like its query, and a FETCH by
// the DECLARE of its cursor: the session's completed ones, or one earlier
// in the same text; any other FETCH is refused.
func TestPostgresCursors(t *testing.T) {
	e := newTestEngine(t)
	e.SetPostgresCatalogLoader(func(context.Context, string) (*catalog.Catalog, error) { return govCatalog(), nil })
	newSess := func() *Session {
		return &Session{Protocol: ProtocolPostgres, User: "clerk", ClientAddr: netip.MustParseAddr("127.0.0.1"), Database: "gov",
			Charset: "UTF8", SearchPath: []string{"gov"}, SearchPathKnown: true}
	}
	const declare = "DECLARE c CURSOR FOR SELECT id, id_card FROM person WHERE dept = 3"
	sess := newSess()
	v := e.CheckPostgres(sess, declare)
	if v.Refusal != nil {
		t.Fatalf("DECLARE refused: %v", v.Refusal)
	}
	decl := v.Statements[0]
	if decl.CursorOp != CursorDeclare || decl.Cursor != "c" || len(decl.Columns) != 2 || decl.Columns[1].Masker == nil || decl.RowCap != 100 {
		t.Fatalf("DECLARE verdict %+v: want cursor c, id_card masked, row cap 100", decl)
	}

	if v := e.CheckPostgres(sess, "FETCH 10 FROM c"); v.Refusal == nil || v.Refusal.Kind != fault.StatementDenied {
		t.Errorf("FETCH from a cursor the session does not hold: %+v, want refused", v.Refusal)
	}
	sess.Cursors = map[string]*Cursor{"c": {Plan: decl, Rows: 30}}
	v = e.CheckPostgres(sess, "FETCH 10 FROM c")
	if v.Refusal != nil {
		t.Fatalf("FETCH refused: %v", v.Refusal)
	}
	if f := v.Statements[0]; f.Kind != "fetch" || f.CursorOp != CursorFetch || len(f.Columns) != 2 || f.Columns[1].Masker == nil ||
		f.RowCap != 70 || f.Normalized != "FETCH $1 FROM c" || f.Budget != decl.Budget {
		t.Errorf("FETCH verdict %+v: want the DECLARE's masks and the 70 rows left of the cap", f)
	}
	sess.Cursors["c"].Rows = 100
	if v := e.CheckPostgres(sess, "FETCH 10 FROM c"); v.Refusal == nil || v.Refusal.Kind != fault.RowCapExceeded {
		t.Errorf("FETCH past the row cap: %+v, want refused", v.Refusal)
	}
	sess.Cursors["c"].Rows = 0
	if v := e.CheckPostgres(sess, "MOVE 5 IN nosuch"); v.Refusal != nil || v.Statements[0].CursorOp != CursorMove {
		t.Errorf("MOVE returns no rows and needs no plan: %+v", v)
	}
	for _, text := range []string{"CLOSE c; FETCH 1 FROM c", "CLOSE ALL; FETCH 1 FROM c", "DISCARD ALL; FETCH 1 FROM c"} {
		if v := e.CheckPostgres(sess, text); v.Refusal == nil {
			t.Errorf("%s: the FETCH must not use the closed cursor's plan", text)
		}
	}

	// DECLARE and FETCH in one text: the FETCH gets the DECLARE's plan.
	v = e.CheckPostgres(newSess(), "BEGIN; "+declare+"; FETCH 5 FROM c")
	if v.Refusal != nil || len(v.Statements) != 3 || v.Statements[2].Columns == nil || v.Statements[2].Columns[1].Masker == nil {
		t.Fatalf("DECLARE then FETCH in one text: %+v", v)
	}
	// A cursor over a bulk read needs an approval like the query.
	if v := e.CheckPostgres(newSess(), "DECLARE b CURSOR FOR SELECT id_card FROM person"); v.Refusal == nil || v.Refusal.Kind != fault.ApprovalRequired {
		t.Errorf("DECLARE of a bulk read: %+v, want an approval needed", v.Refusal)
	}
	// A refused query cannot be declared.
	if v := e.CheckPostgres(newSess(), "DECLARE u CURSOR FOR SELECT upper(address) FROM person WHERE id = 1"); v.Refusal == nil {
		t.Error("DECLARE of a refused query must be refused")
	}
	// Monitor mode does not refuse a FETCH it cannot place.
	mon := newSess()
	mon.User = "monitor"
	if v := e.CheckPostgres(mon, "FETCH 10 FROM nosuch"); v.Refusal != nil {
		t.Errorf("monitor role: FETCH refused: %v", v.Refusal)
	}
}

// TestPostgresSystemUserNeedsAVersion: PostgreSQL 17's grammar reads a bare
// SYSTEM_USER as a function; servers before 16 read it as a name, here an
// alias of id_card. It is analysed only when the server is known to be 16
// or later.
func TestPostgresSystemUserNeedsAVersion(t *testing.T) {
	e := newTestEngine(t)
	e.SetPostgresCatalogLoader(func(context.Context, string) (*catalog.Catalog, error) { return govCatalog(), nil })
	const text = "SELECT system_user FROM (SELECT id_card AS system_user FROM person WHERE id = 1) t"
	for _, tc := range []struct {
		version uint32
		refused bool
	}{{0, true}, {150020, true}, {160000, false}, {170004, false}} {
		sess := &Session{Protocol: ProtocolPostgres, User: "clerk", ClientAddr: netip.MustParseAddr("127.0.0.1"), Database: "gov",
			Charset: "UTF8", SearchPath: []string{"gov"}, SearchPathKnown: true, ServerVersion: tc.version}
		v := e.CheckPostgres(sess, text)
		if got := v.Refusal != nil; got != tc.refused {
			t.Errorf("server %d: refusal %v, want refused %v", tc.version, v.Refusal, tc.refused)
		}
	}
}
