package main

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestPostgresThroughServe: the PostgreSQL listener relays an unrestricted
// user's statements (simple and extended protocol), refuses unparseable
// text, and refuses restricted roles until PostgreSQL analysis lands.
func TestPostgresThroughServe(t *testing.T) {
	p := startDemoProxy(t, nil)
	if p.postgres == "" {
		t.Fatal("the demo configuration has no PostgreSQL listener")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "postgres://postgres@"+p.postgres+"/gov?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec, pgx.QueryExecModeCacheStatement} {
		var v int
		if err := conn.QueryRow(ctx, "SELECT $1::int + 1", mode, 41).Scan(&v); err != nil || v != 42 {
			t.Fatalf("mode %v: %d %v", mode, v, err)
		}
	}
	_, err = conn.Exec(ctx, "SELEC 1")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42601" {
		t.Fatalf("unparseable text: %v", err)
	}
	clerk, err := pgx.Connect(ctx, "postgres://clerk:clerk-pass@"+p.postgres+"/gov?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer clerk.Close(ctx)
	var name string
	err = clerk.QueryRow(ctx, "SELECT name FROM person WHERE id = 1").Scan(&name)
	if !errors.As(err, &pe) || pe.Code != "42501" {
		t.Fatalf("restricted role on PostgreSQL: %v (name %q)", err, name)
	}
}
