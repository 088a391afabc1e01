package catalog

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const pgCatalogTestDB = "dbfence_test_catalog"

func pgTestConnString(db string) string {
	addr := os.Getenv("DBFENCE_TEST_PG")
	if addr == "" {
		addr = "127.0.0.1:5432"
	}
	return "postgres://postgres@" + addr + "/" + db + "?sslmode=disable"
}

// TestPostgresLoader loads a real database and checks what the analyser
// relies on: schemas as databases, columns in order, qualified view
// definitions, partitions read as their root, system relations present.
func TestPostgresLoader(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, pgTestConnString("postgres"))
	if err != nil {
		t.Skipf("no PostgreSQL: %v", err)
	}
	defer admin.Close(ctx)
	for _, q := range []string{"DROP DATABASE IF EXISTS " + pgCatalogTestDB + " WITH (FORCE)", "CREATE DATABASE " + pgCatalogTestDB} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgCatalogTestDB+" WITH (FORCE)")
	})
	conn, err := pgx.Connect(ctx, pgTestConnString(pgCatalogTestDB))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE SCHEMA gov",
		"CREATE TABLE gov.person (id int PRIMARY KEY, dropped int, name text, id_card char(18))",
		"ALTER TABLE gov.person DROP COLUMN dropped",
		`CREATE TABLE gov."Mixed" ("Id" int, id int)`,
		"CREATE VIEW gov.v AS SELECT id, id_card FROM gov.person WHERE id > 0",
		"CREATE TABLE gov.visit (at date, person_id int, id_card text) PARTITION BY RANGE (at)",
		"CREATE TABLE gov.visit_2026 PARTITION OF gov.visit FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
		"CREATE SCHEMA empty_schema",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	conn.Close(ctx)

	load, err := PostgresCatalogLoader(pgTestConnString("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := load(ctx, pgCatalogTestDB)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := cat.Table("gov", "person")
	if !ok || p.View != nil {
		t.Fatalf("gov.person: %v %+v", ok, p)
	}
	var names []string
	for _, c := range p.Columns {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "id,name,id_card" {
		t.Errorf("gov.person columns %s, want id,name,id_card (dropped columns left out)", got)
	}
	if p.Columns[2].Type != "character(18)" {
		t.Errorf("id_card type %q", p.Columns[2].Type)
	}
	if _, ok := cat.Table("gov", "mixed"); ok {
		t.Error("names must be case-sensitive: gov.mixed resolved to gov.Mixed")
	}
	if m, ok := cat.Table("gov", "Mixed"); !ok || len(m.Columns) != 2 || m.Columns[0].Name != "Id" {
		t.Errorf("gov.Mixed: %v %+v", ok, m)
	}
	v, ok := cat.Table("gov", "v")
	if !ok || v.View == nil || !strings.Contains(v.View.Definition, "gov.person") {
		t.Fatalf("gov.v must be a view with a schema-qualified definition: %+v", v)
	}
	part, ok := cat.Table("gov", "visit_2026")
	if !ok || part.View == nil || part.View.Definition != `SELECT "at", "person_id", "id_card" FROM "gov"."visit"` {
		t.Errorf("partition must read as its root: %+v", part)
	}
	if root, ok := cat.Table("gov", "visit"); !ok || root.View != nil {
		t.Errorf("gov.visit (partitioned root) must be a base table: %+v", root)
	}
	if pc, ok := cat.Table("pg_catalog", "pg_class"); !ok || len(pc.Columns) < 10 {
		t.Errorf("pg_catalog.pg_class must be in the snapshot with its columns")
	}
	if _, ok := cat.Table("information_schema", "columns"); !ok {
		t.Error("information_schema.columns must be in the snapshot")
	}
	if _, ok := cat.Database("empty_schema"); !ok {
		t.Error("empty schemas must be known")
	}
	if _, ok := cat.Database("pg_toast"); ok {
		t.Error("pg_toast must be left out")
	}
	if _, err := load(ctx, "dbfence_no_such_database"); err == nil {
		t.Error("loading a missing database must fail")
	}
}
