package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestRollingBudgetStopsAPaginationLoop: the clerk pages through citizens
// 90 at a time, each page within the row cap, over two connections; the
// rolling budget (1,000 classified rows per hour in the demo) stops the loop
// and the clerk never receives more than the budget.
func TestRollingBudgetStopsAPaginationLoop(t *testing.T) {
	p := startDemoProxy(t, nil)
	received := 0
	var stopped error
	for page := 0; page < 20; page++ {
		db := dbAs(t, p.mysql, "clerk", []string{"", "interpolateParams=true"}[page%2])
		rows, err := queryAll(db, fmt.Sprintf("SELECT id, name, id_card FROM person WHERE id > %d AND id <= %d LIMIT 90", page*90, page*90+90))
		received += len(rows)
		if err != nil {
			stopped = err
			break
		}
	}
	var me *gomysql.MySQLError
	if !errors.As(stopped, &me) || me.Number != 1226 {
		t.Fatalf("the loop was not stopped by the budget: %v (received %d rows)", stopped, received)
	}
	if received != 1000 {
		t.Fatalf("received %d classified rows, want exactly the budget of 1000", received)
	}
}

// TestLookupGuessesAreChargedToTheBudget: exact lookups on a hidden column
// that return only unclassified columns (a search for which ID numbers
// exist) are charged to the rolling budget, 10 guesses per statement, on
// both protocols together: the 101st statement of 10 guesses is refused
// before it runs.
func TestLookupGuessesAreChargedToTheBudget(t *testing.T) {
	p := startDemoProxy(t, nil)
	ctx := context.Background()
	db := dbAs(t, p.mysql, "clerk", "")
	pgc, err := pgx.Connect(ctx, "postgres://clerk:clerk-pass@"+p.postgres+"/gov?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer pgc.Close(ctx)
	guesses := func(i int) string {
		var b strings.Builder
		for k := 0; k < 10; k++ {
			if k > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "'1101011990%04d%04d'", i, k)
		}
		return b.String()
	}
	for i := 0; i < 100; i++ {
		q := "SELECT id FROM person WHERE id_card IN (" + guesses(i) + ")"
		if i%2 == 0 {
			if _, err := queryAll(db, q); err != nil {
				t.Fatalf("lookup %d (MySQL): %v", i, err)
			}
		} else if _, err := pgc.Exec(ctx, q); err != nil {
			t.Fatalf("lookup %d (PostgreSQL): %v", i, err)
		}
	}
	_, err = queryAll(db, "SELECT id FROM person WHERE id_card IN ("+guesses(100)+")")
	var me *gomysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1226 || !strings.Contains(me.Message, "budget") {
		t.Fatalf("the 1,010th guess was not refused by the budget: %v", err)
	}
	_, err = pgc.Exec(ctx, "SELECT id FROM person WHERE id_card = '110101199001010000'")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || !strings.Contains(pe.Message, "budget") {
		t.Fatalf("PostgreSQL lookup after the budget: %v", err)
	}
}
