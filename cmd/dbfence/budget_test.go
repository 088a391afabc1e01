package main

import (
	"errors"
	"fmt"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"
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
