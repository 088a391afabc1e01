package postgres

import (
	"context"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules"
)

func TestAuditEvents(t *testing.T) {
	setupTestDB(t)
	const denied = "SELECT id_card FROM people"
	gate := passGate{
		deny: map[string]*fault.Error{denied: fault.New(fault.ColumnDenied, "dbfence: denied")},
		plan: map[string]rules.StatementVerdict{maskQuery: maskPlan},
	}
	a := &recAuditor{}
	addr, srv := startProxy(t, gate, func(c *Config) { c.Audit = a })
	ctx := context.Background()
	for _, m := range allModes {
		c := connect(t, addr, "dbfence_test", "dbfence-test-pass", testDB, m.mode)
		readPeople(t, c, maskQuery)
		_, _ = c.Exec(ctx, denied)
		c.Close(ctx)
	}
	waitNoSessions(t, srv)
	a.mu.Lock()
	defer a.mu.Unlock()
	var masked, refused, done3 int
	for _, ev := range a.stmts {
		if slices.Equal(ev.MaskedColumns, []string{"name", "phone", "id_card", "city"}) {
			masked++
		}
		if ev.ErrorCode == "42501" && ev.Decision == "deny" && ev.User == "dbfence_test" && ev.Database == testDB {
			refused++
		}
	}
	for _, ev := range a.done {
		// Three rows of six columns, the command tag and, for the simple
		// protocol, the row description: a few hundred bytes.
		if ev.Rows == 3 && ev.ErrorCode == "" && ev.Duration > 0 && ev.Duration < time.Minute &&
			ev.Bytes > 100 && ev.Bytes < 2000 {
			done3++
		}
	}
	if masked != len(allModes) || refused != len(allModes) || done3 != len(allModes) {
		t.Errorf("statement events: %d masked, %d refused, %d completed with 3 rows and their bytes; want %d each", masked, refused, done3, len(allModes))
		for _, ev := range a.done {
			t.Logf("outcome: rows %d bytes %d code %q", ev.Rows, ev.Bytes, ev.ErrorCode)
		}
	}
	var opened, closed int
	for _, ev := range a.conns {
		switch ev.Type {
		case "auth_ok":
			opened++
		case "connection_close":
			closed++
		}
		if ev.Protocol != "postgres" || !ev.ClientAddr.IsValid() {
			t.Errorf("connection event %+v", ev)
		}
	}
	if opened != len(allModes) || closed != len(allModes) {
		t.Errorf("connection events: %d opened, %d closed", opened, closed)
	}
}

// TestAuditLiterals: the audit event of a statement carries the constants of
// its text and, for a prepared statement, the parameter values of each run
// (the audit log encrypts them), also when the statement is refused.
func TestAuditLiterals(t *testing.T) {
	setupTestDB(t)
	const (
		withConst = "SELECT name FROM people WHERE id < 3 AND city <> 'lit-city'"
		withParam = "SELECT name FROM people WHERE id < 3 AND city <> $1"
		interp    = "SELECT name FROM people WHERE id < 3 AND city <>  'bound-city' " // as pgx's simple protocol sends it
		denied    = "SELECT id_card FROM people WHERE name = 'denied-name'"
	)
	constLits := []string{"3", "'lit-city'"}
	gate := passGate{
		deny: map[string]*fault.Error{denied: fault.New(fault.ColumnDenied, "dbfence: denied")},
		literals: map[string][]string{
			withConst: constLits, withParam: {"3"}, interp: {"3", "'bound-city'"}, denied: {"'denied-name'"},
		},
	}
	for _, m := range allModes {
		t.Run(m.desc, func(t *testing.T) {
			a := &recAuditor{}
			addr, srv := startProxy(t, gate, func(c *Config) { c.Audit = a })
			ctx := context.Background()
			c := connect(t, addr, "dbfence_test", "dbfence-test-pass", testDB, m.mode)
			for range 2 { // the cached statement's second run binds again
				for _, q := range []struct {
					sql  string
					args []any
				}{{withConst, nil}, {withParam, []any{"bound-city"}}} {
					rows, err := c.Query(ctx, q.sql, q.args...)
					if err != nil {
						t.Fatal(err)
					}
					rows.Close()
					if rows.Err() != nil {
						t.Fatal(rows.Err())
					}
				}
			}
			if _, err := c.Exec(ctx, denied); err == nil {
				t.Fatal("denied statement ran")
			}
			c.Close(ctx)
			waitNoSessions(t, srv)
			a.mu.Lock()
			defer a.mu.Unlock()
			wantParam := []string{"3", "bound-city"}
			if m.mode == pgx.QueryExecModeSimpleProtocol {
				wantParam = []string{"3", "'bound-city'"}
			}
			var consts, params, refused int
			for _, ev := range a.stmts {
				switch {
				case ev.Decision == "deny":
					if slices.Equal(ev.Literals, []string{"'denied-name'"}) {
						refused++
					}
				case slices.Equal(ev.Literals, constLits):
					consts++
				case slices.Equal(ev.Literals, wantParam):
					params++
				default:
					t.Errorf("statement event with literals %q", ev.Literals)
				}
			}
			if consts != 2 || params != 2 || refused != 1 {
				t.Errorf("%d events with the text's constants, %d with the bound value, %d refusals with theirs; want 2, 2, 1", consts, params, refused)
			}
		})
	}
}

func allowSelect() rules.StatementVerdict {
	return rules.StatementVerdict{Kind: "select", Outcome: rules.Allow}
}

// wireSize is the size of m on the wire.
func wireSize(t *testing.T, m pgproto3.BackendMessage) int64 {
	t.Helper()
	b, err := m.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(b))
}

// TestAuditOutcomeBytes: each statement of a multi-statement query is
// charged the bytes of its own response, completing message included; a
// statement the server skipped after an error is charged nothing.
func TestAuditOutcomeBytes(t *testing.T) {
	setupTestDB(t)
	const q = "SELECT 1; SELECT 1/0; SELECT 2"
	a := &recAuditor{}
	addr, srv := startProxy(t, passGate{multi: map[string][]rules.StatementVerdict{q: {allowSelect(), allowSelect(), allowSelect()}}},
		func(c *Config) { c.Audit = a })
	rc := dialRaw(t, addr)
	rc.send(&pgproto3.Query{String: q})
	var first int64
	firstDone := false
	for {
		m := rc.receive()
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			break
		}
		if !firstDone {
			first += wireSize(t, m)
			_, firstDone = m.(*pgproto3.CommandComplete)
		}
	}
	rc.conn.Close()
	waitNoSessions(t, srv)
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.done) != 3 {
		t.Fatalf("%d outcomes, want 3", len(a.done))
	}
	if got := a.done[0]; got.Bytes != first || got.Rows != 1 {
		t.Errorf("first statement: %d rows, %d bytes; want 1 row, %d bytes (row description, row, command tag)", got.Rows, got.Bytes, first)
	}
	if got := a.done[1]; got.ErrorCode != "22012" || got.Bytes <= 0 {
		t.Errorf("failed statement: code %q, %d bytes; want 22012 and the bytes of its error", got.ErrorCode, got.Bytes)
	}
	if got := a.done[2]; got.ErrorCode != "skipped" || got.Bytes != 0 {
		t.Errorf("skipped statement: code %q, %d bytes; want skipped, 0", got.ErrorCode, got.Bytes)
	}
}

// TestAuditPortalValuesOnce: the values bound to a portal are in the record
// of its first Execute only (later Executes continue the same run), and a
// long value is cut with its length noted.
func TestAuditPortalValuesOnce(t *testing.T) {
	setupTestDB(t)
	const q = "SELECT length($1::bytea)"
	a := &recAuditor{}
	addr, srv := startProxy(t, passGate{plan: map[string]rules.StatementVerdict{q: allowSelect()}}, func(c *Config) { c.Audit = a })
	rc := dialRaw(t, addr)
	rc.send(&pgproto3.Query{String: "BEGIN"})
	rc.until()
	param := make([]byte, 3000)
	for i := range param {
		param[i] = 0xab
	}
	msgs := []pgproto3.FrontendMessage{
		&pgproto3.Parse{Name: "s", Query: q},
		&pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "s", ParameterFormatCodes: []int16{1}, Parameters: [][]byte{param}},
	}
	for range 3 {
		msgs = append(msgs, &pgproto3.Execute{Portal: "p"})
	}
	rc.send(append(msgs, &pgproto3.Sync{})...)
	if _, codes, _ := rc.until(); len(codes) != 0 {
		t.Fatalf("errors %v", codes)
	}
	rc.conn.Close()
	waitNoSessions(t, srv)
	a.mu.Lock()
	defer a.mu.Unlock()
	want := `\x` + strings.Repeat("ab", maxBindLiteral) + "…(3000 bytes)"
	var executes [][]string
	for _, ev := range a.stmts {
		if ev.Command == "execute" {
			executes = append(executes, ev.Literals)
		}
	}
	if len(executes) != 3 || !slices.Equal(executes[0], []string{want}) || executes[1] != nil || executes[2] != nil {
		t.Errorf("literals of the three Executes: %d events, first %.40q…, then %q", len(executes), executes[0], executes[1:])
	}
}

// TestAuditCappedBytes: a capped UPDATE's record carries the bytes of its
// response (command tag or the proxy's error), without ReadyForQuery, like
// any statement's.
func TestAuditCappedBytes(t *testing.T) {
	setupTestDB(t)
	const q = "UPDATE people SET city = city WHERE id <= 2"
	for _, tc := range []struct {
		desc     string
		cap      int64
		wantCode string
	}{
		{desc: "within the cap", cap: 5},
		{desc: "over the cap, rolled back", cap: 1, wantCode: fault.RowCapExceeded.PostgresState()},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			a := &recAuditor{}
			plan := rules.StatementVerdict{Kind: "update", Outcome: rules.Allow, ModifyCap: tc.cap}
			addr, srv := startProxy(t, passGate{plan: map[string]rules.StatementVerdict{q: plan}}, func(c *Config) { c.Audit = a })
			rc := dialRaw(t, addr)
			rc.send(&pgproto3.Query{String: q})
			var sent int64
			for {
				m := rc.receive()
				if _, ok := m.(*pgproto3.ReadyForQuery); ok {
					break
				}
				sent += wireSize(t, m)
			}
			rc.conn.Close()
			waitNoSessions(t, srv)
			a.mu.Lock()
			defer a.mu.Unlock()
			if len(a.done) != 1 {
				t.Fatalf("%d outcomes, want 1", len(a.done))
			}
			if got := a.done[0]; got.Bytes != sent || sent == 0 || got.ErrorCode != tc.wantCode || got.Rows != 2 && tc.wantCode == "" {
				t.Errorf("outcome: %d rows, %d bytes, code %q; want 2 rows, %d bytes, code %q", got.Rows, got.Bytes, got.ErrorCode, sent, tc.wantCode)
			}
		})
	}
}
