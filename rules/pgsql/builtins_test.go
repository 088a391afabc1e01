package pgsql

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// sqlSyntax are names on the builtins list that the grammar turns into
// expressions of their own, not calls of pg_catalog functions.
var sqlSyntax = map[string]bool{"coalesce": true, "nullif": true, "grouping": true, "localtime": true,
	"localtimestamp": true, "user": true, "current_role": true, "system_user": true}

// TestBuiltinsAreTheServers: every name on the builtins list is a function
// in the test server's pg_catalog, or builtinSince says it is not one yet
// at that version (an unqualified call would reach another schema's
// function of that name).
func TestBuiltinsAreTheServers(t *testing.T) {
	addr := os.Getenv("DBFENCE_TEST_PG")
	if addr == "" {
		addr = "127.0.0.1:5432"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, "postgres://postgres@"+addr+"/postgres?sslmode=disable")
	if err != nil {
		t.Skipf("no test server: %v", err)
	}
	defer c.Close(ctx)
	var version int
	if err := c.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		t.Fatal(err)
	}
	rows, err := c.Query(ctx, "SELECT DISTINCT proname FROM pg_catalog.pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		have[name] = true
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	for name := range builtins {
		if !have[name] && !sqlSyntax[name] && builtinSince[name] <= version {
			t.Errorf("%s is not in pg_catalog of server %d; add it to builtinSince", name, version)
		}
	}
}

// TestNewerBuiltinsNeedTheirVersion: any_value is pg_catalog's from 16 on;
// on older servers (or when the version is not known) an unqualified call
// is an unknown function.
func TestNewerBuiltinsNeedTheirVersion(t *testing.T) {
	for _, tc := range []struct {
		version int
		unknown bool
	}{{0, true}, {150020, true}, {160000, false}} {
		env := testEnv()
		env.ServerVersion = tc.version
		f := analyzeOne(t, "SELECT any_value(dept) FROM person", env)
		if got := len(f.UnknownFunctions) > 0; got != tc.unknown {
			t.Errorf("server %d: unknown functions %v, want unknown %v", tc.version, f.UnknownFunctions, tc.unknown)
		}
	}
}
