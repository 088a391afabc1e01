package postgres

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap/zaptest"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/proxy"
	"github.com/dbfence/dbfence/rules"
)

// backendAddr is the real PostgreSQL the integration tests run against.
func backendAddr() string {
	if a := os.Getenv("DBFENCE_TEST_PG"); a != "" {
		return a
	}
	return "127.0.0.1:5432"
}

const testDB = "dbfence_test_pg"

// passGate admits everyone but "blocked" and forwards every text as one
// statement, with the plan or refusal the test gives for that exact text.
type passGate struct {
	deny map[string]*fault.Error
	plan map[string]rules.StatementVerdict
	// multi gives verdicts for texts of several statements.
	multi map[string][]rules.StatementVerdict
	// literals are the constants the rules report for a text.
	literals map[string][]string
	// hidden are the schema.table.column names HidesColumn reports.
	hidden map[string]bool
}

func (g passGate) Admit(user string, _ netip.Addr) *fault.Error {
	if user == "blocked" {
		return fault.New(fault.HostNotAllowed, "dbfence: user blocked is not allowed from this address")
	}
	return nil
}

func (g passGate) Restricted(string) bool { return false }

func (g passGate) HidesColumn(user, schema, table, column string) bool {
	return g.hidden[schema+"."+table+"."+column]
}

func (g passGate) CheckPostgres(_ *rules.Session, text string) *rules.Verdict {
	lits := g.literals[text]
	if fe, ok := g.deny[text]; ok {
		return &rules.Verdict{Refusal: fe, Statements: []rules.StatementVerdict{{Kind: "select", Outcome: rules.Deny}}, Literals: lits}
	}
	if svs, ok := g.multi[text]; ok {
		return &rules.Verdict{Forward: text, Statements: svs, Literals: lits}
	}
	sv := rules.StatementVerdict{Kind: "unknown", Outcome: rules.Allow}
	if p, ok := g.plan[text]; ok {
		sv = p
	}
	return &rules.Verdict{Forward: text, Statements: []rules.StatementVerdict{sv}, Literals: lits}
}

// starMasker replaces every character with '*'.
type starMasker struct{}

func (starMasker) Mask(dst, src []byte) []byte {
	for range string(src) {
		dst = append(dst, '*')
	}
	return dst
}

// recAuditor records events for assertions.
type recAuditor struct {
	mu    sync.Mutex
	conns []proxy.ConnectionEvent
	stmts []proxy.StatementEvent
	done  []proxy.StatementEvent
}

func (a *recAuditor) Connection(ev *proxy.ConnectionEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.conns = append(a.conns, *ev)
}

func (a *recAuditor) Statement(ev *proxy.StatementEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stmts = append(a.stmts, *ev)
	return nil
}

func (a *recAuditor) StatementDone(ev *proxy.StatementEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.done = append(a.done, *ev)
}

// startProxy runs an engine on a loopback port and returns its address and server.
func startProxy(t testing.TB, gate Gate, mod func(*Config)) (string, *proxy.Server) {
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
	return ln.Addr().String(), srv
}

func requireBackend(t testing.TB) {
	t.Helper()
	c, err := net.DialTimeout("tcp", backendAddr(), time.Second)
	if err != nil {
		t.Skipf("no PostgreSQL at %s: %v", backendAddr(), err)
	}
	c.Close()
}

func connString(addr, user, pass, db string) string {
	host, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf("host=%s port=%s user=%s password='%s' dbname=%s sslmode=disable connect_timeout=5", host, port, user, pass, db)
}

// connect opens a pgx connection through addr with the given query mode.
func connect(t testing.TB, addr, user, pass, db string, mode pgx.QueryExecMode) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(connString(addr, user, pass, db))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = mode
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect %s as %s: %v", addr, user, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

var setupOnce sync.Once

// setupTestDB creates the scratch database and a small people table,
// directly on the backend.
func setupTestDB(t testing.TB) {
	t.Helper()
	requireBackend(t)
	setupOnce.Do(func() {
		ctx := context.Background()
		admin := connect(t, backendAddr(), "postgres", "", "postgres", pgx.QueryExecModeSimpleProtocol)
		var n int
		_ = admin.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", testDB).Scan(&n)
		if n == 0 {
			if _, err := admin.Exec(ctx, "CREATE DATABASE "+testDB+" OWNER dbfence_test"); err != nil {
				t.Fatal(err)
			}
		}
		c := connect(t, backendAddr(), "postgres", "", testDB, pgx.QueryExecModeSimpleProtocol)
		for _, q := range []string{
			"CREATE TABLE IF NOT EXISTS people (id int PRIMARY KEY, name text, phone bigint, id_card varchar(18), birthday date, city char(4))",
			"DELETE FROM people",
			"INSERT INTO people VALUES (1,'张三',13812345678,'110101198705064512','1987-05-06','北京'),(2,'欧阳娜娜',13900001111,'31010119900102002X','1990-01-02','上海'),(3,NULL,NULL,NULL,NULL,NULL)",
			"CREATE TABLE IF NOT EXISTS big AS SELECT g AS id, 'row' || g AS v FROM generate_series(1, 5000) g",
			"GRANT ALL ON people, big TO dbfence_test",
		} {
			if _, err := c.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	})
}

// proxyTestSession is the listener session the fuzzers hand to sessions.
var proxyTestSession proxy.Session
