package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbfence/dbfence/audit"
	"github.com/dbfence/dbfence/config"
)

// TestPostgresThroughServe: the PostgreSQL listener relays an unrestricted
// user's statements (simple and extended protocol), refuses unparseable
// text; the clerk gets masked data, the analyst is refused personal
// columns, the officer sees everything.
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
	var truth string
	if err := conn.QueryRow(ctx, "SELECT name FROM person WHERE id = 1").Scan(&truth); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		var name string
		if err := clerk.QueryRow(ctx, "SELECT name FROM person WHERE id = $1", mode, 1).Scan(&name); err != nil {
			t.Fatalf("mode %v: clerk's lookup: %v", mode, err)
		}
		if name == truth || []rune(name)[0] != []rune(truth)[0] || !strings.Contains(name, "*") {
			t.Errorf("mode %v: clerk sees name %q for %q, want it masked with the surname kept", mode, name, truth)
		}
	}
	analyst, err := pgx.Connect(ctx, "postgres://analyst:analyst-pass@"+p.postgres+"/gov?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer analyst.Close(ctx)
	var n int64
	if err := analyst.QueryRow(ctx, "SELECT count(*) FROM person WHERE dept IS NOT NULL").Scan(&n); err != nil || n == 0 {
		t.Fatalf("analyst's count: %d %v", n, err)
	}
	var name string
	err = analyst.QueryRow(ctx, "SELECT name FROM person WHERE id = 1").Scan(&name)
	if !errors.As(err, &pe) || pe.Code != "42501" {
		t.Fatalf("analyst reading a denied column: %v (name %q)", err, name)
	}
	officer, err := pgx.Connect(ctx, "postgres://officer:officer-pass@"+p.postgres+"/gov?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer officer.Close(ctx)
	if err := officer.QueryRow(ctx, "SELECT name FROM person WHERE id = 1").Scan(&name); err != nil || name != truth {
		t.Fatalf("officer sees %q (%v), want %q", name, err, truth)
	}
}

// TestPostgresApprovalStory: on PostgreSQL too, the clerk's bulk read is
// refused with a request id; once an approver approves it, the re-run (simple
// protocol) succeeds exactly once, masked, with the approved rows even beyond
// the rolling budget; a
// prepared run (extended protocol) of the same statement needs an approval
// of its own; the audit record names the approval.
func TestPostgresApprovalStory(t *testing.T) {
	dir := t.TempDir()
	store := dir + "/approvals.json"
	p := startDemoProxy(t, func(c *config.Config) {
		c.Approval = config.Approval{Store: store, Approvers: []string{"chief"}, ApproverTokens: map[string]string{"chief": "chief-token"}}
	})
	ctx := context.Background()
	clerk, err := pgx.Connect(ctx, "postgres://clerk:clerk-pass@"+p.postgres+"/gov?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer clerk.Close(ctx)
	const bulk = "SELECT id, name, id_card FROM person ORDER BY id LIMIT 1200"
	count := func(mode pgx.QueryExecMode) (int, string, error) {
		rows, err := clerk.Query(ctx, bulk, mode)
		if err != nil {
			return 0, "", err
		}
		n, card := 0, ""
		for rows.Next() {
			var id int64
			var name, c string
			if err := rows.Scan(&id, &name, &c); err != nil {
				return n, card, err
			}
			n, card = n+1, c
		}
		return n, card, rows.Err()
	}
	_, _, err = count(pgx.QueryExecModeSimpleProtocol)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42501" || !strings.Contains(pe.Message, "approval required: request R-") {
		t.Fatalf("bulk read: %v", err)
	}
	id := regexp.MustCompile(`R-\d{8}-\d{4}`).FindString(pe.Message)
	req, _ := http.NewRequest("POST", "http://"+p.admin+"/approvals/"+id+"/approve?rows=1200", nil)
	req.Header.Set("Authorization", "Bearer chief-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("approve: %v %v", resp, err)
	}
	resp.Body.Close()
	n, card, err := count(pgx.QueryExecModeSimpleProtocol)
	// 1,200 rows: beyond the clerk's rolling budget of 1,000, which bounds
	// what runs without an approval, not what an approval authorises.
	if err != nil || n != 1200 || !strings.Contains(card, "*") {
		t.Fatalf("approved run: %d rows (last id_card %q), %v", n, card, err)
	}
	if _, _, err := count(pgx.QueryExecModeSimpleProtocol); err == nil {
		t.Fatal("a single-use approval allowed a second run")
	}
	if _, _, err := count(pgx.QueryExecModeExec); !errors.As(err, &pe) || !strings.Contains(pe.Message, "approval required") {
		t.Fatalf("prepared run without an approval: %v", err)
	}
	clerk.Close(ctx)
	p.stop()
	r, err := audit.NewReader(p.auditDir, audit.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for {
		rec, _, err := r.Next(ctx)
		if err != nil {
			break
		}
		if rec.Type == audit.TypeStatement && rec.ApprovalID == id && rec.Decision == "allow" && rec.Protocol == "postgres" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no audit record of the approved PostgreSQL run naming %s", id)
	}
}

// TestPostgresApprovalFiledAhead: a request filed with the CLI for a
// PostgreSQL statement names the statement as the proxy reads it there.
func TestPostgresApprovalFiledAhead(t *testing.T) {
	dir := t.TempDir()
	store := dir + "/approvals.json"
	p := startDemoProxy(t, func(c *config.Config) {
		c.Approval = config.Approval{Store: store, Approvers: []string{"chief"}, ApproverTokens: map[string]string{"chief": "chief-token"}}
	})
	cfgFile := dir + "/approvals.yaml"
	if err := os.WriteFile(cfgFile, []byte("listen: {admin: "+p.admin+"}\napproval:\n  store: "+store+"\n  approvers: [chief]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const bulk = "SELECT id, name FROM person ORDER BY id LIMIT 130"
	code, out, errOut := cli("approval", "--config", cfgFile, "--protocol", "postgres", "--user", "clerk", "--database", "gov",
		"--rows", "130", "--reason", "quarterly statistics", "request", bulk)
	id := regexp.MustCompile(`R-\d{8}-\d{4}`).FindString(out)
	if code != 0 || id == "" || !strings.Contains(out, "LIMIT $1") {
		t.Fatalf("request: %d %s %s", code, out, errOut)
	}
	t.Setenv("DBFENCE_APPROVER_TOKEN", "chief-token")
	if code, out, errOut := cli("approval", "--config", cfgFile, "approve", id); code != 0 {
		t.Fatalf("approve: %s %s", out, errOut)
	}
	ctx := context.Background()
	clerk, err := pgx.Connect(ctx, "postgres://clerk:clerk-pass@"+p.postgres+"/gov?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer clerk.Close(ctx)
	rows, err := clerk.Query(ctx, bulk, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	if rows.Err() != nil || n != 130 {
		t.Fatalf("run approved ahead: %d rows, %v", n, rows.Err())
	}
}
