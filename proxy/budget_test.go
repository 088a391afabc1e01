package proxy

import (
	"testing"
	"time"
)

func TestBudgetsRollingWindow(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	b := NewBudgets()
	b.Now = func() time.Time { return now }
	steps := []struct {
		desc    string
		user    string
		advance time.Duration
		n       int64
		ok      bool
	}{
		{"first page", "clerk", 0, 60, true},
		{"second page fits exactly", "clerk", 10 * time.Minute, 40, true},
		{"a third page exceeds the budget", "clerk", time.Minute, 1, false},
		{"another user has a budget of their own", "analyst", 0, 100, true},
		{"the first page leaves the window", "clerk", 50 * time.Minute, 60, true},
		{"but the second is still in it", "clerk", 0, 1, false},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		if got := b.Take(s.user, s.n, 100, time.Hour); got != s.ok {
			t.Errorf("%s: got %v", s.desc, got)
		}
	}
}
