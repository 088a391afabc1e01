package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"go.uber.org/zap/zaptest"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/proxy"
	"github.com/dbfence/dbfence/rules"
)

// backendAddr is the real MariaDB the integration tests run against.
func backendAddr() string {
	if a := os.Getenv("DBFENCE_TEST_MYSQL"); a != "" {
		return a
	}
	return "127.0.0.1:3306"
}

// passGate admits everyone and forwards every text as one statement; the
// engine's own behaviour is what these tests exercise.
type passGate struct {
	deny map[string]*fault.Error
	plan map[string]rules.StatementVerdict
}

func (g passGate) Admit(user string, _ netip.Addr) *fault.Error {
	if user == "blocked" {
		return fault.New(fault.HostNotAllowed, "dbfence: user blocked is not allowed from this address")
	}
	return nil
}

func (g passGate) CheckMySQL(_ *rules.Session, text string) *rules.Verdict {
	if fe, ok := g.deny[text]; ok {
		return &rules.Verdict{Refusal: fe, Statements: []rules.StatementVerdict{{Kind: "select", Outcome: rules.Deny}}}
	}
	sv := rules.StatementVerdict{Kind: "unknown", Outcome: rules.Allow}
	if p, ok := g.plan[text]; ok {
		sv = p
	}
	return &rules.Verdict{Forward: text, Statements: []rules.StatementVerdict{sv}}
}

// startProxy runs an engine on a loopback port and returns its address.
func startProxy(t testing.TB, gate Gate, mod func(*Config)) string {
	t.Helper()
	cfg := Config{Backend: backendAddr(), Gate: gate, Log: zaptest.NewLogger(t)}
	if mod != nil {
		mod(&cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &proxy.Server{Handler: NewEngine(cfg), Log: cfg.Log}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}

func openDB(t testing.TB, addr, user, pass, db string, params string) *sql.DB {
	t.Helper()
	dsn := fmt.Sprintf("%s:%s@tcp(%s)/%s?%s", user, pass, addr, db, params)
	d, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func requireBackend(t testing.TB) {
	c, err := net.DialTimeout("tcp", backendAddr(), time.Second)
	if err != nil {
		t.Skipf("no MariaDB at %s: %v", backendAddr(), err)
	}
	c.Close()
}

func TestQueryThroughProxy(t *testing.T) {
	requireBackend(t)
	addr := startProxy(t, passGate{}, nil)
	for _, params := range []string{"", "interpolateParams=true"} {
		db := openDB(t, addr, "root", "", "", params)
		var v string
		if err := db.QueryRow("SELECT CONCAT('a', ?)", "b").Scan(&v); err != nil || v != "ab" {
			t.Fatalf("%q: got %q, %v", params, v, err)
		}
	}
}

func TestRefusalReachesClientWithCodeAndState(t *testing.T) {
	requireBackend(t)
	gate := passGate{deny: map[string]*fault.Error{"SELECT secret": fault.New(fault.ColumnDenied, "dbfence: column secret is denied")}}
	db := openDB(t, startProxy(t, gate, nil), "root", "", "", "")
	_, err := db.Exec("SELECT secret")
	var me *gomysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1143 || string(me.SQLState[:]) != "42000" {
		t.Fatalf("got %v", err)
	}
	// The session survives a refusal.
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
}
