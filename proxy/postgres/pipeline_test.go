package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestLargeBatchDoesNotStall sends a batch whose responses exceed the socket
// buffers before its Sync: the proxy must keep reading the backend.
func TestLargeBatchDoesNotStall(t *testing.T) {
	setupTestDB(t)
	addr, _ := startProxy(t, passGate{}, func(c *Config) { c.Log = nil })
	c := connect(t, addr, "dbfence_test", "dbfence-test-pass", testDB, pgx.QueryExecModeCacheStatement)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := &pgx.Batch{}
	const n = 20000
	for i := range n {
		b.Queue("SELECT $1::int, repeat('x', 4000)", i)
	}
	res := c.SendBatch(ctx, b)
	for i := range n {
		var v int
		var s string
		if err := res.QueryRow().Scan(&v, &s); err != nil || v != i || len(s) != 4000 {
			t.Fatalf("item %d: %d %v", i, v, err)
		}
	}
	if err := res.Close(); err != nil {
		t.Fatal(err)
	}
}
