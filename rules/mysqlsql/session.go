package mysqlsql

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/dbfence/dbfence/rules/facts"
)

// readingVariables are the system variables that change how the server reads
// later statement text.
var readingVariables = map[string]bool{
	"sql_mode":                 true,
	"character_set_client":     true,
	"character_set_connection": true,
	"character_set_results":    true,
	"collation_connection":     true,
	"names":                    true,
	"character set":            true,
	"charset":                  true,
	"lower_case_table_names":   true,
}

// sessionEffects fills the facts about session state a statement may change.
// newDB is the current database after the statement ("" when unchanged).
func sessionEffects(stmt ast.StmtNode, st *facts.Statement) (newDB string) {
	switch s := stmt.(type) {
	case *ast.SetStmt:
		for _, v := range s.Variables {
			name := asciiLower(v.Name)
			switch {
			case v.Name == ast.SetNames || v.Name == ast.SetCharset:
				st.ChangesSession, st.ChangesReading = true, true
			case v.IsSystem:
				st.ChangesSession = true
				if v.IsGlobal {
					st.SetsGlobal = true
				}
				if readingVariables[name] || strings.HasPrefix(name, "character_set_") || strings.HasPrefix(name, "collation_") {
					st.ChangesReading = true
				}
				// Any other system variable is refreshed too: the engine
				// re-reads the session after the statement.
			}
		}
	case *ast.SetRoleStmt, *ast.SetDefaultRoleStmt:
		st.ChangesSession = true
	case *ast.UseStmt:
		st.ChangesSession = true
		return s.DBName
	case *ast.DropDatabaseStmt:
		st.ChangesSession = true // may drop the current database
	case *ast.ExecuteStmt, *ast.CallStmt:
		// A prepared statement or routine may do anything, SET included.
		st.ChangesSession, st.ChangesReading = true, true
	}
	return ""
}
