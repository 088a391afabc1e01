package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules"
)

var allModes = []struct {
	desc string
	mode pgx.QueryExecMode
}{
	{"simple protocol", pgx.QueryExecModeSimpleProtocol},
	{"extended, unnamed statement", pgx.QueryExecModeExec},
	{"extended, described unnamed statement", pgx.QueryExecModeDescribeExec},
	{"extended, cached named statement", pgx.QueryExecModeCacheStatement},
}

func TestQueryThroughProxy(t *testing.T) {
	setupTestDB(t)
	addr, _ := startProxy(t, passGate{}, nil)
	ctx := context.Background()
	for _, m := range allModes {
		c := connect(t, addr, "dbfence_test", "dbfence-test-pass", testDB, m.mode)
		var name string
		var phone int64
		if err := c.QueryRow(ctx, "SELECT name, phone FROM people WHERE id = $1", 1).Scan(&name, &phone); err != nil {
			t.Fatalf("%s: %v", m.desc, err)
		}
		if name != "张三" || phone != 13812345678 {
			t.Errorf("%s: got %q %d", m.desc, name, phone)
		}
		// Several statements in a row on one connection, and an error in between.
		if _, err := c.Exec(ctx, "SELECT * FROM no_such_table"); err == nil {
			t.Errorf("%s: no error for a missing table", m.desc)
		} else if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Code != "42P01" {
			t.Errorf("%s: backend error not relayed: %v", m.desc, err)
		}
		var n int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM big").Scan(&n); err != nil || n != 5000 {
			t.Errorf("%s: count %d, %v", m.desc, n, err)
		}
	}
}

func TestRefusalReachesClientWithSQLSTATE(t *testing.T) {
	setupTestDB(t)
	const denied = "SELECT id_card FROM people"
	gate := passGate{deny: map[string]*fault.Error{denied: fault.New(fault.ColumnDenied, "dbfence: column id_card is denied")}}
	addr, _ := startProxy(t, gate, nil)
	ctx := context.Background()
	for _, m := range allModes {
		c := connect(t, addr, "dbfence_test", "dbfence-test-pass", testDB, m.mode)
		_, err := c.Exec(ctx, denied)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" || pe.Message != "dbfence: column id_card is denied" {
			t.Fatalf("%s: got %v", m.desc, err)
		}
		// The session survives a refusal.
		var one int
		if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("%s: after refusal: %v", m.desc, err)
		}
	}
}

// maskPlan masks name (text), phone (bigint), id_card (varchar) and city (bpchar).
var maskPlan = rules.StatementVerdict{Kind: "select", Outcome: rules.Allow, Columns: []rules.ColumnPlan{
	{OrgTable: "people", OrgColumn: "id"},
	{Masker: starMasker{}, OrgTable: "people", OrgColumn: "name"},
	{Masker: starMasker{}, OrgTable: "people", OrgColumn: "phone"},
	{Masker: starMasker{}, OrgTable: "people", OrgColumn: "id_card"},
	{OrgTable: "people", OrgColumn: "birthday"},
	{Masker: starMasker{}, OrgTable: "people", OrgColumn: "city"},
}}

const maskQuery = "SELECT id, name, phone, id_card, birthday, city FROM people ORDER BY id"

type person struct {
	id       int32
	name     *string
	phone    *int64
	idCard   *string
	birthday any
	city     *string
}

func readPeople(t *testing.T, c *pgx.Conn, q string, args ...any) []person {
	t.Helper()
	rows, err := c.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []person
	for rows.Next() {
		var p person
		if err := rows.Scan(&p.id, &p.name, &p.phone, &p.idCard, &p.birthday, &p.city); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMaskingInTextAndBinaryFormats(t *testing.T) {
	setupTestDB(t)
	addr, _ := startProxy(t, passGate{plan: map[string]rules.StatementVerdict{maskQuery: maskPlan}}, nil)
	// pgx asks for binary results for int, date and text-like types in the
	// extended modes, text in the simple protocol.
	for _, m := range allModes {
		c := connect(t, addr, "dbfence_test", "dbfence-test-pass", testDB, m.mode)
		got := readPeople(t, c, maskQuery)
		if len(got) != 3 {
			t.Fatalf("%s: %d rows", m.desc, len(got))
		}
		p := got[0]
		if p.id != 1 || p.name == nil || *p.name != "**" || p.idCard == nil || *p.idCard != "******************" ||
			p.city == nil || *p.city != "****" {
			t.Errorf("%s: text-like cells not masked: %+v", m.desc, p)
		}
		if p.phone != nil {
			t.Errorf("%s: a masked bigint must be NULL without MaskTyped, got %d", m.desc, *p.phone)
		}
		if p.birthday == nil {
			t.Errorf("%s: an unmasked date was lost", m.desc)
		}
		if n := got[2]; n.name != nil || n.idCard != nil {
			t.Errorf("%s: NULL must stay NULL: %+v", m.desc, n)
		}
	}
}

func TestMaskTypedGivesSameTypeValue(t *testing.T) {
	setupTestDB(t)
	typed := func(_ rules.Masker, dst, src []byte, oid uint32, binary bool) ([]byte, bool) {
		if oid != 20 {
			return dst, false
		}
		if binary {
			return append(dst, 0, 0, 0, 0, 0, 0, 0, 0), true
		}
		return append(dst, '0'), true
	}
	addr, _ := startProxy(t, passGate{plan: map[string]rules.StatementVerdict{maskQuery: maskPlan}}, func(c *Config) { c.MaskTyped = typed })
	for _, m := range allModes {
		c := connect(t, addr, "dbfence_test", "dbfence-test-pass", testDB, m.mode)
		got := readPeople(t, c, maskQuery)
		if got[0].phone == nil || *got[0].phone != 0 {
			t.Errorf("%s: typed mask not applied: %v", m.desc, got[0].phone)
		}
	}
}

func TestRowCap(t *testing.T) {
	setupTestDB(t)
	const q = "SELECT id, v FROM big ORDER BY id"
	capped := rules.StatementVerdict{Kind: "select", Outcome: rules.Allow, RowCap: 100}
	addr, _ := startProxy(t, passGate{plan: map[string]rules.StatementVerdict{q: capped}}, nil)
	ctx := context.Background()
	for _, m := range allModes {
		c := connect(t, addr, "dbfence_test", "dbfence-test-pass", testDB, m.mode)
		rows, err := c.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		var pe *pgconn.PgError
		if !errors.As(rows.Err(), &pe) || pe.Code != "54000" || n != 100 {
			t.Fatalf("%s: %d rows, %v", m.desc, n, rows.Err())
		}
		var one int
		if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
			t.Fatalf("%s: after the cap: %v", m.desc, err)
		}
	}
}

func TestMultiStatementPlansApplyPerStatement(t *testing.T) {
	setupTestDB(t)
	const q = "SELECT 'plain'; SELECT name FROM people WHERE id = 1"
	gate := passGate{multi: map[string][]rules.StatementVerdict{q: {
		{Kind: "select", Outcome: rules.Allow},
		{Kind: "select", Outcome: rules.Allow, Columns: []rules.ColumnPlan{{Masker: starMasker{}}}},
	}}}
	addr, _ := startProxy(t, gate, nil)
	c := connect(t, addr, "dbfence_test", "dbfence-test-pass", testDB, pgx.QueryExecModeSimpleProtocol)
	res, err := c.PgConn().Exec(context.Background(), q).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || string(res[0].Rows[0][0]) != "plain" || string(res[1].Rows[0][0]) != "**" {
		t.Fatalf("got %+v", res)
	}
}
