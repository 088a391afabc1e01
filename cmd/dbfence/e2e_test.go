package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"gopkg.in/yaml.v3"

	"github.com/dbfence/dbfence/config"
)

// demoProxy runs the real serve() with configs/demo.yaml on free ports, over
// the seeded demo database, and returns the MySQL and admin addresses.
func demoProxy(t *testing.T, edit func(*config.Config)) (mysqlAddr, adminAddr string) {
	p := startDemoProxy(t, edit)
	return p.mysql, p.admin
}

// demoRun is a running demo proxy and where its audit log is.
type demoRun struct {
	mysql, postgres, admin, auditDir, keyDir string
	stop                                     func()
}

func startDemoProxy(t *testing.T, edit func(*config.Config)) *demoRun {
	t.Helper()
	if testing.Short() {
		t.Skip("needs MariaDB")
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:3306", time.Second); err != nil {
		t.Skipf("no MariaDB: %v", err)
	} else {
		c.Close()
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := seedDemo(ctx, "root@tcp(127.0.0.1:3306)/", 10000, io.Discard); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second); err == nil {
		c.Close()
		if err := seedDemoPostgres(ctx, "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", 10000, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen.MySQL = "127.0.0.1:0"
	cfg.Listen.Admin = "127.0.0.1:0"
	if cfg.Listen.Postgres != "" {
		cfg.Listen.Postgres = "127.0.0.1:0"
	}
	// The demo's audit paths are relative to the repository root: give the
	// test its own keys and log directory.
	dir := t.TempDir()
	if _, err := ensureAuditKeys(filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}
	auditYAML := fmt.Sprintf("dir: %[1]s/audit\nmode: strict\nhmac_key_file: %[1]s/keys/audit-hmac.key\n"+
		"sm4_key_file: %[1]s/keys/audit-sm4.key\nsm2_private_key_file: %[1]s/keys/audit-sm2.pem\n", dir)
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(auditYAML), &node); err != nil {
		t.Fatal(err)
	}
	cfg.Audit = *node.Content[0]
	if cfg.Approval.Store != "" {
		cfg.Approval.Store = filepath.Join(dir, "approvals.json")
	}
	if edit != nil {
		edit(cfg)
	}
	ready := make(chan listenAddrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, zaptest.NewLogger(t), 5*time.Second, func(a listenAddrs) { ready <- a })
	}()
	select {
	case a := <-ready:
		var once sync.Once
		stop := func() {
			once.Do(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("serve: %v", err)
				}
			})
		}
		t.Cleanup(stop)
		return &demoRun{mysql: a.mysql, postgres: a.postgres, admin: a.admin, auditDir: filepath.Join(dir, "audit"), keyDir: filepath.Join(dir, "keys"), stop: stop}
	case err := <-done:
		cancel()
		t.Fatalf("serve ended: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("proxy did not start")
	}
	return nil
}

func dbAs(t *testing.T, addr, user, params string) *sql.DB {
	t.Helper()
	pass := user + "-pass"
	if user == "root" {
		pass = ""
	}
	db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/gov?%s", user, pass, addr, params))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// queryAll returns every cell of every row as text (NULL as "NULL").
func queryAll(db *sql.DB, q string, args ...any) ([][]string, error) {
	rows, err := db.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = "NULL"
			if v.Valid {
				row[i] = v.String
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func ctxBackground() context.Context { return context.Background() }

// TestLoadDataLocalThroughRules: the file the statement names is relayed
// for an unrestricted user; a restricted role may not load files at all.
func TestLoadDataLocalThroughRules(t *testing.T) {
	p := startDemoProxy(t, nil)
	f := filepath.Join(t.TempDir(), "rows.csv")
	if err := os.WriteFile(f, []byte("1\n2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := dbAs(t, p.mysql, "root", "allowAllFiles=true")
	for _, s := range []string{"CREATE DATABASE IF NOT EXISTS dbfence_test_load", "CREATE TABLE IF NOT EXISTS dbfence_test_load.t (v INT)", "TRUNCATE dbfence_test_load.t"} {
		if _, err := root.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	res, err := root.Exec("LOAD DATA LOCAL INFILE '" + f + "' INTO TABLE dbfence_test_load.t")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		t.Fatalf("loaded %d rows", n)
	}
	clerk := dbAs(t, p.mysql, "clerk", "allowAllFiles=true")
	if _, err := clerk.Exec("LOAD DATA LOCAL INFILE '" + f + "' INTO TABLE person"); err == nil {
		t.Fatal("a clerk loaded a file")
	}
}
