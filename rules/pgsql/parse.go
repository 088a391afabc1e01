package pgsql

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/dbfence/dbfence/fault"
)

// Statement is one statement of a PostgreSQL text.
type Statement struct {
	// Kind is the statement kind in lower case ("select", "insert", "set", ...).
	Kind string
	// Text is the statement's own text.
	Text string
	// ChangesSession is true for statements that may change session state
	// the proxy depends on (SET, RESET, DISCARD, SET ROLE, ...).
	ChangesSession bool
}

// Parse parses text with the PostgreSQL grammar. An empty text yields no
// statements; a text that does not parse yields a ParseError naming the
// server's own message.
func Parse(text string) ([]Statement, error) {
	tree, err := pg.Parse(text)
	if err != nil {
		return nil, fault.Wrap(fault.ParseError, err, "dbfence could not parse the statement ("+err.Error()+"); it was not sent to the server")
	}
	out := make([]Statement, 0, len(tree.Stmts))
	for _, raw := range tree.Stmts {
		start := int(raw.StmtLocation)
		end := len(text)
		if raw.StmtLen > 0 {
			end = start + int(raw.StmtLen)
		}
		if start < 0 || start > end || end > len(text) {
			return nil, fault.New(fault.ParseError, "dbfence could not locate a statement in the text")
		}
		kind, changes := kindOf(raw.Stmt)
		out = append(out, Statement{Kind: kind, Text: strings.TrimSpace(text[start:end]), ChangesSession: changes})
	}
	return out, nil
}

// Normalized returns the statement with constants replaced by $n, or the
// text itself when it cannot be normalized.
func Normalized(text string) string {
	n, err := pg.Normalize(text)
	if err != nil {
		return text
	}
	return n
}

// kindOf names a statement node's kind.
func kindOf(n *pg.Node) (kind string, changesSession bool) {
	if n == nil {
		return "unknown", false
	}
	switch n.Node.(type) {
	case *pg.Node_SelectStmt:
		return "select", false
	case *pg.Node_InsertStmt:
		return "insert", false
	case *pg.Node_UpdateStmt:
		return "update", false
	case *pg.Node_DeleteStmt:
		return "delete", false
	case *pg.Node_MergeStmt:
		return "merge", false
	case *pg.Node_CopyStmt:
		return "copy", false
	case *pg.Node_VariableSetStmt:
		return "set", true
	case *pg.Node_VariableShowStmt:
		return "show", false
	case *pg.Node_TransactionStmt:
		return "transaction", false
	case *pg.Node_ExplainStmt:
		return "explain", false
	case *pg.Node_PrepareStmt:
		return "prepare", false
	case *pg.Node_ExecuteStmt:
		return "execute", false
	case *pg.Node_DeallocateStmt:
		return "deallocate", false
	case *pg.Node_DeclareCursorStmt:
		return "declare", false
	case *pg.Node_FetchStmt:
		return "fetch", false
	case *pg.Node_ClosePortalStmt:
		return "close", false
	case *pg.Node_DiscardStmt:
		return "discard", true
	case *pg.Node_DoStmt:
		return "do", false
	case *pg.Node_CallStmt:
		return "call", false
	case *pg.Node_LockStmt:
		return "lock", false
	case *pg.Node_ListenStmt, *pg.Node_UnlistenStmt, *pg.Node_NotifyStmt:
		return "notify", false
	case *pg.Node_CreateStmt, *pg.Node_AlterTableStmt, *pg.Node_DropStmt, *pg.Node_IndexStmt,
		*pg.Node_ViewStmt, *pg.Node_CreateTableAsStmt, *pg.Node_CreateFunctionStmt, *pg.Node_CreateSchemaStmt,
		*pg.Node_RenameStmt, *pg.Node_TruncateStmt, *pg.Node_CreateSeqStmt, *pg.Node_AlterSeqStmt:
		return "ddl", false
	case *pg.Node_GrantStmt, *pg.Node_GrantRoleStmt, *pg.Node_CreateRoleStmt, *pg.Node_AlterRoleStmt, *pg.Node_DropRoleStmt:
		return "grant", false
	}
	return "other", false
}
