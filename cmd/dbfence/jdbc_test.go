package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestJDBCDecodesMaskedColumns runs the MariaDB JDBC driver (Debian
// libmariadb-java) through the demo as the clerk, with server-side prepared
// statements (binary rows) and plain statements (text rows): every column
// must decode with its typed getter, personal data must come back masked,
// and no hidden part may appear.
func TestJDBCDecodesMaskedColumns(t *testing.T) {
	jar := "/usr/share/java/mariadb-java-client.jar"
	javac, err1 := exec.LookPath("javac")
	java, err2 := exec.LookPath("java")
	if _, err := os.Stat(jar); err != nil || err1 != nil || err2 != nil {
		t.Skip("needs javac, java and libmariadb-java (scripts/ensure-databases.sh installs them)")
	}
	p := startDemoProxy(t, nil)
	classes := t.TempDir()
	if out, err := exec.Command(javac, "-d", classes, "testdata/jdbc/MaskedRead.java").CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	url := "jdbc:mariadb://" + p.mysql + "/gov?user=clerk&password=clerk-pass&useServerPrepStmts=true"
	out, err := exec.Command(java, "-cp", classes+string(filepath.ListSeparator)+jar, "MaskedRead", url).CombinedOutput()
	if err != nil {
		t.Fatalf("java: %v\n%s", err, out)
	}
	truth := loadTruth(t)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 6 {
		t.Fatalf("want 3 binary and 3 text rows, got:\n%s", out)
	}
	for _, line := range lines {
		f := strings.Split(line, "\t")
		if len(f) != 9 {
			t.Fatalf("row %q", line)
		}
		if l := truth.leak(line, []int{1, 2, 3}); l != "" {
			t.Fatalf("LEAK through JDBC: %s", l)
		}
		idCard, phone, bank, birthday := f[3], f[4], f[6], f[7]
		if !strings.Contains(idCard, "********") || !strings.Contains(phone, "****") || !strings.Contains(bank, "******") {
			t.Errorf("%s row not masked: %q", f[0], line)
		}
		if !strings.HasSuffix(birthday, "-01-01") {
			t.Errorf("%s row: birthday %q is not generalized to its year", f[0], birthday)
		}
	}
}
