package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules"
)

func TestPipelineWithRefusedParseRecoversAtSync(t *testing.T) {
	setupTestDB(t)
	const denied = "SELECT id_card FROM people"
	gate := passGate{deny: map[string]*fault.Error{denied: fault.New(fault.ColumnDenied, "dbfence: column id_card is denied")}}
	addr, _ := startProxy(t, gate, nil)
	rc := dialRaw(t, addr)
	tests := []struct {
		desc  string
		msgs  []pgproto3.FrontendMessage
		kinds []string
		codes []string
	}{
		{
			desc: "refused Parse after a good one: earlier responses, the refusal, nothing more until Sync",
			msgs: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Name: "a", Query: "SELECT 1"},
				&pgproto3.Bind{PreparedStatement: "a"},
				&pgproto3.Execute{},
				&pgproto3.Parse{Query: denied},
				&pgproto3.Bind{},
				&pgproto3.Execute{},
				&pgproto3.Sync{},
			},
			kinds: []string{"ParseComplete", "BindComplete", "DataRow", "CommandComplete", "ErrorResponse", "ReadyForQuery"},
			codes: []string{"42501"},
		},
		{
			desc: "the next pipeline works, and statement a survived",
			msgs: []pgproto3.FrontendMessage{
				&pgproto3.Bind{PreparedStatement: "a"},
				&pgproto3.Describe{ObjectType: 'P'},
				&pgproto3.Execute{},
				&pgproto3.Close{ObjectType: 'S', Name: "a"},
				&pgproto3.Sync{},
			},
			kinds: []string{"BindComplete", "RowDescription", "DataRow", "CommandComplete", "CloseComplete", "ReadyForQuery"},
		},
		{
			desc: "Bind of a statement prepared in SQL (PREPARE) is refused: its plan is unknown",
			msgs: []pgproto3.FrontendMessage{
				&pgproto3.Query{String: "PREPARE sqlprep AS SELECT 2"},
			},
			kinds: []string{"CommandComplete", "ReadyForQuery"},
		},
		{
			desc: "",
			msgs: []pgproto3.FrontendMessage{
				&pgproto3.Bind{PreparedStatement: "sqlprep"},
				&pgproto3.Execute{},
				&pgproto3.Sync{},
			},
			kinds: []string{"ErrorResponse", "ReadyForQuery"},
			codes: []string{"42501"},
		},
		{
			desc: "Execute of a cursor declared in SQL is refused",
			msgs: []pgproto3.FrontendMessage{
				&pgproto3.Query{String: "BEGIN; DECLARE cur CURSOR FOR SELECT 3"},
			},
			kinds: []string{"CommandComplete", "CommandComplete", "ReadyForQuery"},
		},
		{
			desc: "",
			msgs: []pgproto3.FrontendMessage{
				&pgproto3.Execute{Portal: "cur"},
				&pgproto3.Sync{},
			},
			kinds: []string{"ErrorResponse", "ReadyForQuery"},
			codes: []string{"42501"},
		},
		{
			desc: "a portal bound outside a transaction block is gone after Sync: its name reused by DECLARE is refused",
			msgs: []pgproto3.FrontendMessage{
				&pgproto3.Query{String: "ROLLBACK"},
				&pgproto3.Parse{Name: "lax", Query: "SELECT 1"},
				&pgproto3.Bind{DestinationPortal: "cur2", PreparedStatement: "lax"},
				&pgproto3.Sync{},
				&pgproto3.Query{String: "BEGIN; DECLARE cur2 CURSOR FOR SELECT 'hidden'"},
				&pgproto3.Execute{Portal: "cur2"},
				&pgproto3.Sync{},
			},
			kinds: []string{"CommandComplete", "ReadyForQuery", "ParseComplete", "BindComplete", "ReadyForQuery",
				"CommandComplete", "CommandComplete", "ReadyForQuery", "ErrorResponse", "ReadyForQuery"},
			codes: []string{"42501"},
		},
		{
			desc: "the refusal aborted the transaction as a backend error would",
			msgs: []pgproto3.FrontendMessage{
				&pgproto3.Query{String: "SELECT 1"},
			},
			kinds: []string{"ErrorResponse", "ReadyForQuery"},
			codes: []string{"25P02"},
		},
		{
			desc: "",
			msgs: []pgproto3.FrontendMessage{
				&pgproto3.Query{String: "ROLLBACK"},
			},
			kinds: []string{"CommandComplete", "ReadyForQuery"},
		},
		{
			desc: "a backend error mid-pipeline: the rest is skipped until Sync",
			msgs: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Query: "SELECT 1/g FROM generate_series(0,0) g"},
				&pgproto3.Bind{},
				&pgproto3.Execute{},
				&pgproto3.Parse{Query: "SELECT 5"},
				&pgproto3.Bind{},
				&pgproto3.Execute{},
				&pgproto3.Sync{},
				&pgproto3.Parse{Query: "SELECT 6"},
				&pgproto3.Bind{},
				&pgproto3.Execute{},
				&pgproto3.Sync{},
			},
			kinds: []string{"ParseComplete", "BindComplete", "ErrorResponse", "ReadyForQuery"},
			codes: []string{"22012"},
		},
		{
			desc:  "",
			msgs:  nil, // the second Sync's responses
			kinds: []string{"ParseComplete", "BindComplete", "DataRow", "CommandComplete", "ReadyForQuery"},
		},
		{
			desc: "Execute with a row limit: PortalSuspended, then the rest",
			msgs: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Query: "SELECT g FROM generate_series(1,3) g"},
				&pgproto3.Bind{},
				&pgproto3.Execute{MaxRows: 2},
				&pgproto3.Execute{},
				&pgproto3.Sync{},
			},
			kinds: []string{"ParseComplete", "BindComplete", "DataRow", "DataRow", "PortalSuspended", "DataRow", "CommandComplete", "ReadyForQuery"},
		},
		{
			desc: "Flush without Sync gets the responses so far",
			msgs: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Name: "f", Query: "SELECT 7"},
				&pgproto3.Describe{ObjectType: 'S', Name: "f"},
				&pgproto3.Flush{},
				&pgproto3.Sync{},
			},
			kinds: []string{"ParseComplete", "ParameterDescription", "RowDescription", "ReadyForQuery"},
		},
	}
	for _, tc := range tests {
		if tc.msgs != nil {
			rc.send(tc.msgs...)
		}
		var kinds, codes []string
		for range strings.Count(strings.Join(tc.kinds, ","), "ReadyForQuery") {
			k, c, _ := rc.until()
			kinds, codes = append(kinds, k...), append(codes, c...)
		}
		if !slices.Equal(kinds, tc.kinds) || !slices.Equal(codes, tc.codes) {
			t.Errorf("%s:\n got %v %v\nwant %v %v", tc.desc, kinds, codes, tc.kinds, tc.codes)
		}
	}
}

func TestRefusedParseFlushedWithoutSync(t *testing.T) {
	setupTestDB(t)
	const denied = "SELECT id_card FROM people"
	gate := passGate{deny: map[string]*fault.Error{denied: fault.New(fault.ColumnDenied, "dbfence: denied")}}
	addr, _ := startProxy(t, gate, nil)
	rc := dialRaw(t, addr)
	rc.send(&pgproto3.Parse{Query: denied}, &pgproto3.Flush{})
	if e, ok := rc.receive().(*pgproto3.ErrorResponse); !ok || e.Code != "42501" {
		t.Fatalf("got %#v", e)
	}
	rc.send(&pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
	if kinds, _, _ := rc.until(); !slices.Equal(kinds, []string{"ReadyForQuery"}) {
		t.Fatalf("skipped messages answered: %v", kinds)
	}
}

func TestBatchThroughPgx(t *testing.T) {
	setupTestDB(t)
	const denied = "SELECT id_card FROM people WHERE id = $1"
	gate := passGate{
		deny: map[string]*fault.Error{denied: fault.New(fault.ColumnDenied, "dbfence: denied")},
		plan: map[string]rules.StatementVerdict{maskQuery: maskPlan},
	}
	addr, _ := startProxy(t, gate, nil)
	ctx := context.Background()
	for _, m := range allModes[1:] {
		c := connect(t, addr, "dbfence_test", "dbfence-test-pass", testDB, m.mode)
		b := &pgx.Batch{}
		for i := range 20 {
			b.Queue("SELECT $1::int + 1", i)
		}
		b.Queue(maskQuery)
		res := c.SendBatch(ctx, b)
		for i := range 20 {
			var v int
			if err := res.QueryRow().Scan(&v); err != nil || v != i+1 {
				t.Fatalf("%s: batch item %d: %d %v", m.desc, i, v, err)
			}
		}
		var names []string
		rows, err := res.Query()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var p person
			if err := rows.Scan(&p.id, &p.name, &p.phone, &p.idCard, &p.birthday, &p.city); err != nil {
				t.Fatal(err)
			}
			if p.name != nil {
				names = append(names, *p.name)
			}
		}
		rows.Close()
		if err := res.Close(); err != nil {
			t.Fatalf("%s: %v", m.desc, err)
		}
		if strings.Join(names, ",") != "**,****" {
			t.Errorf("%s: names %v", m.desc, names)
		}
		// A batch with a refused statement fails as a whole and the
		// connection recovers.
		b = &pgx.Batch{}
		b.Queue("SELECT 1")
		b.Queue(denied, 1)
		err = c.SendBatch(ctx, b).Close()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("%s: refused batch: %v", m.desc, err)
		}
		var one int
		if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
			t.Fatalf("%s: after refused batch: %v", m.desc, err)
		}
	}
}

func TestFunctionCallRefused(t *testing.T) {
	setupTestDB(t)
	addr, _ := startProxy(t, passGate{}, nil)
	rc := dialRaw(t, addr)
	rc.send(&pgproto3.FunctionCall{Function: 1598 /* random() */, ResultFormatCode: 0})
	kinds, codes, _ := rc.until()
	if !slices.Equal(kinds, []string{"ErrorResponse", "ReadyForQuery"}) || !slices.Equal(codes, []string{"0A000"}) {
		t.Fatalf("got %v %v", kinds, codes)
	}
	rc.send(&pgproto3.Query{String: "SELECT 1"})
	if kinds, _, rows := rc.until(); len(rows) != 1 {
		t.Fatalf("after FunctionCall: %v", kinds)
	}
}

func TestSQLDeallocateForgetsProtocolStatements(t *testing.T) {
	setupTestDB(t)
	const swap = "DEALLOCATE s2; PREPARE s2 AS SELECT 'hidden'"
	gate := passGate{multi: map[string][]rules.StatementVerdict{swap: {
		{Kind: "deallocate", Outcome: rules.Allow}, {Kind: "prepare", Outcome: rules.Allow},
	}}}
	addr, _ := startProxy(t, gate, nil)
	rc := dialRaw(t, addr)
	rc.send(&pgproto3.Parse{Name: "s2", Query: "SELECT 1"}, &pgproto3.Sync{})
	rc.until()
	rc.send(&pgproto3.Query{String: swap})
	rc.until()
	rc.send(&pgproto3.Bind{PreparedStatement: "s2"}, &pgproto3.Execute{}, &pgproto3.Sync{})
	kinds, codes, rows := rc.until()
	if len(rows) != 0 || !slices.Equal(codes, []string{"42501"}) {
		t.Fatalf("statement re-created by SQL PREPARE was bound: %v %v %v", kinds, codes, rows)
	}
}

func TestBinaryPortalMaskedAndCappedAcrossSuspension(t *testing.T) {
	setupTestDB(t)
	capped := maskPlan
	capped.RowCap = 2
	addr, _ := startProxy(t, passGate{plan: map[string]rules.StatementVerdict{maskQuery: capped}}, nil)
	rc := dialRaw(t, addr)
	// No Describe from the client: the proxy describes the portal itself.
	rc.send(&pgproto3.Parse{Query: maskQuery}, &pgproto3.Bind{ResultFormatCodes: []int16{1}},
		&pgproto3.Execute{MaxRows: 1}, &pgproto3.Execute{MaxRows: 1}, &pgproto3.Execute{}, &pgproto3.Sync{})
	kinds, codes, rows := rc.until()
	want := []string{"ParseComplete", "BindComplete", "DataRow", "PortalSuspended", "DataRow", "PortalSuspended", "ErrorResponse", "ReadyForQuery"}
	if !slices.Equal(kinds, want) || !slices.Equal(codes, []string{"54000"}) {
		t.Fatalf("got %v %v", kinds, codes)
	}
	if rows[0][1] != "**" || rows[0][2] != "" || rows[0][3] != "******************" || rows[1][1] != "****" {
		t.Fatalf("binary cells not masked: %q", rows)
	}
	// The session goes on.
	rc.send(&pgproto3.Query{String: "SELECT 1"})
	if _, codes, rows := rc.until(); len(rows) != 1 || codes != nil {
		t.Fatalf("after the cap: %v %v", rows, codes)
	}
}
