package demo

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// The seeding tests use the least-privileged test accounts that
// scripts/ensure-databases.sh creates, on scratch databases they drop.
const (
	scratchDatabase = "dbfence_test_demo"
	defaultMySQLDSN = "dbfence_test:dbfence-test-pass@tcp(127.0.0.1:3306)/?charset=utf8mb4"
	defaultPGDSN    = "postgres://dbfence_test:dbfence-test-pass@127.0.0.1:5432/postgres?sslmode=disable"
	seedRows        = 10000
)

// openTestDB opens a database from $envVar (or def) and pings it. Without a
// server the test fails (run scripts/ensure-databases.sh) unless -short or
// DBFENCE_SKIP_DB_TESTS=1 asked to skip database tests.
func openTestDB(t *testing.T, driver, envVar, def string) *sql.DB {
	t.Helper()
	if testing.Short() || os.Getenv("DBFENCE_SKIP_DB_TESTS") == "1" {
		t.Skip("database test skipped (-short or DBFENCE_SKIP_DB_TESTS=1)")
	}
	dsn := os.Getenv(envVar)
	if dsn == "" {
		dsn = def
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", driver, err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("%s not reachable (%v): run scripts/ensure-databases.sh, set %s, or set DBFENCE_SKIP_DB_TESTS=1", driver, err, envVar)
	}
	return db
}

func TestSeederRejectsBadInput(t *testing.T) {
	tests := []struct {
		desc     string
		database string
		n        int
		wantErr  string
	}{
		{desc: "quote in database name", database: "gov`; DROP DATABASE mysql; --", n: 1, wantErr: "letters, digits and _ only"},
		{desc: "dash in database name", database: "gov-test", n: 1, wantErr: "letters, digits and _ only"},
		{desc: "negative count", database: "gov", n: -1, wantErr: "negative row count"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			s := &Seeder{Database: tt.database}
			// The checks run before any connection is used.
			for name, seed := range map[string]func(context.Context, *sql.DB, int) error{"MySQL": s.SeedMySQL, "Postgres": s.SeedPostgres} {
				err := seed(context.Background(), nil, tt.n)
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Seed%s: error %v, want one containing %q", name, err, tt.wantErr)
				}
			}
		})
	}
}

// seedCase is one step of an idempotence scenario.
type seedCase struct {
	desc       string
	tamper     string // SQL run before seeding, "" for none
	wantOutput string // progress output must contain this
}

var idempotenceSteps = []seedCase{
	{desc: "first seeding creates the tables", wantOutput: "seeded 10000 people"},
	{desc: "second seeding is a no-op", wantOutput: "nothing to do"},
	{desc: "a changed row is noticed and the tables recreated", tamper: "UPDATE %s SET phone = '13800000000' WHERE id = 42", wantOutput: "seeded 10000 people"},
	{desc: "a deleted household row is noticed", tamper: "DELETE FROM %s WHERE id = (SELECT id FROM (SELECT MIN(id) AS id FROM %s) AS m)", wantOutput: "seeded 10000 people"},
	{desc: "seeding after repair is a no-op again", wantOutput: "nothing to do"},
}

func TestSeedMySQL(t *testing.T) {
	db := openTestDB(t, "mysql", "DBFENCE_TEST_MYSQL_DSN", defaultMySQLDSN)
	ctx := context.Background()
	drop := func() {
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+scratchDatabase); err != nil {
			t.Errorf("drop %s: %v", scratchDatabase, err)
		}
	}
	drop()
	t.Cleanup(drop)

	s := &Seeder{Database: scratchDatabase}
	for i, step := range idempotenceSteps {
		t.Run(step.desc, func(t *testing.T) {
			if step.tamper != "" {
				table := scratchDatabase + ".person"
				if i == 3 {
					table = scratchDatabase + ".household"
				}
				if _, err := db.ExecContext(ctx, strings.ReplaceAll(step.tamper, "%s", table)); err != nil {
					t.Fatalf("tamper: %v", err)
				}
			}
			var out bytes.Buffer
			s.Progress = &out
			start := time.Now()
			if err := s.SeedMySQL(ctx, db, seedRows); err != nil {
				t.Fatalf("SeedMySQL: %v", err)
			}
			t.Logf("%s (wall %s)", strings.TrimSpace(lastLine(out.String())), time.Since(start).Round(time.Millisecond))
			if !strings.Contains(out.String(), step.wantOutput) {
				t.Errorf("progress output %q does not contain %q", out.String(), step.wantOutput)
			}
			checkSeeded(t, db, scratchDatabase+".", "?")
		})
	}
}

func TestSeedPostgres(t *testing.T) {
	admin := openTestDB(t, "pgx", "DBFENCE_TEST_PG_DSN", defaultPGDSN)
	ctx := context.Background()
	drop := func() {
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+scratchDatabase+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", scratchDatabase, err)
		}
	}
	drop()
	if err := EnsurePostgresDatabase(ctx, admin, scratchDatabase); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)

	// Seeding the wrong database is refused.
	s := &Seeder{Database: scratchDatabase}
	if err := s.SeedPostgres(ctx, admin, 1); err == nil || !strings.Contains(err.Error(), "want \""+scratchDatabase+"\"") {
		t.Errorf("SeedPostgres on database postgres: error %v, want a wrong-database error", err)
	}

	dsn := os.Getenv("DBFENCE_TEST_PG_DSN")
	if dsn == "" {
		dsn = defaultPGDSN
	}
	db, err := sql.Open("pgx", strings.Replace(dsn, "/postgres?", "/"+scratchDatabase+"?", 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	for i, step := range idempotenceSteps {
		t.Run(step.desc, func(t *testing.T) {
			if step.tamper != "" {
				table := "gov.person"
				if i == 3 {
					table = "gov.household"
				}
				if _, err := db.ExecContext(ctx, strings.ReplaceAll(step.tamper, "%s", table)); err != nil {
					t.Fatalf("tamper: %v", err)
				}
			}
			var out bytes.Buffer
			s.Progress = &out
			start := time.Now()
			if err := s.SeedPostgres(ctx, db, seedRows); err != nil {
				t.Fatalf("SeedPostgres: %v", err)
			}
			t.Logf("%s (wall %s)", strings.TrimSpace(lastLine(out.String())), time.Since(start).Round(time.Millisecond))
			if !strings.Contains(out.String(), step.wantOutput) {
				t.Errorf("progress output %q does not contain %q", out.String(), step.wantOutput)
			}
			checkSeeded(t, db, "gov.", "$1")
		})
	}
}

// checkSeeded verifies counts, the view and that row 4321 reads back exactly
// as generated (UTF-8 names and addresses included).
func checkSeeded(t *testing.T, db *sql.DB, prefix, placeholder string) {
	t.Helper()
	ctx := context.Background()
	var persons, views int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+prefix+"person").Scan(&persons); err != nil {
		t.Fatalf("count persons: %v", err)
	}
	if persons != seedRows {
		t.Errorf("%sperson has %d rows, want %d", prefix, persons, seedRows)
	}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+prefix+"person_public").Scan(&views); err != nil || views != seedRows {
		t.Errorf("%sperson_public: %d rows, %v; want %d", prefix, views, err, seedRows)
	}
	g := NewGenerator(DefaultSeed)
	want := g.Person(4321)
	var got Person
	var birthday string
	err := db.QueryRowContext(ctx, "SELECT id, name, id_card, phone, address, bank_card, "+
		dateText(placeholder)+", dept FROM "+prefix+"person WHERE id = "+placeholder, 4321).
		Scan(&got.ID, &got.Name, &got.IDCard, &got.Phone, &got.Address, &got.BankCard, &birthday, &got.Dept)
	if err != nil {
		t.Fatalf("read person 4321: %v", err)
	}
	got.Birthday, _ = time.Parse(time.DateOnly, birthday)
	if got != want {
		t.Errorf("person 4321 = %+v, want %+v", got, want)
	}
	var members int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+prefix+"household WHERE person_id = "+placeholder, 4321).Scan(&members); err != nil {
		t.Fatal(err)
	}
	if wantMembers := len(g.Household(want)); members != wantMembers {
		t.Errorf("person 4321 has %d household rows, want %d", members, wantMembers)
	}
}

// dateText renders column birthday as YYYY-MM-DD in either dialect.
func dateText(placeholder string) string {
	if placeholder == "?" {
		return "DATE_FORMAT(birthday, '%Y-%m-%d')"
	}
	return "to_char(birthday, 'YYYY-MM-DD')"
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
