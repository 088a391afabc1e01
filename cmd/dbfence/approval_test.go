package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/dbfence/dbfence/admin"
	"github.com/dbfence/dbfence/approval"
	"github.com/dbfence/dbfence/audit"
	"github.com/dbfence/dbfence/config"
)

// TestApprovalStory: the clerk's bulk read is refused with a request id; the
// clerk cannot approve it; an approver does; the clerk's re-run succeeds
// exactly once with the approved rows, masked; another statement is still
// refused.
func TestApprovalStory(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "approvals.json")
	cfgFile := filepath.Join(dir, "approvals.yaml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf("approval:\n  store: %s\n  approvers: [chief]\n", store)), 0o600)
	p := startDemoProxy(t, func(c *config.Config) {
		c.Approval = config.Approval{Store: store, Approvers: []string{"chief"}, ApproverTokens: map[string]string{"chief": "chief-token"}}
	})
	chiefToken := filepath.Join(dir, "chief.token")
	os.WriteFile(chiefToken, []byte("chief-token\n"), 0o600)
	wrongToken := filepath.Join(dir, "clerk.token")
	os.WriteFile(wrongToken, []byte("clerk-guess\n"), 0o600)
	db := dbAs(t, p.mysql, "clerk", "")
	const bulk = "SELECT id, name, id_card FROM person ORDER BY id LIMIT 120"
	_, err := queryAll(db, bulk)
	var me *gomysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1227 || !strings.Contains(me.Message, "approval required: request R-") {
		t.Fatalf("bulk read: %v", err)
	}
	id := regexp.MustCompile(`R-\d{8}-\d{4}`).FindString(me.Message)

	if code, _, errOut := cli("approval", "--config", cfgFile, "--admin", p.admin, "approve", id); code == 0 {
		t.Fatal("a decision without an approver token was accepted")
	} else if !strings.Contains(errOut, "approver token") {
		t.Fatalf("refusal does not say why: %s", errOut)
	}
	if code, _, errOut := cli("approval", "--config", cfgFile, "--admin", p.admin, "--token-file", wrongToken, "approve", id); code == 0 {
		t.Fatal("the clerk is no approver, and cannot approve")
	} else if !strings.Contains(errOut, "bearer token") {
		t.Fatalf("refusal does not say why: %s", errOut)
	}
	if code, out, errOut := cli("approval", "--config", cfgFile, "--admin", p.admin, "--token-file", chiefToken, "--rows", "150", "approve", id); code != 0 || !strings.Contains(out, "approved") || !strings.Contains(out, "approver=chief") {
		t.Fatalf("approve: %d %s %s", code, out, errOut)
	}
	rows, err := queryAll(db, bulk)
	if err != nil || len(rows) != 120 {
		t.Fatalf("approved run: %d rows, %v", len(rows), err)
	}
	if !strings.Contains(rows[0][2], "********") {
		t.Fatalf("approved run is not masked: %v", rows[0])
	}
	if _, err := queryAll(db, bulk); err == nil {
		t.Fatal("a single-use approval allowed a second run")
	}
	if _, err := queryAll(db, "SELECT id, name, id_card FROM person ORDER BY id LIMIT 130"); err == nil {
		t.Fatal("an approval allowed a different statement")
	}
	if code, out, _ := cli("approval", "--config", cfgFile, "list"); code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "used") {
		t.Fatalf("list: %s", out)
	}
	p.stop()
	r, err := audit.NewReader(p.auditDir, audit.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found, filed := false, false
	for {
		rec, _, err := r.Next(context.Background())
		if err != nil {
			break
		}
		if rec.ApprovalID == id && rec.Decision == "allow" && rec.User == "clerk" {
			found = true
		}
		if rec.ApprovalID == id && rec.Decision == "needs_approval" {
			filed = true
		}
	}
	if !found || !filed {
		t.Fatalf("audit records naming %s: refusal that filed it %v, approved run %v", id, filed, found)
	}
}

// TestApprovalAdminAPI: approvers act on the admin API with their own
// tokens; a requester cannot approve their own request even as an
// approver; every decision is audited.
func TestApprovalAdminAPI(t *testing.T) {
	store := filepath.Join(t.TempDir(), "approvals.json")
	announced := make(chan string, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		announced <- string(b)
	}))
	defer hook.Close()
	p := startDemoProxy(t, func(c *config.Config) {
		c.Approval = config.Approval{Store: store, Approvers: []string{"chief", "clerk"}, Webhook: hook.URL,
			ApproverTokens: map[string]string{"chief": "chief-token", "clerk": "clerk-token"}}
	})
	db := dbAs(t, p.mysql, "clerk", "")
	const bulk = "SELECT id, name FROM person ORDER BY id LIMIT 110"
	_, err := queryAll(db, bulk)
	id := regexp.MustCompile(`R-\d{8}-\d{4}`).FindString(fmt.Sprint(err))
	if id == "" {
		t.Fatalf("no request filed: %v", err)
	}
	select {
	case body := <-announced:
		if !strings.Contains(body, `"event":"approval_requested"`) || !strings.Contains(body, id) || !strings.Contains(body, `"requester":"clerk"`) {
			t.Fatalf("webhook body: %s", body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the new request was not announced on the webhook")
	}
	call := func(method, path, token string) (int, string) {
		req, _ := http.NewRequest(method, "http://"+p.admin+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		desc, method, path, token string
		code                      int
		body                      string
	}{
		{"no token", "GET", "/approvals", "", 401, "bearer token"},
		{"unknown token", "POST", "/approvals/" + id + "/approve", "nope", 401, "bearer token"},
		{"approvers see pending requests", "GET", "/approvals", "chief-token", 200, id},
		{"the requester cannot approve, even as an approver", "POST", "/approvals/" + id + "/approve", "clerk-token", 403, "own request"},
		{"unknown request", "POST", "/approvals/R-19990101-0001/approve", "chief-token", 404, "no such request"},
		{"bad parameter", "POST", "/approvals/" + id + "/approve?valid=soon", "chief-token", 400, "valid"},
		{"an approver approves", "POST", "/approvals/" + id + "/approve?rows=200&comment=ok", "chief-token", 200, `"status":"approved"`},
		{"a decided request cannot be decided again", "POST", "/approvals/" + id + "/reject", "chief-token", 409, "not pending"},
	}
	for _, tc := range tests {
		code, body := call(tc.method, tc.path, tc.token)
		if code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("%s: %d %s", tc.desc, code, body)
		}
	}
	if rows, err := queryAll(db, bulk); err != nil || len(rows) != 110 {
		t.Fatalf("approved run: %d rows, %v", len(rows), err)
	}
	p.stop()
	r, _ := audit.NewReader(p.auditDir, audit.ReadOptions{})
	decisions := map[string]bool{}
	for {
		rec, _, err := r.Next(context.Background())
		if err != nil {
			break
		}
		if rec.Type == audit.TypeApprovalGrant && rec.ApprovalID == id {
			decisions[rec.User+":"+rec.Decision] = true
			if rec.Decision == "approve" && rec.Detail["phase"] != "intent" && (rec.Detail["requester"] != "clerk" || rec.Database != "gov" || rec.Detail["filed"] == "") {
				t.Errorf("the approval record does not say what was approved: %+v", rec)
			}
		}
	}
	if !decisions["chief:approve"] || !decisions["clerk:approve_refused"] {
		t.Fatalf("approval decisions not audited: %v", decisions)
	}
}

// TestApprovalFiledAhead: a request filed with the CLI before the run is
// the one the proxy honours once approved.
func TestApprovalFiledAhead(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "approvals.json")
	cfgFile := filepath.Join(dir, "approvals.yaml")
	demo, _ := os.ReadFile("../../configs/demo.yaml")
	cfgText := strings.Replace(string(demo), "store: var/demo/approvals.json", "store: "+store, 1)
	cfgText = strings.Replace(cfgText, "dir: var/demo/audit", "dir: "+filepath.Join(dir, "audit"), 1)
	os.WriteFile(cfgFile, []byte(cfgText), 0o600)
	const bulk = "SELECT id, name FROM person ORDER BY id LIMIT 130"
	code, out, errOut := cli("approval", "--config", cfgFile, "--user", "clerk", "--database", "gov", "--rows", "130",
		"--reason", "quarterly statistics", "request", bulk)
	id := regexp.MustCompile(`R-\d{8}-\d{4}`).FindString(out)
	if code != 0 || id == "" {
		t.Fatalf("request: %d %s %s", code, out, errOut)
	}
	p := startDemoProxy(t, func(c *config.Config) {
		c.Approval = config.Approval{Store: store, Approvers: []string{"chief"}, ApproverTokens: map[string]string{"chief": "chief-token"}}
	})
	t.Setenv("DBFENCE_APPROVER_TOKEN", "chief-token")
	if code, out, errOut := cli("approval", "--config", cfgFile, "--admin", "http://"+p.admin, "approve", id); code != 0 {
		t.Fatalf("approve: %s %s", out, errOut)
	}
	rows, err := queryAll(dbAs(t, p.mysql, "clerk", ""), bulk)
	if err != nil || len(rows) != 130 {
		t.Fatalf("run approved ahead: %d rows, %v", len(rows), err)
	}
}

// TestApprovalsSharedAcrossInstances: two proxy instances keep their
// approvals in one PostgreSQL database: a request filed through one is
// approved on the other's admin API and used once, through either.
func TestApprovalsSharedAcrossInstances(t *testing.T) {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	if err != nil {
		t.Skipf("no PostgreSQL: %v", err)
	}
	for _, q := range []string{"DROP DATABASE IF EXISTS dbfence_test_shared_approvals WITH (FORCE)", "CREATE DATABASE dbfence_test_shared_approvals"} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	admin.Close(ctx)
	store := "postgres://postgres@127.0.0.1:5432/dbfence_test_shared_approvals?sslmode=disable"
	edit := func(c *config.Config) {
		c.Approval = config.Approval{Store: store, Approvers: []string{"chief"}, ApproverTokens: map[string]string{"chief": "chief-token"}}
	}
	a, b := startDemoProxy(t, edit), startDemoProxy(t, edit)
	const bulk = "SELECT id, name, id_card FROM person ORDER BY id LIMIT 110"
	_, err = queryAll(dbAs(t, a.mysql, "clerk", ""), bulk)
	id := regexp.MustCompile(`R-\d{8}-\d{4}`).FindString(fmt.Sprint(err))
	if id == "" {
		t.Fatalf("no request filed through instance A: %v", err)
	}
	req, _ := http.NewRequest("POST", "http://"+b.admin+"/approvals/"+id+"/approve", nil) // the request asked for its LIMIT, 110
	req.Header.Set("Authorization", "Bearer chief-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("approve on instance B: %v %v", resp, err)
	}
	resp.Body.Close()
	if rows, err := queryAll(dbAs(t, b.mysql, "clerk", ""), bulk); err != nil || len(rows) != 110 {
		t.Fatalf("approved run through instance B: %d rows, %v", len(rows), err)
	}
	if _, err := queryAll(dbAs(t, a.mysql, "clerk", ""), bulk); err == nil {
		t.Fatal("the single use was spent on B, yet A ran the statement again")
	}
}

// TestApprovalDecisionNeedsItsStrictAuditRecord: with strict audit, a
// decision whose record cannot be written is not made (here the log is
// closed, as it is unusable on a full disk).
func TestApprovalDecisionNeedsItsStrictAuditRecord(t *testing.T) {
	dir := t.TempDir()
	store, err := approval.Open(filepath.Join(dir, "approvals.json"))
	if err != nil {
		t.Fatal(err)
	}
	req, _, err := store.File("clerk", "gov", "SELECT id_card FROM person", 500, "audit")
	if err != nil {
		t.Fatal(err)
	}
	alog := closedStrictAuditLog(t, filepath.Join(dir, "audit"))
	adm := admin.New(prometheus.NewRegistry())
	(&approvalAPI{store: store, tokens: map[string]string{"chief": "chief-token"}, alog: alog, strict: true, log: zap.NewNop()}).mount(adm)
	decide := func() (int, string) {
		r := httptest.NewRequest(http.MethodPost, "/approvals/"+req.ID+"/approve", nil)
		r.Header.Set("Authorization", "Bearer chief-token")
		w := httptest.NewRecorder()
		adm.Handler().ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	if code, body := decide(); code != http.StatusServiceUnavailable || !strings.Contains(body, "audit log cannot be written") {
		t.Fatalf("decision with the audit log unusable: %d %s", code, body)
	}
	if got, err := store.Get(req.ID); err != nil || got.Status != approval.Pending {
		t.Fatalf("the request was changed without its audit record: %+v, %v", got, err)
	}
}

// closedStrictAuditLog opens a strict audit log in dir and closes it: every
// Record then fails, as it does when the log cannot be written.
func closedStrictAuditLog(t *testing.T, dir string) *audit.Log {
	t.Helper()
	keys, err := audit.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	alog, err := audit.Open(audit.Config{Dir: dir, Mode: audit.ModeStrict, Keys: keys}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if err := alog.Close(); err != nil {
		t.Fatal(err)
	}
	return alog
}
