package postgres

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules"
)

func TestAuditEvents(t *testing.T) {
	setupTestDB(t)
	const denied = "SELECT id_card FROM people"
	gate := passGate{
		deny: map[string]*fault.Error{denied: fault.New(fault.ColumnDenied, "dbfence: denied")},
		plan: map[string]rules.StatementVerdict{maskQuery: maskPlan},
	}
	a := &recAuditor{}
	addr, srv := startProxy(t, gate, func(c *Config) { c.Audit = a })
	ctx := context.Background()
	for _, m := range allModes {
		c := connect(t, addr, "dbfence_test", "dbfence-test-pass", testDB, m.mode)
		readPeople(t, c, maskQuery)
		_, _ = c.Exec(ctx, denied)
		c.Close(ctx)
	}
	waitNoSessions(t, srv)
	a.mu.Lock()
	defer a.mu.Unlock()
	var masked, refused, done3 int
	for _, ev := range a.stmts {
		if slices.Equal(ev.MaskedColumns, []string{"name", "phone", "id_card", "city"}) {
			masked++
		}
		if ev.ErrorCode == "42501" && ev.Decision == "deny" && ev.User == "dbfence_test" && ev.Database == testDB {
			refused++
		}
	}
	for _, ev := range a.done {
		if ev.Rows == 3 && ev.ErrorCode == "" && ev.Duration > 0 && ev.Duration < time.Minute {
			done3++
		}
	}
	if masked != len(allModes) || refused != len(allModes) || done3 != len(allModes) {
		t.Errorf("statement events: %d masked, %d refused, %d completed with 3 rows; want %d each", masked, refused, done3, len(allModes))
	}
	var opened, closed int
	for _, ev := range a.conns {
		switch ev.Type {
		case "auth_ok":
			opened++
		case "connection_close":
			closed++
		}
		if ev.Protocol != "postgres" || !ev.ClientAddr.IsValid() {
			t.Errorf("connection event %+v", ev)
		}
	}
	if opened != len(allModes) || closed != len(allModes) {
		t.Errorf("connection events: %d opened, %d closed", opened, closed)
	}
}
