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
	// the proxy depends on (SET, RESET, DISCARD, SET ROLE, a transaction end
	// that may revert a SET, code that may run SET: DO, CALL, EXECUTE).
	ChangesSession bool
	// Node is the statement's parse tree (the RawStmt's Stmt); Analyze reads it.
	Node *pg.Node
}

// Parse parses text with the PostgreSQL grammar. An empty text yields no
// statements; a text that does not parse yields a ParseError naming the
// server's own message. A text whose parse tree may be deeper than maxDepth
// is refused before libpg_query sees it (see depth.go).
func Parse(text string) ([]Statement, error) {
	if depthEstimate(text, maxDepth) > maxDepth {
		return nil, fault.New(fault.ParseError, "dbfence could not analyse the statement: too complex or too deeply nested "+
			"(more than %d levels of expressions); it was not sent to the server", maxDepth)
	}
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
		out = append(out, Statement{Kind: kind, Text: strings.TrimSpace(text[start:end]), ChangesSession: changes, Node: raw.Stmt})
	}
	return out, nil
}

// parseTree is pg.Parse behind the depth check, for texts that do not come
// through Parse (view definitions: the server accepts deeper trees under a
// raised max_stack_depth).
func parseTree(text string) (*pg.ParseResult, error) {
	if depthEstimate(text, maxDepth) > maxDepth {
		return nil, fault.New(fault.ParseError, "dbfence could not analyse the definition: too deeply nested")
	}
	return pg.Parse(text)
}

// Normalized returns the statement with constants replaced by $n, or the
// text itself when it cannot be normalized.
func Normalized(text string) string {
	if depthEstimate(text, maxDepth) > maxDepth {
		return text // libpg_query's tree walk would overflow the C stack
	}
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
	switch x := n.Node.(type) {
	case *pg.Node_SelectStmt:
		if x.SelectStmt.GetIntoClause() != nil {
			return "ddl", false // SELECT ... INTO creates a table
		}
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
		return "transaction", transactionEndsScope(x.TransactionStmt.GetKind())
	case *pg.Node_ExplainStmt:
		return "explain", false
	case *pg.Node_PrepareStmt:
		return "prepare", false
	case *pg.Node_ExecuteStmt:
		return "execute", true
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
		return "do", true
	case *pg.Node_CallStmt:
		return "call", true
	case *pg.Node_LockStmt:
		return "lock", false
	case *pg.Node_ListenStmt, *pg.Node_UnlistenStmt, *pg.Node_NotifyStmt:
		return "notify", false
	case *pg.Node_CreateStmt, *pg.Node_AlterTableStmt, *pg.Node_DropStmt, *pg.Node_IndexStmt,
		*pg.Node_ViewStmt, *pg.Node_CreateTableAsStmt, *pg.Node_CreateFunctionStmt, *pg.Node_CreateSchemaStmt,
		*pg.Node_RenameStmt, *pg.Node_TruncateStmt, *pg.Node_CreateSeqStmt, *pg.Node_AlterSeqStmt,
		*pg.Node_RefreshMatViewStmt, *pg.Node_CreateExtensionStmt, *pg.Node_AlterExtensionStmt,
		*pg.Node_AlterExtensionContentsStmt, *pg.Node_CommentStmt, *pg.Node_SecLabelStmt, *pg.Node_AlterFunctionStmt,
		*pg.Node_AlterObjectSchemaStmt, *pg.Node_AlterOwnerStmt, *pg.Node_AlterObjectDependsStmt, *pg.Node_CreateTrigStmt,
		*pg.Node_CreateEventTrigStmt, *pg.Node_AlterEventTrigStmt, *pg.Node_RuleStmt, *pg.Node_CreatePolicyStmt,
		*pg.Node_AlterPolicyStmt, *pg.Node_CompositeTypeStmt, *pg.Node_CreateEnumStmt, *pg.Node_CreateRangeStmt,
		*pg.Node_AlterEnumStmt, *pg.Node_AlterTypeStmt, *pg.Node_CreateDomainStmt, *pg.Node_AlterDomainStmt,
		*pg.Node_DefineStmt, *pg.Node_CreateForeignTableStmt, *pg.Node_CreateStatsStmt, *pg.Node_AlterStatsStmt,
		*pg.Node_CreateCastStmt, *pg.Node_CreateConversionStmt, *pg.Node_CreateOpClassStmt, *pg.Node_CreateOpFamilyStmt,
		*pg.Node_AlterOpFamilyStmt, *pg.Node_AlterOperatorStmt, *pg.Node_CreatePlangStmt, *pg.Node_CreateTransformStmt,
		*pg.Node_AlterCollationStmt, *pg.Node_AlterTsconfigurationStmt, *pg.Node_AlterTsdictionaryStmt,
		*pg.Node_CreatedbStmt, *pg.Node_DropdbStmt, *pg.Node_AlterDatabaseStmt, *pg.Node_AlterDatabaseSetStmt,
		*pg.Node_AlterDatabaseRefreshCollStmt, *pg.Node_CreateTableSpaceStmt, *pg.Node_DropTableSpaceStmt,
		*pg.Node_AlterTableSpaceOptionsStmt, *pg.Node_AlterTableMoveAllStmt, *pg.Node_CreatePublicationStmt,
		*pg.Node_AlterPublicationStmt, *pg.Node_CreateSubscriptionStmt, *pg.Node_AlterSubscriptionStmt,
		*pg.Node_DropSubscriptionStmt, *pg.Node_CreateFdwStmt, *pg.Node_AlterFdwStmt, *pg.Node_CreateForeignServerStmt,
		*pg.Node_AlterForeignServerStmt, *pg.Node_CreateUserMappingStmt, *pg.Node_AlterUserMappingStmt,
		*pg.Node_DropUserMappingStmt, *pg.Node_ImportForeignSchemaStmt, *pg.Node_CreateAmStmt:
		return "ddl", false
	case *pg.Node_GrantStmt, *pg.Node_GrantRoleStmt, *pg.Node_CreateRoleStmt, *pg.Node_AlterRoleStmt, *pg.Node_DropRoleStmt,
		*pg.Node_AlterRoleSetStmt, *pg.Node_AlterDefaultPrivilegesStmt, *pg.Node_DropOwnedStmt, *pg.Node_ReassignOwnedStmt:
		return "grant", false
	}
	return "other", false
}

// transactionEndsScope reports whether a transaction statement may revert
// session settings (a rollback undoes SET; a commit ends SET LOCAL).
func transactionEndsScope(k pg.TransactionStmtKind) bool {
	switch k {
	case pg.TransactionStmtKind_TRANS_STMT_BEGIN, pg.TransactionStmtKind_TRANS_STMT_START,
		pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT, pg.TransactionStmtKind_TRANS_STMT_RELEASE:
		return false
	}
	return true
}
