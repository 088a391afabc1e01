package rules

import (
	"strconv"
	"testing"

	"github.com/dbfence/dbfence/fault"
)

func TestCheckPostgres(t *testing.T) {
	p, err := PolicyFromConfig([]byte(`policy:
  version: pg-1
  default_role: unrestricted
  principals:
    - {users: [clerk], role: clerk}
  roles:
    clerk:
      row_cap: 10
`), "pg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(p, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc    string
		user    string
		text    string
		refusal fault.Kind
		stmts   int
	}{
		{"unrestricted statements are relayed", "postgres", "SELECT 1; SET search_path = gov", 0, 2},
		{"unparseable text is refused for everyone", "postgres", "SELEC 1", fault.ParseError, 0},
		{"restricted roles are refused until PostgreSQL is analysed", "clerk", "SELECT name FROM person WHERE id = 1", fault.StatementDenied, 1},
	}
	for _, tc := range tests {
		v := e.CheckPostgres(&Session{Protocol: ProtocolPostgres, User: tc.user, Charset: "UTF8"}, tc.text)
		switch {
		case tc.refusal == 0 && (v.Refusal != nil || v.Forward != tc.text || len(v.Statements) != tc.stmts):
			t.Errorf("%s: %+v", tc.desc, v)
		case tc.refusal != 0 && (v.Refusal == nil || v.Refusal.Kind != tc.refusal || v.Forward != ""):
			t.Errorf("%s: %+v", tc.desc, v)
		}
	}
	if v := e.CheckPostgres(&Session{User: "postgres"}, "SET search_path = x"); !v.Statements[0].ChangesSession {
		t.Error("SET must be marked as changing the session")
	}
}

func BenchmarkCheckPostgres(b *testing.B) {
	e, err := NewEngine(nil, nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	sess := &Session{Protocol: ProtocolPostgres, User: "postgres", Charset: "UTF8"}
	b.Run("FirstSight", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			e.CheckPostgres(sess, "SELECT abalance FROM pgbench_accounts WHERE aid = "+strconv.Itoa(i))
		}
	})
	b.Run("RepeatedText", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			e.CheckPostgres(sess, "SELECT abalance FROM pgbench_accounts WHERE aid = $1")
		}
	})
}
