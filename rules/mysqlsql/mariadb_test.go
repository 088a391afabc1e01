package mysqlsql

import (
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	_ "github.com/go-sql-driver/mysql"
)

// testDSN is the MariaDB the integration tests use; DBFENCE_TEST_MYSQL_DSN overrides it.
func testDSN() string {
	if d := os.Getenv("DBFENCE_TEST_MYSQL_DSN"); d != "" {
		return d
	}
	return "root@tcp(127.0.0.1:3306)/"
}

// openMariaDB connects to the test server or skips the test.
func openMariaDB(t *testing.T) (*sql.DB, Server) {
	t.Helper()
	db, err := sql.Open("mysql", testDSN())
	if err != nil {
		t.Skipf("no test database: %v", err)
	}
	db.SetMaxOpenConns(1)
	var version string
	if err := db.QueryRow("SELECT @@version").Scan(&version); err != nil {
		db.Close()
		t.Skipf("no test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, serverFromVersion(version)
}

// serverFromVersion turns "10.11.19-MariaDB-..." into an executable-comment version.
func serverFromVersion(v string) Server {
	s := Server{MariaDB: strings.Contains(v, "MariaDB")}
	parts := strings.SplitN(strings.SplitN(v, "-", 2)[0], ".", 3)
	var n [3]uint32
	for i := 0; i < len(parts) && i < 3; i++ {
		x, _ := strconv.Atoi(parts[i])
		n[i] = uint32(x)
	}
	s.Version = n[0]*10000 + n[1]*100 + n[2]
	return s
}

// queryAll returns a query's rows as one string, or the error text.
func queryAll(db *sql.DB, q string) string {
	rows, err := db.Query(q)
	if err != nil {
		return "error: " + err.Error()
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "error: " + err.Error()
		}
		var row []string
		for _, v := range vals {
			row = append(row, v.String)
		}
		out = append(out, strings.Join(row, ","))
	}
	return fmt.Sprintf("%v %s", cols, strings.Join(out, ";"))
}

// TestResolveMatchesMariaDB checks, against the real server, that every
// resolution means to the server exactly what the client's text means, and
// that the predicted results hold.
func TestResolveMatchesMariaDB(t *testing.T) {
	db, server := openMariaDB(t)
	if !server.MariaDB {
		t.Skip("the expectations below are MariaDB's")
	}
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS dbfence_rules_test",
		"CREATE TABLE IF NOT EXISTS dbfence_rules_test.person (id INT PRIMARY KEY, name VARCHAR(20), id_card VARCHAR(18))",
		"REPLACE INTO dbfence_rules_test.person VALUES (1,'Zhang San','110105194912310025'),(2,'Li Si','110105195001010011')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() { db.Exec("DROP DATABASE dbfence_rules_test") })

	tests := []struct {
		desc, text, want string
	}{
		{desc: "future version skipped", text: "SELECT 1 /*!99999 +1 */", want: "[1] 1"},
		{desc: "MariaDB comment executed", text: "SELECT 1 /*M! +1 */", want: "[1  +1] 2"},
		{desc: "six-digit version executed", text: "SELECT 1 /*!100000 +1 */", want: "[1  +1] 2"},
		{desc: "MySQL 5.7 version skipped by MariaDB", text: "SELECT 1 /*!50700 +1 */", want: "[1] 1"},
		{desc: "old version executed", text: "SELECT 1 /*!40101 +1 */", want: "[1  +1] 2"},
		{desc: "class 16: hidden column", text: "SELECT name /*M!, id_card */ FROM dbfence_rules_test.person WHERE id=1", want: "[name id_card] Zhang San,110105194912310025"},
		{desc: "class 16: hidden LIMIT is not applied", text: "SELECT name FROM dbfence_rules_test.person /*!99999 LIMIT 1 */", want: "[name] Zhang San;Li Si"},
		{desc: "quotes in an executed comment", text: "SELECT 1 /*! '*/' */", want: "[*/] 1"},
		{desc: "dash dash without space", text: "SELECT 1--1", want: "[1--1] 2"},
		{desc: "line comment", text: "SELECT 1 -- +1\n", want: "[1] 1"},
		{desc: "ordinary comments do not nest", text: "SELECT 1 /* a /* b */ + 1", want: "[1 /* a /* b */ + 1] 2"},
		{desc: "hash comment", text: "SELECT 1 # + 1\n + 2", want: "[1 # + 1\n + 2] 3"},
		{desc: "dash comment needs whitespace", text: "SELECT 2--1", want: "[2--1] 3"},
		{desc: "dash comment with a tab", text: "SELECT 2 --\t+1\n", want: "[2] 2"},
		{desc: "skipped comment ends at the first close, quotes or not", text: "SELECT 1 /*!99999 ' */ + 1", want: "[1  + 1] 2"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			resolved, err := Resolve(tc.text, 0, server)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			direct := queryAll(db, tc.text)
			via := queryAll(db, resolved)
			if direct != tc.want {
				t.Errorf("server on the original text: %s, test expects %s", direct, tc.want)
			}
			// Column names can echo the text; compare the rows only.
			if rowsOf(direct) != rowsOf(via) {
				t.Errorf("server reads the resolution differently:\n original %q -> %s\n resolved %q -> %s", tc.text, direct, resolved, via)
			}
		})
	}
}

// rowsOf strips the column list from a queryAll result.
func rowsOf(s string) string {
	if i := strings.Index(s, "] "); i >= 0 && strings.HasPrefix(s, "[") {
		return s[i+2:]
	}
	return s
}
