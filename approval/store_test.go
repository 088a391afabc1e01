package approval

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestApprovalLifecycle(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "approvals.json"))
	if err != nil {
		t.Fatal(err)
	}
	testLifecycle(t, s, func(f func() time.Time) { s.Now = f }, func() Requests { s2, _ := Open(s.path); return s2 })
}

// testLifecycle runs a store through filing, self-approval, approval,
// exact matching, single use, expiry, revocation and reopening.
func testLifecycle(t *testing.T, s Requests, setNow func(func() time.Time), reopen func() Requests) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	setNow(func() time.Time { return now })
	const q = "SELECT * FROM person"
	r, created, err := s.File("clerk", "gov", q, 10000, "annual report")
	if err != nil || !created || r.ID != "R-20261123-0001" || r.Status != Pending {
		t.Fatalf("file: %+v %v", r, err)
	}
	if again, created, _ := s.File("clerk", "gov", q, 10000, ""); again.ID != r.ID || created {
		t.Fatalf("a second refusal of the same statement filed a new request %s", again.ID)
	}
	fp := Fingerprint(q)
	if _, ok, _ := s.Use("clerk", "gov", fp); ok {
		t.Fatal("a pending request allowed a run")
	}
	if _, err := s.Approve(r.ID, Decision{Approver: "clerk"}); !errors.Is(err, ErrSelfApproval) {
		t.Fatalf("self-approval: %v", err)
	}
	if _, err := s.Approve(r.ID, Decision{Approver: "chief", Rows: 500, Validity: time.Hour}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc         string
		user, db, fp string
		advance      time.Duration
		ok           bool
	}{
		{"another user", "analyst", "gov", fp, 0, false},
		{"another database", "clerk", "test", fp, 0, false},
		{"another statement", "clerk", "gov", Fingerprint("SELECT name FROM person"), 0, false},
		{"the approved run", "clerk", "gov", fp, 0, true},
		{"the single use is spent", "clerk", "gov", fp, 0, false},
	}
	for _, tc := range tests {
		now = now.Add(tc.advance)
		got, ok, err := s.Use(tc.user, tc.db, tc.fp)
		if err != nil || ok != tc.ok {
			t.Errorf("%s: ok=%v err=%v", tc.desc, ok, err)
		}
		if ok && got.Rows != 500 {
			t.Errorf("%s: rows %d, want the approved 500", tc.desc, got.Rows)
		}
	}
	// Expiry and revocation.
	r2, _, _ := s.File("clerk", "gov", "SELECT * FROM household", 100, "")
	s.Approve(r2.ID, Decision{Approver: "chief", Validity: time.Minute, Uses: 5})
	now = now.Add(2 * time.Minute)
	if _, ok, _ := s.Use("clerk", "gov", Fingerprint("SELECT * FROM household")); ok {
		t.Fatal("an expired approval allowed a run")
	}
	r3, _, _ := s.File("clerk", "gov", "SELECT * FROM person LIMIT 9999", 100, "")
	s.Approve(r3.ID, Decision{Approver: "chief"})
	s.Revoke(r3.ID, "security")
	if _, ok, _ := s.Use("clerk", "gov", Fingerprint("SELECT * FROM person LIMIT 9999")); ok {
		t.Fatal("a revoked approval allowed a run")
	}
	// State survives reopening.
	list, err := reopen().List()
	if err != nil || len(list) != 3 {
		t.Fatalf("reopened store: %d requests, %v", len(list), err)
	}
}

func TestConcurrentUseSpendsEachUseOnce(t *testing.T) {
	s, _ := Open(filepath.Join(t.TempDir(), "approvals.json"))
	testConcurrentUse(t, s)
}

func testConcurrentUse(t *testing.T, s Requests) {
	r, _, _ := s.File("clerk", "gov", "SELECT * FROM person", 100, "")
	s.Approve(r.ID, Decision{Approver: "chief", Uses: 3})
	var mu sync.Mutex
	granted := 0
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, ok, _ := s.Use("clerk", "gov", r.Fingerprint); ok {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if granted != 3 {
		t.Fatalf("%d runs granted, want 3", granted)
	}
}
