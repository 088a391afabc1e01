package catalog

import (
	"context"
	"database/sql"
	"os"
	"testing"

	_ "github.com/go-sql-driver/mysql"
)

func TestLookupCaseRules(t *testing.T) {
	tables := func() []*Table {
		return []*Table{{Database: "gov", Name: "person", Columns: []Column{{Name: "id"}, {Name: "id_card"}}}}
	}
	tests := []struct {
		desc      string
		lctn      int
		db, table string
		want      bool
	}{
		{desc: "exact name", lctn: 0, db: "gov", table: "person", want: true},
		{desc: "case-sensitive names under 0", lctn: 0, db: "gov", table: "PERSON", want: false},
		{desc: "case-insensitive names under 1", lctn: 1, db: "GOV", table: "Person", want: true},
		{desc: "case-insensitive names under 2", lctn: 2, db: "gov", table: "PERSON", want: true},
		{desc: "other database", lctn: 1, db: "hr", table: "person", want: false},
	}
	for _, tc := range tests {
		c := New(Options{LowerCaseTableNames: tc.lctn}, tables())
		if _, ok := c.Table(tc.db, tc.table); ok != tc.want {
			t.Errorf("%s: Table(%q, %q) found=%v, want %v", tc.desc, tc.db, tc.table, ok, tc.want)
		}
	}
	c := New(Options{}, tables())
	tb, _ := c.Table("gov", "person")
	if _, i, ok := tb.Column("ID_CARD"); !ok || i != 1 {
		t.Errorf("column lookup must be case-insensitive: got %d, %v", i, ok)
	}
	if c2 := New(Options{}, tables()); c2.Generation == c.Generation {
		t.Error("two snapshots share a generation")
	}
}

func TestDerivedIsPerTable(t *testing.T) {
	tb := &Table{Database: "gov", Name: "v"}
	if tb.Derived() != nil {
		t.Fatal("fresh table has a derived value")
	}
	tb.SetDerived("resolved")
	if tb.Derived() != "resolved" {
		t.Errorf("Derived() = %v", tb.Derived())
	}
}

func testDSN() string {
	if d := os.Getenv("DBFENCE_TEST_MYSQL_DSN"); d != "" {
		return d
	}
	return "root@tcp(127.0.0.1:3306)/"
}

func TestLoadMySQL(t *testing.T) {
	db, err := sql.Open("mysql", testDSN())
	if err == nil {
		err = db.Ping()
	}
	if err != nil {
		t.Skipf("no test database: %v", err)
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS dbfence_catalog_test",
		"CREATE TABLE IF NOT EXISTS dbfence_catalog_test.person (id INT PRIMARY KEY, name VARCHAR(20), id_card CHAR(18))",
		"CREATE OR REPLACE VIEW dbfence_catalog_test.v AS SELECT id, id_card AS card FROM dbfence_catalog_test.person",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	defer db.Exec("DROP DATABASE dbfence_catalog_test")
	cat, err := LoadMySQL(context.Background(), testDSN(), LoadOptions{Databases: []string{"dbfence_catalog_test"}})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := cat.Table("dbfence_catalog_test", "person")
	if !ok || len(p.Columns) != 3 || p.Columns[2].Name != "id_card" || p.View != nil {
		t.Fatalf("person loaded as %+v", p)
	}
	v, ok := cat.Table("dbfence_catalog_test", "v")
	if !ok || v.View == nil || v.View.Definition == "" || len(v.Columns) != 2 || v.Columns[1].Name != "card" {
		t.Fatalf("view loaded as %+v", v)
	}
	if _, ok := cat.Table("mysql", "user"); ok {
		t.Error("system schema tables must not be loaded")
	}
	if _, ok := cat.Database("dbfence_catalog_test"); !ok {
		t.Error("database not recorded")
	}
}
