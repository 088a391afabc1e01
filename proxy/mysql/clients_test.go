package mysql

import (
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// These tests drive the proxy with the real command-line clients DBAs use.

func needBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (scripts/ensure-databases.sh installs it)", name)
	}
	return p
}

func hostPort(t *testing.T, addr string) (string, string) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

func TestMariaDBCommandLineClient(t *testing.T) {
	setupTestDB(t)
	bin := needBinary(t, "mariadb")
	host, port := hostPort(t, startProxy(t, passGate{}, nil))
	out, err := exec.Command(bin, "-h", host, "-P", port, "-uroot", "--batch", "dbfence_test_proxy", "-e",
		"SELECT name FROM people WHERE id=2; SELECT COUNT(*) FROM people; SHOW TABLES; USE mysql; SELECT DATABASE()").CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, want := range []string{"欧阳娜娜", "\n3\n", "people", "\nmysql\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestMysqldumpThroughProxy(t *testing.T) {
	setupTestDB(t)
	bin := needBinary(t, "mysqldump")
	host, port := hostPort(t, startProxy(t, passGate{}, nil))
	out, err := exec.Command(bin, "-h", host, "-P", port, "-uroot", "--single-transaction", "dbfence_test_proxy", "people").CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, want := range []string{"CREATE TABLE `people`", "INSERT INTO `people` VALUES", "'欧阳娜娜'", "Dump completed"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("dump lacks %q", want)
		}
	}
}

func TestSysbenchReadWriteThroughProxy(t *testing.T) {
	root := setupTestDB(t)
	bin := needBinary(t, "sysbench")
	for _, s := range []string{
		"CREATE DATABASE IF NOT EXISTS dbfence_test_sysbench",
		"CREATE USER IF NOT EXISTS 'dbf_sb'@'%' IDENTIFIED BY 'dbf-sb-pass'",
		"GRANT ALL ON dbfence_test_sysbench.* TO 'dbf_sb'@'%'",
	} {
		if _, err := root.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	common := []string{"oltp_read_write", "--mysql-host=127.0.0.1", "--mysql-user=dbf_sb", "--mysql-password=dbf-sb-pass",
		"--mysql-db=dbfence_test_sysbench", "--tables=2", "--table-size=1000"}
	direct := append(append([]string{}, common...), "--mysql-port=3306")
	exec.Command(bin, append(direct, "cleanup")...).Run()
	if out, err := exec.Command(bin, append(direct, "prepare")...).CombinedOutput(); err != nil {
		t.Fatalf("prepare: %v: %s", err, out)
	}
	_, port := hostPort(t, startProxy(t, passGate{}, nil))
	queries := regexp.MustCompile(`queries:\s+(\d+)`)
	for _, mode := range []string{"auto", "disable"} {
		args := append(append([]string{}, common...), "--mysql-port="+port, "--threads=4", "--time=3", "--db-ps-mode="+mode, "run")
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil || strings.Contains(string(out), "FATAL") {
			t.Fatalf("ps-mode %s: %v\n%s", mode, err, out)
		}
		m := queries.FindSubmatch(out)
		if m == nil {
			t.Fatalf("ps-mode %s: no query count:\n%s", mode, out)
		}
		if n, _ := strconv.Atoi(string(m[1])); n < 100 {
			t.Fatalf("ps-mode %s: only %d queries", mode, n)
		}
	}
}
