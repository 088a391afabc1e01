package proxy

import (
	"sync"
	"time"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules"
)

// Budgets counts the classified rows each user receives over a rolling
// window, across all their connections and both protocols. It is safe for
// concurrent use. Counts are kept in one-minute buckets (or window/60 for
// short windows), so the window rolls in small steps.
type Budgets struct {
	mu    sync.Mutex
	users map[string]*userBudget
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

type userBudget struct {
	buckets []bucket // oldest first
	total   int64
}

type bucket struct {
	start time.Time
	rows  int64
}

// NewBudgets returns an empty set of counters.
func NewBudgets() *Budgets { return &Budgets{users: map[string]*userBudget{}} }

// Take counts n more rows for user if that keeps the user within limit rows
// per window, and reports whether it did.
func (b *Budgets) Take(user string, n, limit int64, window time.Duration) bool {
	now := time.Now()
	if b.Now != nil {
		now = b.Now()
	}
	step := min(time.Minute, max(window/60, time.Millisecond))
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.users[user]
	if u == nil {
		u = &userBudget{}
		b.users[user] = u
	}
	cut := 0
	for cut < len(u.buckets) && now.Sub(u.buckets[cut].start) >= window {
		u.total -= u.buckets[cut].rows
		cut++
	}
	u.buckets = u.buckets[cut:]
	if u.total+n > limit {
		return false
	}
	if k := len(u.buckets); k > 0 && now.Sub(u.buckets[k-1].start) < step {
		u.buckets[k-1].rows += n
	} else {
		u.buckets = append(u.buckets, bucket{start: now, rows: n})
	}
	u.total += n
	return true
}

// ChargeLookups takes the exact-lookup guesses of v's statements from
// user's budget before v is forwarded, and returns the refusal when the
// budget cannot cover them (nothing is taken then). A nil Budgets charges
// nothing.
func (b *Budgets) ChargeLookups(user string, v *rules.Verdict) *fault.Error {
	if b == nil || v == nil {
		return nil
	}
	for i := range v.Statements {
		sv := &v.Statements[i]
		if sv.LookupGuesses <= 0 || sv.Budget == nil {
			continue
		}
		if !b.Take(user, sv.LookupGuesses, sv.Budget.Rows, sv.Budget.Window) {
			return fault.New(fault.RowCapExceeded,
				"dbfence: your budget of %d classified rows or lookups per %s is used up; an approval is needed for more", sv.Budget.Rows, sv.Budget.Window)
		}
	}
	return nil
}
