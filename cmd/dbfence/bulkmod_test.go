package main

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gopkg.in/yaml.v3"

	"github.com/dbfence/dbfence/config"
)

// TestBulkModificationOverTheCapIsRolledBack: an editor whose role caps
// modifications at 5 rows changes 3 rows (committed), tries 10 (rolled back
// with 1226, nothing changed), inside a transaction too (rolled back to a
// savepoint, the earlier change kept); DELETE without WHERE needs approval.
func TestBulkModificationOverTheCapIsRolledBack(t *testing.T) {
	root, err := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/?multiStatements=true")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	setup := []string{
		"CREATE DATABASE IF NOT EXISTS dbfence_test_bulk",
		"CREATE OR REPLACE TABLE dbfence_test_bulk.t (id INT PRIMARY KEY, note VARCHAR(20))",
		"INSERT INTO dbfence_test_bulk.t SELECT seq, 'orig' FROM dbfence_test_bulk.seq_1_to_20",
		"CREATE USER IF NOT EXISTS 'dbf_editor'@'%' IDENTIFIED BY 'dbf_editor-pass'",
		"GRANT SELECT, UPDATE, DELETE ON dbfence_test_bulk.* TO 'dbf_editor'@'%'",
		// The proxy's metadata account must see the table to resolve it.
		"GRANT SELECT ON dbfence_test_bulk.* TO 'dbfence_meta'@'%'",
	}
	for _, q := range setup {
		if _, err := root.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	const policy = `
version: bulk-1
default_role: unrestricted
principals:
  - {users: [dbf_editor], role: editor}
roles:
  editor:
    statements: [select, update, delete, transaction, set, use]
    tables: {allow: ["dbfence_test_bulk.*"]}
    row_cap: 5
`
	p := startDemoProxy(t, func(c *config.Config) {
		var node yaml.Node
		if err := yaml.Unmarshal([]byte(policy), &node); err != nil {
			t.Fatal(err)
		}
		c.Policy = *node.Content[0]
	})
	db, err := sql.Open("mysql", "dbf_editor:dbf_editor-pass@tcp("+p.mysql+")/dbfence_test_bulk")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	notes := func() string {
		var s string
		root.QueryRow("SELECT GROUP_CONCAT(note ORDER BY id) FROM dbfence_test_bulk.t WHERE id <= 10").Scan(&s)
		return s
	}
	res, err := db.Exec("UPDATE t SET note = 'a' WHERE id <= 3")
	if err != nil {
		t.Fatalf("update within the cap: %v", err)
	}
	if n, _ := res.RowsAffected(); n != 3 {
		t.Fatalf("update within the cap: %d, %v", n, err)
	}
	_, err = db.Exec("UPDATE t SET note = 'b' WHERE id <= 10")
	var me *gomysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1226 || !strings.Contains(me.Message, "rolled back") {
		t.Fatalf("update over the cap: %v", err)
	}
	if got := notes(); got != "a,a,a,orig,orig,orig,orig,orig,orig,orig" {
		t.Fatalf("after the refused update: %s", got)
	}
	// Inside the client's own transaction: a savepoint keeps the earlier work.
	ctx := context.Background()
	conn, _ := db.Conn(ctx)
	defer conn.Close()
	for _, q := range []string{"BEGIN", "UPDATE t SET note = 'c' WHERE id = 4"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "UPDATE t SET note = 'd' WHERE id <= 10"); !errors.As(err, &me) || me.Number != 1226 {
		t.Fatalf("in a transaction, over the cap: %v", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	if got := notes(); got != "a,a,a,c,orig,orig,orig,orig,orig,orig" {
		t.Fatalf("after the transaction: %s", got)
	}
	if _, err := db.Exec("DELETE FROM t"); !errors.As(err, &me) || me.Number != 1227 || !strings.Contains(me.Message, "approval") {
		t.Fatalf("DELETE without WHERE: %v", err)
	}
	// The cap cannot be dodged through paths that are not wrapped in it:
	// a prepared statement (executions are not wrapped) or a multi-statement text.
	if _, err := db.Exec("UPDATE t SET note = ? WHERE id <= 10", "e"); !errors.As(err, &me) || me.Number != 1227 {
		t.Fatalf("prepared capped UPDATE: %v", err)
	}
	multi, _ := sql.Open("mysql", "dbf_editor:dbf_editor-pass@tcp("+p.mysql+")/dbfence_test_bulk?multiStatements=true")
	defer multi.Close()
	if _, err := multi.Exec("SELECT 1; UPDATE t SET note = 'f' WHERE id <= 10"); !errors.As(err, &me) || me.Number != 1227 {
		t.Fatalf("capped UPDATE in a multi-statement text: %v", err)
	}
	if got := notes(); got != "a,a,a,c,orig,orig,orig,orig,orig,orig" {
		t.Fatalf("a dodge changed rows: %s", got)
	}
}

// TestPostgresBulkModificationOverTheCapIsRolledBack: the same on
// PostgreSQL, through psql-like simple queries: 3 rows committed, 10 rolled
// back (54000, nothing changed), inside the client's transaction rolled back
// to a savepoint with the earlier change kept; prepared and multi-statement
// capped modifications are refused.
func TestPostgresBulkModificationOverTheCapIsRolledBack(t *testing.T) {
	ctx := context.Background()
	root, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/gov?sslmode=disable")
	if err != nil {
		t.Skipf("no PostgreSQL: %v", err)
	}
	defer root.Close(ctx)
	for _, q := range []string{
		"DROP SCHEMA IF EXISTS dbfence_test_bulk CASCADE",
		"CREATE SCHEMA dbfence_test_bulk",
		"CREATE TABLE dbfence_test_bulk.t (id int PRIMARY KEY, note text)",
		"INSERT INTO dbfence_test_bulk.t SELECT g, 'orig' FROM generate_series(1, 20) g",
		"DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dbf_editor') THEN CREATE ROLE dbf_editor LOGIN PASSWORD 'dbf_editor-pass'; END IF; END$$",
		"GRANT CONNECT ON DATABASE gov TO dbf_editor",
		"GRANT USAGE ON SCHEMA dbfence_test_bulk TO dbf_editor, dbfence_meta",
		"GRANT SELECT, UPDATE, DELETE ON dbfence_test_bulk.t TO dbf_editor",
		"GRANT SELECT ON dbfence_test_bulk.t TO dbfence_meta",
	} {
		if _, err := root.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	const policy = `
version: bulk-pg-1
default_role: unrestricted
principals:
  - {users: [dbf_editor], role: editor}
roles:
  editor:
    statements: [select, update, delete, transaction, set]
    tables: {allow: ["dbfence_test_bulk.*"]}
    row_cap: 5
`
	p := startDemoProxy(t, func(c *config.Config) {
		var node yaml.Node
		if err := yaml.Unmarshal([]byte(policy), &node); err != nil {
			t.Fatal(err)
		}
		c.Policy = *node.Content[0]
	})
	conn, err := pgx.Connect(ctx, "postgres://dbf_editor:dbf_editor-pass@"+p.postgres+"/gov?sslmode=disable&default_query_exec_mode=simple_protocol")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	notes := func() string {
		var s string
		root.QueryRow(ctx, "SELECT string_agg(note, ',' ORDER BY id) FROM dbfence_test_bulk.t WHERE id <= 10").Scan(&s)
		return s
	}
	tag, err := conn.Exec(ctx, "UPDATE dbfence_test_bulk.t SET note = 'a' WHERE id <= 3")
	if err != nil || tag.RowsAffected() != 3 {
		t.Fatalf("update within the cap: %v %v", tag, err)
	}
	var pe *pgconn.PgError
	_, err = conn.Exec(ctx, "UPDATE dbfence_test_bulk.t SET note = 'b' WHERE id <= 10")
	if !errors.As(err, &pe) || pe.Code != "54000" || !strings.Contains(pe.Message, "rolled back") {
		t.Fatalf("update over the cap: %v", err)
	}
	if got := notes(); got != "a,a,a,orig,orig,orig,orig,orig,orig,orig" {
		t.Fatalf("after the refused update: %s", got)
	}
	for _, q := range []string{"BEGIN", "UPDATE dbfence_test_bulk.t SET note = 'c' WHERE id = 4"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := conn.Exec(ctx, "DELETE FROM dbfence_test_bulk.t WHERE id <= 10"); !errors.As(err, &pe) || pe.Code != "54000" {
		t.Fatalf("in a transaction, over the cap: %v", err)
	}
	if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	if got := notes(); got != "a,a,a,c,orig,orig,orig,orig,orig,orig" {
		t.Fatalf("after the transaction: %s", got)
	}
	if _, err := conn.Exec(ctx, "DELETE FROM dbfence_test_bulk.t"); !errors.As(err, &pe) || !strings.Contains(pe.Message, "approval") {
		t.Fatalf("DELETE without WHERE: %v", err)
	}
	if _, err := conn.Exec(ctx, "UPDATE dbfence_test_bulk.t SET note = $1 WHERE id <= 10", pgx.QueryExecModeExec, "e"); !errors.As(err, &pe) || pe.Code != "42501" {
		t.Fatalf("prepared capped UPDATE: %v", err)
	}
	if _, err := conn.PgConn().Exec(ctx, "SELECT 1; UPDATE dbfence_test_bulk.t SET note = 'f' WHERE id <= 10").ReadAll(); !errors.As(err, &pe) || pe.Code != "42501" {
		t.Fatalf("capped UPDATE in a multi-statement text: %v", err)
	}
	if got := notes(); got != "a,a,a,c,orig,orig,orig,orig,orig,orig" {
		t.Fatalf("a dodge changed rows: %s", got)
	}
}
