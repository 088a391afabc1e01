package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// pgWire is a clerk's connection through the proxy spoken message by
// message, for sequences no driver produces.
type pgWire struct {
	t  *testing.T
	fe *pgproto3.Frontend
}

func dialClerkWire(t *testing.T, addr string) *pgWire {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgconn.Connect(ctx, "postgres://clerk:clerk-pass@"+addr+"/gov?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Conn.Close() })
	_ = h.Conn.SetDeadline(time.Now().Add(time.Minute))
	return &pgWire{t: t, fe: h.Frontend}
}

func (w *pgWire) send(msgs ...pgproto3.FrontendMessage) {
	w.t.Helper()
	for _, m := range msgs {
		w.fe.Send(m)
	}
	if err := w.fe.Flush(); err != nil {
		w.t.Fatal(err)
	}
}

// until reads up to the n-th ReadyForQuery and returns the cells of every
// DataRow and the SQLSTATE of every error.
func (w *pgWire) until(n int) (cells []string, codes []string) {
	w.t.Helper()
	for n > 0 {
		m, err := w.fe.Receive()
		if err != nil {
			w.t.Fatalf("receive: %v", err)
		}
		switch m := m.(type) {
		case *pgproto3.DataRow:
			for _, v := range m.Values {
				cells = append(cells, string(v))
			}
		case *pgproto3.ErrorResponse:
			codes = append(codes, m.Code)
		case *pgproto3.ReadyForQuery:
			n--
		}
	}
	return cells, codes
}

func (w *pgWire) query(sql string) (cells []string, codes []string) {
	w.send(&pgproto3.Query{String: sql})
	return w.until(1)
}

// TestPostgresPortalReplacedBySQLIsNotExecutedUnderItsPlan: portals and
// SQL cursors share one namespace, so SQL can close a portal bound through
// the protocol and DECLARE a cursor of its name; an Execute of that name must
// not run under the plan of the portal it replaced (a SET's: no columns,
// no cap, nothing masked). Before the fix each case returned id_cards in
// clear.
func TestPostgresPortalReplacedBySQLIsNotExecutedUnderItsPlan(t *testing.T) {
	p := startDemoProxy(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	truth := loadPGTruth(t, ctx)
	all := make([]int, 0, 10)
	for id := 1; id <= 10; id++ {
		all = append(all, id)
	}
	bindHarmless := []pgproto3.FrontendMessage{
		&pgproto3.Parse{Name: "s1", Query: "SET application_name = 'x'"},
		&pgproto3.Bind{DestinationPortal: "c", PreparedStatement: "s1"}, &pgproto3.Sync{},
	}
	execute := []pgproto3.FrontendMessage{&pgproto3.Execute{Portal: "c"}, &pgproto3.Sync{}}
	for _, tc := range []struct {
		desc string
		run  func(w *pgWire) []string
	}{
		{"CLOSE, then DECLARE of the name", func(w *pgWire) []string {
			w.query("BEGIN")
			w.send(bindHarmless...)
			w.until(1)
			w.query("CLOSE c")
			w.query("DECLARE c CURSOR FOR SELECT id, id_card FROM gov.person LIMIT 10")
			w.send(execute...)
			cells, _ := w.until(1)
			return cells
		}},
		{"ROLLBACK TO SAVEPOINT, then DECLARE", func(w *pgWire) []string {
			w.query("BEGIN")
			w.query("SAVEPOINT s")
			w.send(bindHarmless...)
			w.until(1)
			w.query("ROLLBACK TO SAVEPOINT s")
			w.query("DECLARE c CURSOR FOR SELECT id, id_card FROM gov.person LIMIT 10")
			w.send(execute...)
			cells, _ := w.until(1)
			return cells
		}},
		{"a failed protocol Close, then ROLLBACK TO and DECLARE", func(w *pgWire) []string {
			// The Close is skipped after the division by zero; the proxy
			// learns that only after it sent the SQL that replaced the
			// portal, and must not put the old portal's plan back.
			w.query("BEGIN")
			w.query("SAVEPOINT s")
			w.send(bindHarmless...)
			w.until(1)
			w.send(&pgproto3.Parse{Query: "SELECT 1/0"}, &pgproto3.Bind{}, &pgproto3.Execute{},
				&pgproto3.Close{ObjectType: 'P', Name: "c"}, &pgproto3.Sync{},
				&pgproto3.Query{String: "ROLLBACK TO SAVEPOINT s; DECLARE c CURSOR FOR SELECT id, id_card FROM gov.person LIMIT 10"})
			if _, codes := w.until(2); len(codes) != 1 || codes[0] != "22012" {
				t.Fatalf("the pipeline: %v; want only the division by zero", codes)
			}
			w.send(execute...)
			cells, _ := w.until(1)
			return cells
		}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			w := dialClerkWire(t, p.postgres)
			cells := tc.run(w)
			if l := truth.leak(strings.Join(cells, "\x00"), all); l != "" {
				t.Fatalf("LEAK: %s", l)
			}
			// The session goes on (the refusal, like any error, aborted the
			// transaction).
			w.query("ROLLBACK")
			if cells, codes := w.query("SELECT 1"); len(cells) != 1 || codes != nil {
				t.Fatalf("after: %q %v", cells, codes)
			}
		})
	}
}

// TestPostgresCursorCapCountsFetchesDecidedTogether: FETCHes decided in one
// text each saw the whole cap left when they were decided; the rows are
// counted against the cursor as they arrive.
func TestPostgresCursorCapCountsFetchesDecidedTogether(t *testing.T) {
	p := startDemoProxy(t, nil)
	w := dialClerkWire(t, p.postgres)
	w.query("BEGIN")
	if _, codes := w.query("DECLARE c CURSOR FOR SELECT id, name FROM person WHERE id > 0"); codes != nil {
		t.Fatalf("DECLARE: %v", codes)
	}
	cells, codes := w.query("FETCH 60 FROM c; FETCH 60 FROM c; FETCH 60 FROM c")
	if rows := len(cells) / 2; rows != 100 || len(codes) != 1 || codes[0] != "54000" {
		t.Fatalf("three FETCHes of 60 in one text: %d rows, errors %v; want the cap's 100 rows, then 54000", rows, codes)
	}
	// The pipeline of Executes of a prepared FETCH is counted the same way.
	w.query("ROLLBACK")
	w.query("BEGIN")
	w.query("DECLARE d CURSOR FOR SELECT id, name FROM person WHERE id > 0")
	msgs := []pgproto3.FrontendMessage{&pgproto3.Parse{Name: "f", Query: "FETCH 60 FROM d"}}
	for i := range 3 {
		portal := string(rune('a' + i))
		msgs = append(msgs, &pgproto3.Bind{DestinationPortal: portal, PreparedStatement: "f"}, &pgproto3.Execute{Portal: portal})
	}
	w.send(append(msgs, &pgproto3.Sync{})...)
	cells, codes = w.until(1)
	if rows := len(cells) / 2; rows != 100 || len(codes) != 1 || codes[0] != "54000" {
		t.Fatalf("three pipelined Executes of FETCH 60: %d rows, errors %v; want 100, then 54000", rows, codes)
	}
}
