package mysqlsql

import (
	"errors"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"
)

// TestBuiltinsAreServerFunctions: a name on the built-in list that the
// server does not have resolves to a stored function of the current
// database, which may read anything; every name must be the server's own.
// The server answers 1305/1630 (FUNCTION db.name does not exist) only for
// names it would look up as stored functions.
func TestBuiltinsAreServerFunctions(t *testing.T) {
	db, _ := openMariaDB(t)
	if _, err := db.Exec("CREATE DATABASE IF NOT EXISTS dbfence_rules_builtins"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec("DROP DATABASE dbfence_rules_builtins") })
	if _, err := db.Exec("USE dbfence_rules_builtins"); err != nil {
		t.Fatal(err)
	}
	for name := range builtins {
		_, err := db.Exec("SELECT " + name + "()")
		var me *gomysql.MySQLError
		if errors.As(err, &me) && (me.Number == 1305 || me.Number == 1630) {
			t.Errorf("%s is on the built-in list but the server resolves it as a stored function: %v", name, err)
		}
	}
}
