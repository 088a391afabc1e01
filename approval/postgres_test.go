package approval

import (
	"context"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgStoreURL creates an empty database for one test and returns its URL.
func pgStoreURL(t *testing.T) string {
	addr := os.Getenv("DBFENCE_TEST_PG")
	if addr == "" {
		addr = "127.0.0.1:5432"
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, "postgres://postgres@"+addr+"/postgres?sslmode=disable")
	if err != nil {
		t.Skipf("no PostgreSQL: %v", err)
	}
	defer admin.Close(ctx)
	const db = "dbfence_test_approvals"
	for _, q := range []string{"DROP DATABASE IF EXISTS " + db + " WITH (FORCE)", "CREATE DATABASE " + db} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	return "postgres://postgres@" + addr + "/" + db + "?sslmode=disable"
}

func TestPostgresStoreLifecycle(t *testing.T) {
	url := pgStoreURL(t)
	s, err := OpenPostgres(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var clock func() time.Time
	testLifecycle(t, s, func(f func() time.Time) { clock = f; s.Now = f }, func() Requests {
		// Another proxy instance opening the same database sees the same state.
		other, err := OpenRequests(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		other.(*PostgresStore).Now = clock
		t.Cleanup(other.(*PostgresStore).Close)
		return other
	})
}

// TestPostgresStoreUsesAcrossInstances: three instances race for the uses
// of one approval; each use is spent exactly once.
func TestPostgresStoreUsesAcrossInstances(t *testing.T) {
	url := pgStoreURL(t)
	ctx := context.Background()
	var stores []*PostgresStore
	for i := 0; i < 3; i++ {
		s, err := OpenPostgres(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	testConcurrentUse(t, multiStore{stores, new(atomic.Int64)})
	// A request filed through one instance is pending in another, once.
	r1, created1, err1 := stores[0].File("clerk", "gov", "SELECT 1 FROM person", 10, "x")
	r2, created2, err2 := stores[1].File("clerk", "gov", "SELECT 1 FROM person", 10, "x")
	if err1 != nil || err2 != nil || !created1 || created2 || r1.ID != r2.ID {
		t.Fatalf("filing twice through two instances: %v %v %v %v %s %s", err1, err2, created1, created2, r1.ID, r2.ID)
	}
}

// multiStore spreads calls over several instances (round robin).
type multiStore struct {
	s []*PostgresStore
	n *atomic.Int64
}

func (m multiStore) pick() *PostgresStore { return m.s[int(m.n.Add(1))%len(m.s)] }
func (m multiStore) File(a, b, c string, r int64, d string) (*Request, bool, error) {
	return m.pick().File(a, b, c, r, d)
}
func (m multiStore) Approve(id string, d Decision) (*Request, error) { return m.pick().Approve(id, d) }
func (m multiStore) Reject(id string, d Decision) (*Request, error)  { return m.pick().Reject(id, d) }
func (m multiStore) Revoke(id, by string) (*Request, error)          { return m.pick().Revoke(id, by) }
func (m multiStore) Use(a, b, c string) (*Request, bool, error)      { return m.pick().Use(a, b, c) }
func (m multiStore) List() ([]*Request, error)                       { return m.pick().List() }
func (m multiStore) Get(id string) (*Request, error)                 { return m.pick().Get(id) }
