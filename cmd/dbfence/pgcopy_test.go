package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbfence/dbfence/config"
)

// TestPostgresApprovedCopyIsMasked: a clerk's COPY ... TO STDOUT is an
// export and needs an approval; the approved run's rows are masked field by
// field, in text and CSV format (psql's \copy), and stop at the approved
// row count.
func TestPostgresApprovedCopyIsMasked(t *testing.T) {
	store := t.TempDir() + "/approvals.json"
	p := startDemoProxy(t, func(c *config.Config) {
		c.Approval = config.Approval{Store: store, Approvers: []string{"chief"}, ApproverTokens: map[string]string{"chief": "chief-token"}}
	})
	ctx := context.Background()
	c, err := pgconn.Connect(ctx, "postgres://clerk:clerk-pass@"+p.postgres+"/gov?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	// approveRequest approves, for rows, the request a refusal message names.
	approveRequest := func(refusal string, rows int) {
		t.Helper()
		id := regexp.MustCompile(`R-\d{8}-\d{4}`).FindString(refusal)
		if id == "" || !strings.Contains(refusal, "approval required") {
			t.Fatalf("not a refusal for want of an approval: %s", refusal)
		}
		req, _ := http.NewRequest("POST", "http://"+p.admin+"/approvals/"+id+"/approve?rows="+strconv.Itoa(rows), nil)
		req.Header.Set("Authorization", "Bearer chief-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("approve %s: %v %v", id, resp, err)
		}
		resp.Body.Close()
	}
	approve := func(sql string, rows int) {
		t.Helper()
		_, err := c.CopyTo(ctx, &bytes.Buffer{}, sql)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			t.Fatalf("%s without an approval: %v", sql, err)
		}
		approveRequest(pe.Message, rows)
	}
	direct, err := pgconn.Connect(ctx, "postgres://postgres@127.0.0.1:5432/gov?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close(ctx)

	const text = "COPY (SELECT id, name, id_card, phone FROM person WHERE id <= 20 ORDER BY id) TO STDOUT"
	var want bytes.Buffer
	if _, err := direct.CopyTo(ctx, &want, text); err != nil {
		t.Fatal(err)
	}
	approve(text, 20)
	var got bytes.Buffer
	if tag, err := c.CopyTo(ctx, &got, text); err != nil || tag.RowsAffected() != 20 {
		t.Fatalf("approved COPY: %v, %v", tag, err)
	}
	plain, masked := strings.Split(strings.TrimSpace(want.String()), "\n"), strings.Split(strings.TrimSpace(got.String()), "\n")
	if len(masked) != 20 {
		t.Fatalf("approved COPY: %d rows, want 20:\n%s", len(masked), got.String())
	}
	for i := range masked {
		pf, mf := strings.Split(plain[i], "\t"), strings.Split(masked[i], "\t")
		if len(mf) != 4 || mf[0] != pf[0] {
			t.Fatalf("row %d: %q (stored %q)", i, masked[i], plain[i])
		}
		for j := 1; j < 4; j++ {
			if mf[j] == pf[j] || !strings.Contains(mf[j], "*") {
				t.Errorf("row %d column %d: %q through dbfence, stored %q: not masked", i, j+1, mf[j], pf[j])
			}
		}
	}

	// The approved row count is a cap: the run stops there.
	const capped = "COPY (SELECT id, id_card FROM person WHERE id <= 50 ORDER BY id) TO STDOUT"
	approve(capped, 10)
	got.Reset()
	_, err = c.CopyTo(ctx, &got, capped)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "54000" || strings.Count(got.String(), "\n") > 10 {
		t.Fatalf("COPY beyond its approval: %v; %d lines relayed", err, strings.Count(got.String(), "\n"))
	}

	// psql's \copy, CSV with a header.
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("no psql")
	}
	host, port := pgHostPort(t, p.postgres)
	psqlCopy := func() ([]byte, error) {
		cmd := exec.Command(psql, "-h", host, "-p", port, "-U", "clerk", "-d", "gov", "-X", "-v", "ON_ERROR_STOP=1",
			"-c", `\copy (SELECT id, name, address FROM person WHERE id <= 5 ORDER BY id) TO STDOUT WITH CSV HEADER`)
		cmd.Env = append(os.Environ(), "PGPASSWORD=clerk-pass")
		return cmd.CombinedOutput()
	}
	out, err := psqlCopy()
	if err == nil {
		t.Fatalf("psql \\copy without an approval: %s", out)
	}
	approveRequest(string(out), 5)
	out, err = psqlCopy()
	if err != nil {
		t.Fatalf("psql \\copy: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 6 || lines[0] != "id,name,address" {
		t.Fatalf("psql \\copy CSV: %q", out)
	}
	for _, l := range lines[1:] {
		if strings.Count(l, "*") < 2 || !strings.Contains(l, `,"`) {
			t.Errorf("CSV row %q: name and address not masked", l)
		}
	}
}
