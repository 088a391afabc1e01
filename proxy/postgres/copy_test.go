package postgres

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbfence/dbfence/rules"
)

func TestCopy(t *testing.T) {
	setupTestDB(t)
	const copyOut = "COPY (SELECT id, name FROM people ORDER BY id) TO STDOUT"
	const copyMasked = "COPY people TO STDOUT"
	gate := passGate{plan: map[string]rules.StatementVerdict{
		copyMasked: {Kind: "copy", Outcome: rules.Allow, Columns: maskPlan.Columns},
	}}
	addr, _ := startProxy(t, gate, nil)
	ctx := context.Background()
	c := connect(t, addr, "dbfence_test", "dbfence-test-pass", testDB, pgx.QueryExecModeSimpleProtocol)
	pc := c.PgConn()

	var out bytes.Buffer
	if _, err := pc.CopyTo(ctx, &out, copyOut); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "1\t张三\n") {
		t.Fatalf("COPY TO STDOUT: %q", out.String())
	}

	out.Reset()
	_, err := pc.CopyTo(ctx, &out, copyMasked)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "0A000" || strings.Contains(out.String(), "张三") {
		t.Fatalf("COPY of masked columns: %v, %q", err, out.String())
	}

	if _, err := c.Exec(ctx, "CREATE TEMP TABLE t_in (a int, b text)"); err != nil {
		t.Fatal(err)
	}
	tag, err := pc.CopyFrom(ctx, strings.NewReader("1\tx\n2\ty\n"), "COPY t_in FROM STDIN")
	if err != nil || tag.RowsAffected() != 2 {
		t.Fatalf("COPY FROM STDIN: %v %v", tag, err)
	}
	// A COPY FROM STDIN the backend fails mid-way.
	_, err = pc.CopyFrom(ctx, strings.NewReader("1\tx\nnot-a-number\ty\n"), "COPY t_in FROM STDIN")
	if !errors.As(err, &pe) || pe.Code != "22P02" {
		t.Fatalf("bad COPY data: %v", err)
	}
	// pgx's CopyFrom uses the binary COPY format.
	n, err := c.CopyFrom(ctx, pgx.Identifier{"t_in"}, []string{"a", "b"}, pgx.CopyFromRows([][]any{{3, "z"}, {4, "w"}}))
	if err != nil || n != 2 {
		t.Fatalf("pgx CopyFrom: %d %v", n, err)
	}
	var count int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM t_in").Scan(&count); err != nil || count != 4 {
		t.Fatalf("rows copied: %d %v", count, err)
	}
}

func TestSideChannelsOfRestrictedSessions(t *testing.T) {
	setupTestDB(t)
	const masked = "SELECT name FROM people WHERE id = 1"
	const notice = "DO $$BEGIN RAISE NOTICE 'secret %', 110101198705064512; END$$"
	gate := passGate{plan: map[string]rules.StatementVerdict{
		masked: {Kind: "select", Outcome: rules.Allow, Columns: []rules.ColumnPlan{{Masker: starMasker{}}}},
	}}
	addr, _ := startProxy(t, gate, nil)
	ctx := context.Background()
	var notices []string
	cfg, _ := pgx.ParseConfig(connString(addr, "dbfence_test", "dbfence-test-pass", testDB))
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices = append(notices, n.Message) }
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	tests := []struct {
		desc string
		run  func() error
		want string
	}{
		{"an unrestricted session gets notices", func() error { _, err := c.Exec(ctx, notice); return err }, "secret 110101198705064512"},
		{"a masked statement makes the session restricted", func() error { _, err := c.Exec(ctx, masked); return err }, ""},
		{"then notice text is withheld", func() error { _, err := c.Exec(ctx, notice); return err }, "dbfence: message withheld (SQLSTATE 00000)"},
	}
	for _, tc := range tests {
		notices = notices[:0]
		if err := tc.run(); err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		if tc.want != "" && (len(notices) != 1 || notices[0] != tc.want) {
			t.Errorf("%s: notices %q", tc.desc, notices)
		}
	}
	// Notification payloads are emptied.
	if _, err := c.Exec(ctx, "LISTEN ch"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "SELECT pg_notify('ch', '110101198705064512')"); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := c.WaitForNotification(wctx)
	if err != nil || n.Channel != "ch" || n.Payload != "" {
		t.Fatalf("notification in a restricted session: %+v %v", n, err)
	}
	// application_name set from a value is emptied in ParameterStatus.
	if _, err := c.Exec(ctx, "SELECT set_config('application_name', 'x110101', false)"); err != nil {
		t.Fatal(err)
	}
	if v := c.PgConn().ParameterStatus("application_name"); v != "" {
		t.Fatalf("application_name reached the client: %q", v)
	}
	// Backend errors keep their SQLSTATE but not their text.
	_, err = c.Exec(ctx, "SELECT 'x110101'::int")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "22P02" || strings.Contains(pe.Message, "110101") {
		t.Fatalf("error in a restricted session: %v", err)
	}
}

func TestPsql(t *testing.T) {
	setupTestDB(t)
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("psql not installed")
	}
	addr, _ := startProxy(t, passGate{}, nil)
	host, port, _ := strings.Cut(addr, ":")
	tests := []struct {
		desc string
		args []string
		// stdin, when set, is fed to psql as a script.
		stdin string
		want  string
	}{
		{"one statement", []string{"-c", "SELECT name FROM people WHERE id = 2"}, "", "欧阳娜娜\n"},
		{"a multi-statement string", []string{"-c", "SELECT 1; SELECT 2; SELECT 'three'"}, "", "1\n2\nthree\n"},
		{"statements as separate commands", []string{"-c", "SELECT 4", "-c", "SELECT 5"}, "", "4\n5\n"},
	}
	for _, tc := range tests {
		args := append([]string{"-X", "-At", "-h", host, "-p", port, "-U", "dbfence_test", "-d", testDB}, tc.args...)
		cmd := exec.Command("psql", args...)
		if tc.stdin != "" {
			cmd.Stdin = strings.NewReader(tc.stdin)
		}
		cmd.Env = append(cmd.Environ(), "PGPASSWORD=dbfence-test-pass", "PGSSLMODE=prefer")
		out, err := cmd.CombinedOutput()
		if err != nil || string(out) != tc.want {
			t.Errorf("%s: %q %v", tc.desc, out, err)
		}
	}
}
