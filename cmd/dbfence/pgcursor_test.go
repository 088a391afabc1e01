package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestPostgresCursorsThroughServe: a clerk reads through SQL cursors the way
// real clients do (psycopg2 named cursors, psql's FETCH_COUNT): every row a
// FETCH returns is masked as the DECLAREd query's would be, the row cap
// counts across FETCHes, and a FETCH from a cursor the proxy did not see
// declared is refused.
func TestPostgresCursorsThroughServe(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import psycopg2").Run(); err != nil {
		t.Skip("needs python3-psycopg2 (scripts/ensure-databases.sh installs it)")
	}
	p := startDemoProxy(t, nil)
	host, port := pgHostPort(t, p.postgres)
	ctx := context.Background()
	direct, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/gov?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close(ctx)
	real := map[string]string{} // id -> id_card
	rows, err := direct.Query(ctx, "SELECT id::text, id_card FROM gov.person WHERE id <= 200")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, card string
		if err := rows.Scan(&id, &card); err != nil {
			t.Fatal(err)
		}
		real[id] = card
	}
	if rows.Err() != nil || len(real) < 120 {
		t.Fatalf("ground truth: %d rows, %v", len(real), rows.Err())
	}

	script := `
import sys, psycopg2
conn = psycopg2.connect(host=sys.argv[1], port=int(sys.argv[2]), user="clerk", password="clerk-pass", dbname="gov")
cur = conn.cursor(name="by_id")
cur.execute("SELECT id, id_card FROM person WHERE id <= %s ORDER BY id", (200,))
got = 0
try:
    while True:
        batch = cur.fetchmany(30)
        if not batch:
            break
        for r in batch:
            print("row", r[0], r[1])
            got += 1
except psycopg2.Error as e:
    print("error", e.pgcode, e.pgerror.splitlines()[0])
conn.rollback()
cur = conn.cursor()
try:
    cur.execute("FETCH 1 FROM by_id")
except psycopg2.Error as e:
    print("error", e.pgcode, e.pgerror.splitlines()[0])
`
	out, err := exec.Command(py, "-c", script, host, port).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got int
	var errs []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 3 && f[0] == "row":
			got++
			if card, ok := real[f[1]]; !ok || f[2] == card || !strings.Contains(f[2], "*") {
				t.Errorf("row %s: id_card %q through the cursor, stored %q: not masked", f[1], f[2], card)
			}
		case len(f) > 1 && f[0] == "error":
			errs = append(errs, line)
		default:
			t.Errorf("unexpected output line %q", line)
		}
	}
	// The clerk's row cap is 100 across the cursor's FETCHes: the fourth
	// FETCH of 30 stops at it (psycopg2 reports the error, not its rows).
	if got != 90 || len(errs) != 2 || !strings.Contains(errs[0], "54000") || !strings.Contains(errs[0], "row limit") || !strings.Contains(errs[1], "42501") {
		t.Errorf("psycopg2 named cursor: %d rows, errors %q; want 90 rows, the row cap's error, then a refused FETCH from an unknown cursor\n%s", got, errs, out)
	}

	// psql's FETCH_COUNT reads results through a cursor.
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("no psql")
	}
	cmd := exec.Command(psql, "-h", host, "-p", port, "-U", "clerk", "-d", "gov", "-X", "-A", "-t", "-F", " ",
		"-v", "FETCH_COUNT=7", "-v", "ON_ERROR_STOP=1", "-c", "SELECT id, id_card FROM person WHERE id <= 20 ORDER BY id")
	cmd.Env = append(os.Environ(), "PGPASSWORD=clerk-pass")
	out, err = cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql with FETCH_COUNT: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 20 {
		t.Fatalf("psql with FETCH_COUNT: %d lines, want 20\n%s", len(lines), out)
	}
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) != 2 || f[1] == real[f[0]] || !strings.Contains(f[1], "*") {
			t.Errorf("psql row %q: id_card not masked (stored %q)", line, real[f[0]])
		}
	}
}

// TestPostgresPreparedFetchFollowsItsCursor: a FETCH prepared once through
// the protocol and executed again after its cursor was closed and declared
// anew over other columns is decided by the cursor as it is at each run.
func TestPostgresPreparedFetchFollowsItsCursor(t *testing.T) {
	p := startDemoProxy(t, nil)
	ctx := context.Background()
	c, err := pgconn.Connect(ctx, "postgres://clerk:clerk-pass@"+p.postgres+"/gov?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	exec := func(sql string) {
		t.Helper()
		if _, err := c.Exec(ctx, sql).ReadAll(); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	fetch := func() ([][][]byte, error) {
		res := c.ExecPrepared(ctx, "f", nil, nil, nil).Read()
		return res.Rows, res.Err
	}
	masked := func(v []byte) bool { return strings.Contains(string(v), "*") }

	exec("BEGIN")
	exec("DECLARE c CURSOR FOR SELECT id, id_card FROM person WHERE id <= 5 ORDER BY id")
	if _, err := c.Prepare(ctx, "f", "FETCH 2 FROM c", nil); err != nil {
		t.Fatal(err)
	}
	rows, err := fetch()
	if err != nil || len(rows) != 2 || masked(rows[0][0]) || !masked(rows[0][1]) {
		t.Fatalf("FETCH (id, id_card): %q, %v; want id as is, id_card masked", rows, err)
	}
	exec("CLOSE c")
	// Declared again through the extended protocol this time.
	if _, err := c.ExecParams(ctx, "DECLARE c CURSOR FOR SELECT id_card, id FROM person WHERE id <= $1 ORDER BY id",
		[][]byte{[]byte("5")}, nil, nil, nil).Close(); err != nil {
		t.Fatal(err)
	}
	rows, err = fetch()
	if err != nil || len(rows) != 2 || !masked(rows[0][0]) || masked(rows[0][1]) {
		t.Fatalf("the same prepared FETCH after DECLARE (id_card, id): %q, %v; want id_card masked", rows, err)
	}
	exec("CLOSE c")
	if rows, err := fetch(); err == nil || !strings.Contains(err.Error(), "42501") {
		t.Fatalf("FETCH after CLOSE: %q, %v; want refused", rows, err)
	}
}

// TestPostgresPipelinedDeclareIsNotReadUnderAnOldPlan: a FETCH pipelined
// behind a DECLARE that replaces a cursor name is never decided by the plan
// the proxy held for that name before (here: a cursor closed in an earlier
// pipeline, whose DECLARE completed after its CLOSE was sent).
func TestPostgresPipelinedDeclareIsNotReadUnderAnOldPlan(t *testing.T) {
	p := startDemoProxy(t, nil)
	ctx := context.Background()
	c, err := pgconn.Connect(ctx, "postgres://clerk:clerk-pass@"+p.postgres+"/gov?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "BEGIN").ReadAll(); err != nil {
		t.Fatal(err)
	}
	// pipeline sends the queries in one pipeline and fails on any id_card
	// that comes back in clear.
	pipeline := func(queries ...string) {
		t.Helper()
		pl := c.StartPipeline(ctx)
		for _, q := range queries {
			pl.SendQueryParams(q, nil, nil, nil, nil)
		}
		if err := pl.Sync(); err != nil {
			t.Fatal(err)
		}
		for {
			res, err := pl.GetResults()
			if err != nil || res == nil {
				break // the end, or the pipeline aborted and the rest is skipped
			}
			r, ok := res.(*pgconn.ResultReader)
			if !ok {
				continue
			}
			for _, row := range r.Read().Rows {
				for _, cell := range row {
					if len(cell) == 18 && !strings.Contains(string(cell), "*") {
						t.Fatalf("an id_card came back in clear: %q", cell)
					}
				}
			}
		}
		_ = pl.Close()
	}
	pipeline("DECLARE c CURSOR FOR SELECT id, 'x'::text FROM person WHERE id = 1", "CLOSE c")
	pipeline("DECLARE c CURSOR FOR SELECT id, id_card FROM person WHERE id = 1", "FETCH 1 FROM c")
}
