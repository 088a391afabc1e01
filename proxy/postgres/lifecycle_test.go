package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"go.uber.org/zap/zaptest"

	"github.com/dbfence/dbfence/proxy"
)

// readError reads what the proxy answers on a raw connection and returns the
// SQLSTATE of the ErrorResponse it finds, then checks the connection closes.
func readFatal(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	fe := pgproto3.NewFrontend(c, c)
	code := ""
	for {
		m, err := fe.Receive()
		if err != nil {
			return code
		}
		if e, ok := m.(*pgproto3.ErrorResponse); ok {
			code = e.Code
		}
	}
}

func TestMalformedInputEndsSessionWithError(t *testing.T) {
	setupTestDB(t)
	addr, srv := startProxy(t, passGate{}, func(c *Config) { c.MaxMessage = 1 << 20 })
	frame := func(typ byte, body []byte) []byte { return appendMessage(nil, typ, body) }
	withLen := func(typ byte, n uint32) []byte {
		b := []byte{typ, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(b[1:], n)
		return b
	}
	tests := []struct {
		desc    string
		startup bool // sent instead of the startup packet
		bytes   []byte
		code    string
	}{
		{"garbage instead of a startup packet", true, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "08P01"},
		{"startup length over the limit", true, []byte{0, 1, 0, 0, 0, 3, 0, 0}, "08P01"},
		{"startup of protocol 2", true, []byte{0, 0, 0, 8, 0, 2, 0, 0}, "08P01"},
		{"startup of protocol 3.2", true, []byte{0, 0, 0, 8, 0, 3, 0, 2}, "0A000"},
		{"startup parameters not terminated", true, []byte{0, 0, 0, 13, 0, 3, 0, 0, 'u', 's', 'e', 'r', 0}, "08P01"},
		{"message length below 4", false, withLen('Q', 3), "08P01"},
		{"message length over MaxMessage", false, withLen('Q', 1<<30), "54000"},
		{"negative message length", false, withLen('Q', 0xffffff00), "08P01"},
		{"unknown message type", false, frame('z', nil), "08P01"},
		{"Query without its terminator", false, frame('Q', []byte("SELECT 1")), "08P01"},
		{"Query with bytes after the terminator", false, frame('Q', []byte("SELECT 1\x00x")), "08P01"},
		{"Bind with a negative parameter count", false, frame('B', []byte{0, 0, 0, 0, 0xff, 0xff}), "08P01"},
		{"Describe of an unknown kind", false, frame('D', []byte{'X', 0}), "08P01"},
		{"password message after login", false, frame('p', []byte("pw\x00")), "08P01"},
		{"Execute with a negative row limit", false, frame('E', []byte{0, 0xff, 0xff, 0xff, 0xff}), "08P01"},
	}
	for _, tc := range tests {
		var c net.Conn
		if tc.startup {
			var err error
			if c, err = net.Dial("tcp", addr); err != nil {
				t.Fatal(err)
			}
		} else {
			c = dialRaw(t, addr).conn
		}
		if _, err := c.Write(tc.bytes); err != nil {
			t.Fatal(err)
		}
		if code := readFatal(t, c); code != tc.code {
			t.Errorf("%s: got SQLSTATE %q, want %q", tc.desc, code, tc.code)
		}
		c.Close()
	}
	waitNoSessions(t, srv)
}

func waitNoSessions(t *testing.T, srv *proxy.Server) {
	t.Helper()
	for i := 0; i < 100 && srv.Sessions() != 0; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if n := srv.Sessions(); n != 0 {
		t.Fatalf("%d sessions still open", n)
	}
}

// TestNoLeaks runs sessions that end every way and checks the proxy is back
// to no sessions and its goroutines.
func TestNoLeaks(t *testing.T) {
	setupTestDB(t)
	addr, srv := startProxy(t, passGate{}, nil)
	runtime.GC()
	before := runtime.NumGoroutine()
	ctx := context.Background()
	for range 5 {
		// Normal end.
		c := connect(t, addr, "dbfence_test", "dbfence-test-pass", testDB, pgx.QueryExecModeCacheStatement)
		_, _ = c.Exec(ctx, "SELECT 1")
		c.Close(ctx)
		// Client vanishes in the middle of a large result.
		rc := dialRaw(t, addr)
		rc.send(&pgproto3.Query{String: "SELECT g, repeat('x', 1000) FROM generate_series(1, 200000) g"})
		rc.receive()
		rc.conn.Close()
		// Client vanishes while the backend is busy.
		rc = dialRaw(t, addr)
		rc.send(&pgproto3.Query{String: "SELECT pg_sleep(0.2)"})
		rc.conn.Close()
		// Client disconnects during the handshake.
		raw, _ := net.Dial("tcp", addr)
		_, _ = raw.Write([]byte{0, 0, 0, 40})
		raw.Close()
	}
	waitNoSessions(t, srv)
	var after int
	for i := 0; i < 100; i++ {
		runtime.GC()
		if after = runtime.NumGoroutine(); after <= before {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if after > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("leak: %d goroutines (was %d)\n%s", after, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestClientGoneMidResultCancelsBackendQuery(t *testing.T) {
	setupTestDB(t)
	addr, srv := startProxy(t, passGate{}, nil)
	rc := dialRaw(t, addr)
	const marker = "dbfence-gone-marker"
	rc.send(&pgproto3.Query{String: "SELECT '" + marker + "', g, repeat('x', 2000) FROM generate_series(1, 5000000) g"})
	rc.receive()
	rc.conn.Close()
	waitNoSessions(t, srv)
	admin := connect(t, backendAddr(), "postgres", "", "postgres", pgx.QueryExecModeSimpleProtocol)
	var n int
	for i := 0; i < 50; i++ {
		if err := admin.QueryRow(context.Background(),
			"SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%"+marker+"%' AND state = 'active' AND pid <> pg_backend_pid()").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the departed client's query still runs")
}

func TestShutdownDrainsIdleSessions(t *testing.T) {
	setupTestDB(t)
	cfg := Config{Backend: backendAddr(), Gate: passGate{}, Log: zaptest.NewLogger(t)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &proxy.Server{Handler: NewEngine(cfg), Log: cfg.Log}
	go srv.Serve(ln)
	c := connect(t, ln.Addr().String(), "dbfence_test", "dbfence-test-pass", testDB, pgx.QueryExecModeSimpleProtocol)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = c.Exec(context.Background(), "SELECT 1")
	var pe *pgconn.PgError
	if err == nil || (errors.As(err, &pe) && pe.Code != "57P01") {
		t.Fatalf("after shutdown: %v", err)
	}
}
