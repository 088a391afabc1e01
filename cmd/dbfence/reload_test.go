package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/dbfence/dbfence/audit"
	"github.com/dbfence/dbfence/config"
	"github.com/dbfence/dbfence/rules"
)

// TestPolicyReload: POST /admin/reload swaps in the file's policy at once;
// a broken file leaves the old policy in force and says why.
func TestPolicyReload(t *testing.T) {
	demoYAML, err := os.ReadFile("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dbfence.yaml")
	if err := os.WriteFile(path, demoYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	p := startDemoProxy(t, func(c *config.Config) { c.Path = path })
	db := dbAs(t, p.mysql, "clerk", "")
	if _, err := queryAll(db, "SELECT dept FROM person WHERE id = 1"); err != nil {
		t.Fatalf("before reload: %v", err)
	}
	reload := func() (int, string) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+p.admin+"/admin/reload", nil)
		req.Header.Set("Authorization", "Bearer demo-admin-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The clerk loses access to every table but gov.household.
	changed := strings.Replace(string(demoYAML), "version: demo-1", "version: demo-2", 1)
	changed = strings.Replace(changed, "    clerk:\n      tables: {allow: [\"gov.*\"]}", "    clerk:\n      tables: {allow: [\"gov.household\"]}", 1)
	if changed == string(demoYAML) || !strings.Contains(changed, "gov.household\"]}") {
		t.Fatal("test edit did not apply")
	}
	os.WriteFile(path, []byte(changed), 0o600)
	if code, body := reload(); code != 200 || !strings.Contains(body, "demo-2") {
		t.Fatalf("reload: %d %s", code, body)
	}
	if _, err := queryAll(db, "SELECT dept FROM person WHERE id = 1"); err == nil || !strings.Contains(err.Error(), "1142") {
		t.Fatalf("after reload the table should be denied: %v", err)
	}
	os.WriteFile(path, []byte(changed+"\n  bogus_key: 1\n"), 0o600)
	if code, body := reload(); code != 422 || !strings.Contains(body, "bogus_key") {
		t.Fatalf("broken reload: %d %s", code, body)
	}
	if _, err := queryAll(db, "SELECT dept FROM person WHERE id = 1"); err == nil {
		t.Fatal("a failed reload must keep the policy in force")
	}
	p.stop()
	r, err := audit.NewReader(p.auditDir, audit.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]bool{}
	for {
		rec, _, err := r.Next(context.Background())
		if err != nil {
			break
		}
		if rec.Type == audit.TypePolicyReload {
			outcomes[rec.Decision] = true
		}
	}
	if !outcomes["ok"] || !outcomes["failed"] {
		t.Fatalf("policy reloads not audited: %v", outcomes)
	}
}

// TestPolicyReloadNeedsItsStrictAuditRecord: with strict audit, a policy
// whose reload cannot be recorded is not applied.
func TestPolicyReloadNeedsItsStrictAuditRecord(t *testing.T) {
	demoYAML, err := os.ReadFile("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "dbfence.yaml")
	if err := os.WriteFile(path, demoYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	eng, err := rules.NewEngine(nil, nil, maskerFactory, nil)
	if err != nil {
		t.Fatal(err)
	}
	alog := closedStrictAuditLog(t, filepath.Join(dir, "audit"))
	r := &reloader{path: path, engine: eng, alog: alog, strict: true, log: zap.NewNop()}
	if _, err := r.reload("test"); err == nil || !strings.Contains(err.Error(), "audit log cannot be written") {
		t.Fatalf("reload with the audit log unusable: %v", err)
	}
	if eng.Restricted("clerk") {
		t.Fatal("the policy was applied without its audit record")
	}
}

// TestReloadNamesSectionsItDoesNotApply: a reload applies the policy only;
// every other section that changed in the file is named in a warning.
func TestReloadNamesSectionsItDoesNotApply(t *testing.T) {
	demoYAML, err := os.ReadFile("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dbfence.yaml")
	if err := os.WriteFile(path, demoYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	started, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := rules.NewEngine(nil, nil, maskerFactory, nil)
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.WarnLevel)
	r := &reloader{path: path, engine: eng, started: started, log: zap.New(core)}
	changed := strings.Replace(string(demoYAML), "token: demo-admin-token", "token: rotated-token", 1)
	changed = strings.Replace(changed, "level: info", "level: debug", 1)
	changed = strings.Replace(changed, "version: demo-1", "version: demo-2", 1)
	if err := os.WriteFile(path, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := r.reload("test"); err != nil || v != "demo-2" {
		t.Fatalf("reload: %q, %v", v, err)
	}
	var sections []string
	for _, e := range logs.FilterMessageSnippet("read only at start").All() {
		sections = append(sections, e.ContextMap()["section"].(string))
	}
	if strings.Join(sections, ",") != "admin,log" {
		t.Fatalf("warned about %v, want admin and log", sections)
	}
}
