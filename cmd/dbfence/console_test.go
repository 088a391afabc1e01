package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dbfence/dbfence/approval"
	"github.com/dbfence/dbfence/config"
)

// TestConsoleApprovesInABrowser plays the approver in headless Chromium
// (Debian package chromium): the clerk's bulk read files a request; the
// approver opens /console, types their token, loads the requests, types a
// row limit and clicks Approve; the clerk's re-run then succeeds.
func TestConsoleApprovesInABrowser(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("needs chromium (scripts/ensure-databases.sh installs it)")
	}
	storePath := filepath.Join(t.TempDir(), "approvals.json")
	p := startDemoProxy(t, func(c *config.Config) {
		c.Approval = config.Approval{Store: storePath, Approvers: []string{"chief"}, ApproverTokens: map[string]string{"chief": "chief-token"}}
	})
	db := dbAs(t, p.mysql, "clerk", "")
	const bulk = "SELECT id, name FROM person ORDER BY id LIMIT 140"
	_, err = queryAll(db, bulk)
	id := regexp.MustCompile(`R-\d{8}-\d{4}`).FindString(fmt.Sprint(err))
	if id == "" {
		t.Fatalf("no request filed: %v", err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.UserDataDir(browserProfile(t)))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()
	row := fmt.Sprintf(`tr[data-id="%s"]`, id)
	var status string
	err = chromedp.Run(ctx,
		chromedp.Navigate("http://"+p.admin+"/console"),
		chromedp.SendKeys("#token", "chief-token", chromedp.ByID),
		chromedp.Click("#load", chromedp.ByID),
		chromedp.WaitVisible(row+" button.approve", chromedp.ByQuery),
		chromedp.SendKeys("#rows", "150", chromedp.ByID),
		chromedp.Click(row+" button.approve", chromedp.ByQuery),
		chromedp.WaitNotPresent(row+" button.approve", chromedp.ByQuery),
		chromedp.Text(row+" td:nth-child(2)", &status, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if strings.TrimSpace(status) != "approved" {
		t.Fatalf("status shown after approving: %q", status)
	}
	store, _ := approval.Open(storePath)
	r, err := store.Get(id)
	if err != nil || r.Status != approval.Approved || r.Approver != "chief" || r.Rows != 150 {
		t.Fatalf("store after the click: %+v %v", r, err)
	}
	rows, err := queryAll(db, bulk)
	if err != nil || len(rows) != 140 {
		t.Fatalf("approved run: %d rows, %v", len(rows), errors.Unwrap(err))
	}
}

// browserProfile is a profile directory for one headless browser. It is
// removed after the test, retrying for a few seconds: Chromium's helper
// processes can still write to it just after the browser has exited, which
// made t.TempDir's own clean-up fail the test.
func browserProfile(t *testing.T) string {
	dir, err := os.MkdirTemp("", "dbfence-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
			err := os.RemoveAll(dir)
			if err == nil {
				return
			}
			if time.Since(start) > 5*time.Second {
				t.Logf("browser profile %s not removed: %v", dir, err)
				return
			}
		}
	})
	return dir
}
