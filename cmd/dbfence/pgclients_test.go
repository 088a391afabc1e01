package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Real PostgreSQL clients through serve, as an unrestricted user: psycopg2
// (Debian python3-psycopg2), the PostgreSQL JDBC driver, pg_dump and psql.
// Restricted roles through real clients: TestPostgresCursorsThroughServe and
// the bypass catalogue.

func pgHostPort(t *testing.T, addr string) (string, string) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

func TestPsycopg2ThroughServe(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import psycopg2").Run(); err != nil {
		t.Skip("needs python3-psycopg2 (scripts/ensure-databases.sh installs it)")
	}
	p := startDemoProxy(t, nil)
	host, port := pgHostPort(t, p.postgres)
	script := `
import sys, psycopg2
conn = psycopg2.connect(host=sys.argv[1], port=int(sys.argv[2]), user="postgres", dbname="gov")
cur = conn.cursor()
cur.execute("SELECT id, name FROM person WHERE id = %s", (3,))
print(cur.fetchone()[0])
cur.execute("SELECT count(*) FROM person")
print(cur.fetchone()[0])
try:
    cur.execute("SELEC 1")
except psycopg2.Error as e:
    print("error", e.pgcode)
`
	out, err := exec.Command(py, "-c", script, host, port).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Fields(string(out))
	if len(lines) < 4 || lines[0] != "3" || lines[len(lines)-1] != "42601" {
		t.Fatalf("psycopg2 output: %q", out)
	}
}

func TestPostgresJDBCThroughServe(t *testing.T) {
	jar := "/usr/share/java/postgresql.jar"
	javac, err1 := exec.LookPath("javac")
	java, err2 := exec.LookPath("java")
	if _, err := os.Stat(jar); err != nil || err1 != nil || err2 != nil {
		t.Skip("needs javac, java and libpostgresql-jdbc-java")
	}
	p := startDemoProxy(t, nil)
	classes := t.TempDir()
	if out, err := exec.Command(javac, "-d", classes, "testdata/pg/PgRead.java").CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	url := "jdbc:postgresql://" + p.postgres + "/gov?user=postgres&prepareThreshold=2"
	out, err := exec.Command(java, "-cp", classes+string(filepath.ListSeparator)+jar, "PgRead", url).CombinedOutput()
	if err != nil {
		t.Fatalf("java: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 7 || !strings.HasPrefix(lines[6], "count\t") || !strings.HasPrefix(lines[5], "6\t") {
		t.Fatalf("JDBC output:\n%s", out)
	}
}

func TestPgDumpThroughServe(t *testing.T) {
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		t.Skip("needs pg_dump")
	}
	p := startDemoProxy(t, nil)
	host, port := pgHostPort(t, p.postgres)
	out, err := exec.Command(bin, "-h", host, "-p", port, "-U", "postgres", "-t", "person", "gov").CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "CREATE TABLE gov.person") || !strings.Contains(string(out), "COPY gov.person") ||
		strings.Count(string(out), "\n") < 10000 {
		t.Fatalf("dump:\n%.2000s", out)
	}
	// Restricted roles are refused (fail closed) until PostgreSQL is analysed.
	cmd := exec.Command(bin, "-h", host, "-p", port, "-U", "clerk", "-t", "person", "gov")
	cmd.Env = append(os.Environ(), "PGPASSWORD=clerk-pass")
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("pg_dump as the clerk was not refused:\n%.300s", out)
	}
}
