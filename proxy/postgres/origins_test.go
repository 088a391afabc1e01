package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbfence/dbfence/rules"
)

func newTestOrigins(t *testing.T) *Origins {
	o, err := NewOrigins(connString(backendAddr(), "postgres", "", "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Close)
	return o
}

func TestOriginsResolveColumns(t *testing.T) {
	setupTestDB(t)
	o := newTestOrigins(t)
	c := connect(t, backendAddr(), "postgres", "", testDB, pgx.QueryExecModeSimpleProtocol)
	var oid uint32
	if err := c.QueryRow(context.Background(), "SELECT 'public.people'::regclass::oid").Scan(&oid); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc   string
		oid    uint32
		attnum int16
		table  string
		column string
		ok     bool
	}{
		{"first column", oid, 1, "people", "id", true},
		{"fourth column", oid, 4, "people", "id_card", true},
		{"attribute beyond the table", oid, 99, "people", "", false},
		{"system column", oid, -1, "people", "", false},
		{"no such table", 1, 1, "", "", false},
	}
	for _, tc := range tests {
		_, table, column, ok, err := o.Column(context.Background(), testDB, tc.oid, tc.attnum)
		if err != nil || ok != tc.ok || (ok && (table != tc.table || column != tc.column)) {
			t.Errorf("%s: %q %q %v %v", tc.desc, table, column, ok, err)
		}
	}
}

func TestOriginsCrossCheckRefusesMismatch(t *testing.T) {
	setupTestDB(t)
	o := newTestOrigins(t)
	const swapped = "SELECT id_card, name FROM people"
	const computed = "SELECT lower(name) FROM people"
	const hiddenAsComputed = "SELECT id_card FROM people WHERE id > 0"
	const visibleAsComputed = "SELECT name FROM people WHERE id > 0"
	gate := passGate{plan: map[string]rules.StatementVerdict{
		maskQuery: maskPlan,
		// The analyser believes column 1 is name (masked) and column 2 id_card (not).
		swapped: {Kind: "select", Outcome: rules.Allow, Columns: []rules.ColumnPlan{
			{OrgTable: "people", OrgColumn: "name", Masker: starMasker{}}, {OrgTable: "people", OrgColumn: "id_card"}}},
		computed: {Kind: "select", Outcome: rules.Allow, Columns: []rules.ColumnPlan{{OrgTable: "people", OrgColumn: "name"}}},
		// The analyser believes these are computed; the server reports a
		// base column, which the role hides (id_card) or does not (name).
		hiddenAsComputed:  {Kind: "select", Outcome: rules.Allow, Columns: []rules.ColumnPlan{{}}},
		visibleAsComputed: {Kind: "select", Outcome: rules.Allow, Columns: []rules.ColumnPlan{{}}},
	}, hidden: map[string]bool{"public.people.id_card": true}}
	addr, _ := startProxy(t, gate, func(c *Config) { c.Origins = o })
	ctx := context.Background()
	for _, m := range allModes {
		c := connect(t, addr, "dbfence_test", "dbfence-test-pass", testDB, m.mode)
		if got := readPeople(t, c, maskQuery); len(got) != 3 || *got[0].name != "**" {
			t.Errorf("%s: predicted origins refused: %+v", m.desc, got)
		}
		if rows, err := c.Query(ctx, visibleAsComputed); err != nil {
			t.Errorf("%s: %s: %v", m.desc, visibleAsComputed, err)
		} else {
			n := 0
			for rows.Next() {
				n++
			}
			if rows.Close(); rows.Err() != nil || n != 3 {
				t.Errorf("%s: %s: %d rows, %v", m.desc, visibleAsComputed, n, rows.Err())
			}
		}
		for _, q := range []string{swapped, computed, hiddenAsComputed} {
			rows, err := c.Query(ctx, q)
			if err == nil {
				for rows.Next() {
					vals, _ := rows.Values()
					t.Errorf("%s: %s: row relayed: %v", m.desc, q, vals)
				}
				rows.Close()
				err = rows.Err()
			}
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "XX000" {
				t.Errorf("%s: %s: got %v", m.desc, q, err)
			}
		}
	}
}
