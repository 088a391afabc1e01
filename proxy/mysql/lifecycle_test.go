package mysql

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"go.uber.org/zap/zaptest"

	"github.com/dbfence/dbfence/proxy"
)

func TestLargePacketsBothWays(t *testing.T) {
	root := setupTestDB(t)
	var maxPacket int
	if err := root.QueryRow("SELECT @@GLOBAL.max_allowed_packet").Scan(&maxPacket); err != nil {
		t.Fatal(err)
	}
	if maxPacket < 64<<20 {
		if _, err := root.Exec("SET GLOBAL max_allowed_packet = 67108864"); err != nil {
			t.Skipf("cannot raise max_allowed_packet: %v", err)
		}
		t.Cleanup(func() { root.Exec("SET GLOBAL max_allowed_packet = ?", maxPacket) })
	}
	addr := startProxy(t, passGate{}, nil)
	const size = 20 << 20 // over one 16 MiB frame
	big := strings.Repeat("洞", size/3)
	for _, params := range []string{"maxAllowedPacket=0", "maxAllowedPacket=0&interpolateParams=true"} {
		db := openDB(t, addr, "root", "", "", params)
		// Client to server: a 20 MiB argument; server to client: a 20 MiB value.
		var n int
		var back string
		if err := db.QueryRow("SELECT CHAR_LENGTH(?), ?", big, big).Scan(&n, &back); err != nil {
			t.Fatalf("%s: %v", params, err)
		}
		if n != size/3 || back != big {
			t.Fatalf("%s: length %d, echoed %d bytes", params, n, len(back))
		}
	}
}

// TestNoLeaks opens and closes many sessions through every exit path and
// checks the proxy is back to no sessions and its goroutines.
func TestNoLeaks(t *testing.T) {
	setupTestDB(t)
	cfg := Config{Backend: backendAddr(), Gate: passGate{}, Log: zaptest.NewLogger(t)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &proxy.Server{Handler: NewEngine(cfg), Log: cfg.Log}
	go srv.Serve(ln)
	addr := ln.Addr().String()
	before := runtime.NumGoroutine()
	for i := 0; i < 20; i++ {
		db := openDB(t, addr, "root", "", "", "")
		db.SetMaxOpenConns(3)
		if err := db.Ping(); err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query("SELECT seq FROM dbfence_test_proxy.seq_1_to_100000")
		if err != nil {
			t.Fatal(err)
		}
		rows.Next()
		rows.Close()
		bad := openDB(t, addr, "root", "bad", "", "")
		_ = bad.Ping() // auth failure path
		bad.Close()
		rc, _ := dialRaw(t, addr, "root", "", "")
		rc.conn.Close() // abrupt client exit
		db.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for srv.Sessions() > 0 || runtime.NumGoroutine() > before+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("leak: %d sessions, %d goroutines (was %d)\n%s", srv.Sessions(), runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestClientGoneMidResultKillsBackendQuery reads part of a long result,
// drops the connection, and checks the backend query stops.
func TestClientGoneMidResultKillsBackendQuery(t *testing.T) {
	root := setupTestDB(t)
	killed := make(chan uint32, 1)
	addr := startProxy(t, passGate{}, func(c *Config) {
		c.KillQuery = func(ctx context.Context, id uint32) error {
			_, err := root.ExecContext(ctx, "KILL QUERY ?", id)
			killed <- id
			return err
		}
	})
	rc, _ := dialRaw(t, addr, "root", "", "")
	rows, _ := rc.query("SELECT CONNECTION_ID()")
	connID := rows[0][0]
	rc.command([]byte("\x03SELECT a.seq FROM dbfence_test_proxy.seq_1_to_100000 a, dbfence_test_proxy.seq_1_to_1000 b"))
	for i := 0; i < 10; i++ {
		rc.read()
	}
	rc.conn.Close()
	select {
	case <-killed:
	case <-time.After(10 * time.Second):
		t.Fatal("backend query not killed")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := root.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ? AND COMMAND = 'Query'", connID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("backend query still running")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestGracefulShutdownDrains lets a command in flight finish, ends idle
// sessions, and refuses new connections.
func TestGracefulShutdownDrains(t *testing.T) {
	setupTestDB(t)
	cfg := Config{Backend: backendAddr(), Gate: passGate{}, Log: zaptest.NewLogger(t)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &proxy.Server{Handler: NewEngine(cfg), Log: cfg.Log}
	go srv.Serve(ln)
	addr := ln.Addr().String()
	busy, _ := dialRaw(t, addr, "root", "", "")
	idle, _ := dialRaw(t, addr, "root", "", "")
	busy.command([]byte("\x03SELECT SLEEP(1)"))
	time.Sleep(200 * time.Millisecond)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	rows, code := busy.readTextResult()
	if code != 0 || len(rows) != 1 || rows[0][0] != "0" {
		t.Fatalf("in-flight query: %v %d", rows, code)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := idle.pc.readPacket(); err == nil {
		t.Fatal("idle session still open")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("new connection accepted after shutdown")
	}
}

// TestBackendLostMidSession kills the backend connection under an idle
// session: the next command gets a clear error instead of a hang.
func TestBackendLostMidSession(t *testing.T) {
	root := setupTestDB(t)
	addr := startProxy(t, passGate{}, nil)
	rc, _ := dialRaw(t, addr, "root", "", "")
	rows, _ := rc.query("SELECT CONNECTION_ID()")
	if _, err := root.Exec("KILL CONNECTION " + rows[0][0]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	_, code := rc.query("SELECT 1")
	if code != 1158 {
		t.Fatalf("got error code %d, want 1158", code)
	}
}

// TestOversizedHandshakeRefused: before it has authenticated a client may
// not send max_packet bytes; it is told why instead of being dropped.
func TestOversizedHandshakeRefused(t *testing.T) {
	setupTestDB(t)
	addr := startProxy(t, passGate{}, nil)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	pc := newPacketConn(c, 0)
	if _, err := pc.readPacket(); err != nil {
		t.Fatal(err)
	}
	if err := pc.writePacket(make([]byte, maxHandshakePacket+1)); err != nil || pc.flush() != nil {
		t.Fatal(err)
	}
	p, err := pc.readPacket()
	if err != nil || len(p) < 3 || p[0] != 0xff || binary.LittleEndian.Uint16(p[1:]) != 1153 {
		t.Fatalf("got %q, %v; want ERR 1153", p, err)
	}
}

// TestSilentBackendTimesOutWithAReason: a backend that accepts and never
// sends its greeting ends the handshake at HandshakeTimeout, and the client
// is told why.
func TestSilentBackendTimesOutWithAReason(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	addr := startProxy(t, passGate{}, func(c *Config) { c.Backend = ln.Addr().String(); c.HandshakeTimeout = 500 * time.Millisecond })
	err = openDB(t, addr, "root", "", "", "").Ping()
	var me *gomysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1158 || !strings.Contains(me.Message, "did not answer within 500ms") {
		t.Fatalf("got %v, want 1158 naming the timeout", err)
	}
}
