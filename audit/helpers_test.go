package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	testKeysOnce sync.Once
	testKeysVal  *Keys
)

// testKeys returns one key set per test binary (SM2 key generation is slow).
func testKeys(t testing.TB) *Keys {
	t.Helper()
	testKeysOnce.Do(func() {
		k, err := GenerateKeys()
		if err != nil {
			panic(err)
		}
		testKeysVal = k
	})
	return testKeysVal
}

// fakeClock is a settable clock for rotation and retention tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 23, 11, 40, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Microsecond) // strictly increasing, like a real clock
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testConfig(t testing.TB, dir string) Config {
	return Config{Dir: dir, Keys: testKeys(t), Mode: ModeStrict}
}

func openTestLog(t testing.TB, cfg Config) *Log {
	t.Helper()
	l, err := Open(cfg, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

func statementEvent(i int) *Event {
	return &Event{
		Type: TypeStatement, Protocol: "mysql", SessionID: fmt.Sprintf("s%d", i%7), StatementID: uint64(i),
		User: "alice", ClientAddr: "10.0.0.8:53211", Database: "hukou", StatementKind: "select",
		Normalized: "SELECT name, id_card FROM person WHERE id_card = ?", Literals: []string{"11010519491231002X"},
		Decision: "mask", Rule: "mask-id-card", Objects: []string{"hukou.person"}, Columns: []string{"name", "id_card"},
		MaskedColumns: []string{"id_card"}, Rows: 1, Bytes: 120, DurationUS: 850, PolicyVersion: "v42",
	}
}

func writeN(t testing.TB, l *Log, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if err := l.Record(statementEvent(i)); err != nil {
			t.Fatalf("Record %d: %v", i, err)
		}
	}
}

func verifyOpts(t testing.TB) VerifyOptions {
	k := testKeys(t)
	return VerifyOptions{HMACKey: k.HMAC, PublicKey: &k.SM2.PublicKey}
}

func mustVerify(t testing.TB, dir string) *Report {
	t.Helper()
	rep, err := Verify(dir, verifyOpts(t))
	if err != nil {
		t.Fatalf("Verify: %v\nproblems: %v", err, rep.Problems)
	}
	return rep
}

func logFiles(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range listLogFiles(entries) {
		out = append(out, filepath.Join(dir, f.name))
	}
	return out
}

// eventBody is e's JSON members as a session encodes them, for tests that
// frame records directly.
func eventBody(e *Event, mode literalMode) []byte {
	body, _ := appendEventBody(nil, e, mode)
	return body
}
