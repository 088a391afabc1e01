package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"gopkg.in/yaml.v3"

	"github.com/dbfence/dbfence/config"
)

// startMonitorProxy starts the demo proxy with a policy whose role for the
// clerk is in monitor mode and masks addresses.
func startMonitorProxy(t *testing.T) *demoRun {
	const policy = `
version: monitor-1
default_role: unrestricted
classification:
  - {column: gov.person.address, class: address, level: 3}
principals:
  - {users: [clerk], role: trial}
roles:
  trial:
    monitor: true
    classes:
      address: {action: mask, algorithm: address}
`
	return startDemoProxy(t, func(c *config.Config) {
		var node yaml.Node
		if err := yaml.Unmarshal([]byte(policy), &node); err != nil {
			t.Fatal(err)
		}
		c.Policy = *node.Content[0]
	})
}

// TestMonitorModeDecidesButDoesNotBlock: a monitor-mode role gets what it
// asks for, and what the policy would have refused shows in the metrics.
func TestMonitorModeDecidesButDoesNotBlock(t *testing.T) {
	p := startMonitorProxy(t)
	db := dbAs(t, p.mysql, "clerk", "")
	rows, err := queryAll(db, "SELECT UPPER(address) FROM person WHERE id = 1")
	if err != nil || len(rows) != 1 {
		t.Fatalf("monitor role was blocked: %v", err)
	}
	resp, err := http.Get("http://" + p.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `dbfence_monitor_would_refuse_total{outcome="deny",protocol="mysql",rule="transformed_masked_column"} 1`) {
		t.Fatalf("monitor decision not counted:\n%s", grepLines(string(body), "monitor"))
	}
}

// TestMonitorModeDoesNotCutPostgresResults: a PostgreSQL monitor-mode role
// runs statements whose results the proxy cannot predict (an SQL EXECUTE of
// a prepared SELECT, a masked column read through it); monitor mode logs
// what enforcement would refuse and relays the rows.
func TestMonitorModeDoesNotCutPostgresResults(t *testing.T) {
	p := startMonitorProxy(t)
	ctx := context.Background()
	pg, err := pgx.Connect(ctx, "postgres://clerk:clerk-pass@"+p.postgres+"/gov?sslmode=disable&default_query_exec_mode=simple_protocol")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(ctx)
	if _, err := pg.Exec(ctx, "PREPARE monitored AS SELECT address FROM gov.person WHERE id = $1"); err != nil {
		t.Fatalf("PREPARE: %v", err)
	}
	var address string
	if err := pg.QueryRow(ctx, "EXECUTE monitored(1)").Scan(&address); err != nil {
		t.Fatalf("EXECUTE of a monitor-mode role was cut off: %v", err)
	}
	if address == "" {
		t.Error("empty address")
	}
	resp, err := http.Get("http://" + p.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if lines := grepLines(string(body), "dbfence_monitor_would_refuse_total{"); !strings.Contains(lines, `protocol="postgres"`) {
		t.Errorf("the EXECUTE enforcement would refuse was not counted:\n%s", lines)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestMetricsAndHealth: after some traffic /metrics shows connections,
// statements by command and outcome, latency, bytes and errors, and
// /healthz reports the audit log healthy.
func TestMetricsAndHealth(t *testing.T) {
	p := startDemoProxy(t, nil)
	db := dbAs(t, p.mysql, "clerk", "")
	if _, err := queryAll(db, "SELECT name FROM person WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	_, _ = queryAll(db, "SELECT UPPER(address) FROM person WHERE id = 1")
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + p.admin + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, body := get("/metrics")
	for _, want := range []string{
		`dbfence_connections_total{outcome="ok",protocol="mysql"}`,
		`dbfence_statements_total{command="query",outcome="ok",protocol="mysql"}`,
		`dbfence_statements_total{command="query",outcome="denied",protocol="mysql"} 1`,
		`dbfence_command_duration_seconds_bucket{command="query",protocol="mysql"`,
		`dbfence_bytes_total{direction="backend_to_client",protocol="mysql"}`,
		`dbfence_errors_total{kind="column_denied",protocol="mysql"} 1`,
		`dbfence_rows_total{protocol="mysql",treatment="masked"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if code, body := get("/healthz"); code != 200 || !strings.Contains(body, `"audit":"ok"`) {
		t.Errorf("/healthz: %d %s", code, body)
	}
}
