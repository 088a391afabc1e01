package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/dbfence/dbfence/audit"
)

// connTaker keeps the connections a driver dials, so that a test can cut
// one off in the middle of a result, as a crashing client would.
type connTaker struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (c *connTaker) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil {
		c.mu.Lock()
		c.conns = append(c.conns, conn)
		c.mu.Unlock()
	}
	return conn, err
}

func (c *connTaker) cutAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

// auditRecords reads every record of the audit log in dir.
func auditRecords(t *testing.T, dir string) []*audit.Record {
	t.Helper()
	r, err := audit.NewReader(dir, audit.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []*audit.Record
	for {
		rec, _, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
}

// readSome reads n rows of a large result, then the client vanishes.
func readSome(t *testing.T, rows interface {
	Next() bool
	Err() error
}, n int, cut func()) {
	t.Helper()
	for i := 0; i < n; i++ {
		if !rows.Next() {
			t.Fatalf("row %d: result ended early: %v", i, rows.Err())
		}
	}
	cut()
}

// TestInterruptedStatementIsAudited: a statement whose client vanishes in
// the middle of a large result still has an outcome record, marked
// interrupted, with the rows and bytes sent before the client left — on both
// protocols, for a text query and for a prepared statement's execution.
func TestInterruptedStatementIsAudited(t *testing.T) {
	p := startDemoProxy(t, nil)
	const rowsBefore = 50
	var taker connTaker
	mysql.RegisterDialContext("cut", func(ctx context.Context, addr string) (net.Conn, error) {
		return taker.dial(ctx, "tcp", addr)
	})
	for _, tc := range []struct {
		name, sql string
		args      []any
	}{
		{"mysql text", "SELECT seq, REPEAT('t', 1000) FROM seq_1_to_200000", nil},
		{"mysql prepared", "SELECT seq, REPEAT('p', ?) FROM seq_1_to_200000", []any{1000}},
	} {
		db, err := sql.Open("mysql", fmt.Sprintf("root@cut(%s)/gov", p.mysql))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query(tc.sql, tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		readSome(t, rows, rowsBefore, taker.cutAll)
		rows.Close()
		db.Close()
	}
	ctx := context.Background()
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec} {
		cfg, err := pgx.ParseConfig("postgres://postgres@" + p.postgres + "/gov?sslmode=disable")
		if err != nil {
			t.Fatal(err)
		}
		cfg.DialFunc = taker.dial
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := c.Query(ctx, "SELECT g, repeat('q', 1000) FROM generate_series(1, 200000) g", mode)
		if err != nil {
			t.Fatalf("%v: %v", mode, err)
		}
		readSome(t, rows, rowsBefore, taker.cutAll)
		rows.Close()
		c.Close(ctx)
	}
	p.stop()

	interrupted := map[string]int{}
	for _, rec := range auditRecords(t, p.auditDir) {
		if !strings.Contains(strings.ToLower(rec.Normalized), "repeat") || rec.DurationUS == 0 {
			continue // not an outcome of the statements above
		}
		// pgx sends a CancelRequest when it closes a busy connection: the
		// backend's "canceled" answer (57014) may reach the proxy before it
		// finds the client gone, and is then the statement's true outcome.
		canceled := rec.Protocol == "postgres" && rec.ErrorCode == "57014"
		if (rec.ErrorCode != "interrupted" && !canceled) || rec.Rows < rowsBefore || rec.Bytes < rowsBefore*1000 {
			t.Errorf("outcome of %s %s %q: code %q, %d rows, %d bytes; want interrupted (or canceled), at least %d rows and %d bytes",
				rec.Protocol, rec.Type, rec.Normalized, rec.ErrorCode, rec.Rows, rec.Bytes, rowsBefore, rowsBefore*1000)
		}
		interrupted[rec.Protocol+" "+string(rec.Type)]++
	}
	for _, want := range []string{"mysql statement", "mysql execute", "postgres statement", "postgres execute"} {
		if interrupted[want] != 1 {
			t.Errorf("%d interrupted outcome records for %s, want 1 (all: %v)", interrupted[want], want, interrupted)
		}
	}
}

// TestBackendLostMidResultIsAudited: when the backend connection dies in
// the middle of a large result (here: killed by a DBA), the statement still
// has an outcome record, with an error code and the rows sent until then.
func TestBackendLostMidResultIsAudited(t *testing.T) {
	p := startDemoProxy(t, nil)
	const q = "SELECT seq, REPEAT('k', 1000) FROM seq_1_to_200000"
	db, err := sql.Open("mysql", "root@tcp("+p.mysql+")/gov")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/")
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	readSome(t, rows, 50, func() {
		var id int64
		if err := direct.QueryRow("SELECT id FROM information_schema.processlist WHERE info LIKE 'SELECT seq, REPEAT(''k''%'").Scan(&id); err != nil {
			t.Fatalf("the proxy's backend connection: %v", err)
		}
		if _, err := direct.Exec(fmt.Sprintf("KILL %d", id)); err != nil {
			t.Fatal(err)
		}
	})
	for rows.Next() {
	}
	if rows.Err() == nil {
		t.Fatal("the result ended without an error after its backend was killed")
	}
	rows.Close()
	db.Close()
	p.stop()

	outcomes := 0
	for _, rec := range auditRecords(t, p.auditDir) {
		if strings.Contains(rec.Normalized, "REPEAT") && rec.DurationUS > 0 {
			outcomes++
			if rec.ErrorCode == "" || rec.Rows < 50 {
				t.Errorf("outcome: code %q, %d rows; want an error code and at least 50 rows", rec.ErrorCode, rec.Rows)
			}
		}
	}
	if outcomes != 1 {
		t.Errorf("%d outcome records for the statement whose backend was killed, want 1", outcomes)
	}
}

// TestResultFailingMidwayIsAuditedWithItsRows: a PostgreSQL statement that
// fails after sending rows (division by zero at the 100th) is audited with
// the error and the 99 rows the client received, through the simple and the
// extended protocol.
func TestResultFailingMidwayIsAuditedWithItsRows(t *testing.T) {
	p := startDemoProxy(t, nil)
	ctx := context.Background()
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec} {
		c, err := pgx.Connect(ctx, "postgres://postgres@"+p.postgres+"/gov?sslmode=disable")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := c.Query(ctx, "SELECT g, 1 / (g - 100) FROM generate_series(1, 200) g", mode)
		if err != nil {
			t.Fatalf("%v: %v", mode, err)
		}
		got := 0
		for rows.Next() {
			got++
		}
		if rows.Err() == nil || got != 99 {
			t.Fatalf("%v: %d rows, error %v; want 99 rows, then division by zero", mode, got, rows.Err())
		}
		rows.Close()
		c.Close(ctx)
	}
	p.stop()
	outcomes := 0
	for _, rec := range auditRecords(t, p.auditDir) {
		if !strings.Contains(rec.Normalized, "generate_series") || rec.DurationUS == 0 {
			continue
		}
		outcomes++
		if rec.ErrorCode != "22012" || rec.Rows != 99 {
			t.Errorf("outcome of %s %s: code %q, %d rows; want 22012 and the 99 rows sent", rec.Protocol, rec.Type, rec.ErrorCode, rec.Rows)
		}
	}
	if outcomes != 2 {
		t.Errorf("%d outcome records, want 2", outcomes)
	}
}
