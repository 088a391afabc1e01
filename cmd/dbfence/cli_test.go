package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbfence/dbfence/masking"
)

// cli runs the binary's entry point in-process.
func cli(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("listen:\n  mysql: 127.0.0.1:3307\npolicy:\n  version: x\n  roles:\n    clerk:\n      row_cap: 10\n      colour: blue\n"), 0o600)
	badMask := filepath.Join(dir, "badmask.yaml")
	os.WriteFile(badMask, []byte("policy:\n  version: x\n  default_role: unrestricted\n  roles:\n    clerk:\n      classes:\n        id_card: {action: mask, algorithm: no_such_algorithm}\n"), 0o600)
	badAudit := filepath.Join(dir, "badaudit.yaml")
	os.WriteFile(badAudit, []byte("audit:\n  dir: "+dir+"\n  mode: stric\n"), 0o600)
	fileAudit := filepath.Join(dir, "fileaudit.yaml")
	os.WriteFile(fileAudit, []byte("audit:\n  dir: "+badAudit+"\n"), 0o600)
	badPort := filepath.Join(dir, "badport.yaml")
	os.WriteFile(badPort, []byte("listen:\n  mysql: 127.0.0.1:99999\n"), 0o600)
	tests := []struct {
		desc        string
		args        []string
		code        int
		out, errOut string
	}{
		{"no arguments prints usage", nil, 2, "", "Commands:"},
		{"help lists every command", []string{"help"}, 0, "discover", ""},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"check accepts the demo configuration", []string{"check", "--config", "../../configs/demo.yaml"}, 0, "ok: policy \"demo-1\"", ""},
		{"check accepts the documented example", []string{"check", "--config", "../../configs/dbfence.example.yaml"}, 0, "ok: policy", ""},
		{"check names the line of an unknown key", []string{"check", "--config", bad}, 1, "", "bad.yaml:8"},
		{"check builds every masker", []string{"check", "--config", badMask}, 1, "", "no_such_algorithm"},
		{"check of a missing file", []string{"check", "--config", filepath.Join(dir, "none.yaml")}, 1, "", "no such file"},
		{"check reads the audit section", []string{"check", "--config", badAudit}, 1, "", `audit (line 2): mode "stric"`},
		{"check refuses an audit dir that is a file", []string{"check", "--config", fileAudit}, 1, "", "is not a directory"},
		{"check refuses a port out of range", []string{"check", "--config", badPort}, 1, "", "listen.mysql"},
		{"explain a transformed masked column", []string{"explain", "--offline", "--config", "../../configs/demo.yaml", "--user", "clerk", "--database", "gov",
			"SELECT UPPER(address) FROM person WHERE id = 1"}, 0, "deny", ""},
		{"explain a PostgreSQL statement", []string{"explain", "--offline", "--config", "../../configs/demo.yaml", "--protocol", "postgres",
			"--user", "clerk", "--database", "gov", "--search-path", "gov, public", "SELECT upper(address) FROM gov.person"}, 0,
			"database gov, search_path gov, public\nuser clerk: role clerk", ""},
		{"explain knows two protocols", []string{"explain", "--config", "../../configs/demo.yaml", "--protocol", "oracle", "--user", "clerk", "SELECT 1"}, 2, "", "Usage"},
		{"explain needs a user", []string{"explain", "--config", "../../configs/demo.yaml", "SELECT 1"}, 2, "", "Usage"},
		{"discover needs a DSN", []string{"discover"}, 2, "", "Usage"},
		{"serve with a bad policy fails before listening", []string{"serve", "--config", bad}, 1, "", "bad.yaml:8"},
	}
	for _, tc := range tests {
		code, out, errOut := cli(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.errOut) {
			t.Errorf("%s: exit %d\nstdout: %s\nstderr: %s", tc.desc, code, out, errOut)
		}
	}
}

func TestUnmaskReversesTokens(t *testing.T) {
	const key = "hex:00112233445566778899aabbccddeeff"
	m, err := masking.New("sm4_token", map[string]string{"key": key})
	if err != nil {
		t.Fatal(err)
	}
	token := string(m.Mask(nil, []byte("110105194912310021")))
	code, out, errOut := cli("unmask", "--key", key, token)
	if code != 0 || strings.TrimSpace(out) != "110105194912310021" {
		t.Fatalf("exit %d, %q %q", code, out, errOut)
	}
	if code, _, _ := cli("unmask", "--key", "hex:ffffffffffffffffffffffffffffffff", token); code != 1 {
		t.Fatalf("a wrong key must not unmask (exit %d)", code)
	}
}

// TestExplainPostgresReadsTheCatalog: explaining a PostgreSQL statement
// reads the database's catalog and the search_path ALTER DATABASE gives it,
// so an unqualified name resolves as in a real session and masked columns
// show their classes.
func TestExplainPostgresReadsTheCatalog(t *testing.T) {
	startDemoProxy(t, nil) // seeds the demo databases
	code, out, errOut := cli("explain", "--config", "../../configs/demo.yaml", "--protocol", "postgres", "--user", "clerk", "--database", "gov",
		"SELECT name, id_card FROM person WHERE id = 1")
	for _, want := range []string{"search_path gov, public", "statement 1: select: allow", `column 2: masked (class "id_card"`, "expected origin gov.person.id_card"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("exit %d, want %q in\n%s%s", code, want, out, errOut)
		}
	}
}
