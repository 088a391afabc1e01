package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/dbfence/dbfence/config"
)

// demoProxy runs the real serve() with configs/demo.yaml on free ports, over
// the seeded demo database, and returns the MySQL and admin addresses.
func demoProxy(t *testing.T, edit func(*config.Config)) (mysqlAddr, adminAddr string) {
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
	cfg, err := config.Load("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen.MySQL = "127.0.0.1:0"
	cfg.Listen.Admin = "127.0.0.1:0"
	if edit != nil {
		edit(cfg)
	}
	ready := make(chan [2]string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, zaptest.NewLogger(t), 5*time.Second, func(m, a string) { ready <- [2]string{m, a} })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case a := <-ready:
		return a[0], a[1]
	case err := <-done:
		t.Fatalf("serve ended: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("proxy did not start")
	}
	return "", ""
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
