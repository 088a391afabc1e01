package rules

import (
	"errors"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// TestRefresherBacksOff: after failures a refresh is tried again after 1,
// 2, 4 ... seconds (at most a minute), not every tick, and only the first
// failure and the ones at the longest backoff are logged.
func TestRefresherBacksOff(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	t0 := time.Now()
	r := refresher{what: "catalog", last: t0, log: zap.New(core)}
	down := errors.New("connection refused")
	now := t0
	var tries []time.Duration
	for range 200 { // 200 one-second ticks with the backend down
		now = now.Add(time.Second)
		if r.due(now, true, 10*time.Minute) {
			tries = append(tries, now.Sub(t0))
			r.done(now, down)
		}
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 124, 184}
	if len(tries) != len(want) {
		t.Fatalf("tries at %v, want at %v seconds", tries, want)
	}
	for i := range want {
		if tries[i] != want[i]*time.Second {
			t.Fatalf("tries at %v, want at %v seconds", tries, want)
		}
	}
	if n := logs.FilterMessageSnippet("refresh failed").Len(); n != 4 {
		t.Errorf("%d failure warnings for %d failures, want 4 (the first and the three at the longest backoff)", n, len(tries))
	}
	r.done(now.Add(time.Minute), nil)
	if logs.FilterMessageSnippet("refreshed again").Len() != 1 || r.due(now.Add(61*time.Second), false, 10*time.Minute) {
		t.Error("recovery not logged, or the backoff outlived it")
	}
}
