package mysqlsql

import (
	"slices"
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // value expressions for the parser

	"github.com/dbfence/dbfence/fault"
)

// parsers pools TiDB parsers: a parser is not safe for concurrent use and
// costs several allocations to build.
var parsers = sync.Pool{New: func() any { return parser.New() }}

// tidbMode maps the lexing modes to the TiDB parser's sql_mode flags.
func tidbMode(m Mode) mysql.SQLMode {
	var out mysql.SQLMode
	if m&ModeANSIQuotes != 0 {
		out |= mysql.ModeANSIQuotes
	}
	if m&ModeNoBackslashEscapes != 0 {
		out |= mysql.ModeNoBackslashEscapes
	}
	if m&ModePipesAsConcat != 0 {
		out |= mysql.ModePipesAsConcat
	}
	if m&ModeHighNotPrecedence != 0 {
		out |= mysql.ModeHighNotPrecedence
	}
	if m&ModeIgnoreSpace != 0 {
		out |= mysql.ModeIgnoreSpace
	}
	return out
}

// Parse parses resolved text (see Resolve) with the session's modes into one
// syntax tree per statement. Text the parser cannot read is a ParseError
// whose message quotes the parser's complaint; the parser's message quotes
// the SQL near the error, which is the client's own text.
func Parse(text string, mode Mode) (stmts []ast.StmtNode, err error) {
	p := parsers.Get().(*parser.Parser)
	defer func() {
		// The parser's value driver panics on some literals (a decimal
		// with too many digits): refuse the text, and drop the parser,
		// whose state is unknown.
		if r := recover(); r != nil {
			stmts, err = nil, fault.New(fault.ParseError, "dbfence could not parse the statement (a literal the parser cannot read); it was not sent to the server")
			return
		}
		parsers.Put(p)
	}()
	p.SetSQLMode(tidbMode(mode))
	stmts, _, err = p.ParseSQL(text)
	if err != nil {
		msg := err.Error()
		if i := strings.Index(msg, "near "); i >= 0 {
			msg = msg[i:]
		}
		return nil, fault.Wrap(fault.ParseError, err, "dbfence could not parse the statement ("+msg+"); it was not sent to the server")
	}
	if len(stmts) == 0 {
		return nil, fault.New(fault.ParseError, "query was empty")
	}
	return stmts, nil
}

// Kind names a statement's kind in lower case, as policies list them:
// select, insert, update, delete, replace, set, use, show, explain, prepare,
// execute, deallocate, transaction, ddl, call, load, grant, user, kill,
// flush, lock, do, analyze and admin. Unknown statement types are "other".
func Kind(stmt ast.StmtNode) string {
	switch s := stmt.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		return "select"
	case *ast.InsertStmt:
		if s.IsReplace {
			return "replace"
		}
		return "insert"
	case *ast.UpdateStmt:
		return "update"
	case *ast.DeleteStmt:
		return "delete"
	case *ast.SetStmt, *ast.SetRoleStmt, *ast.SetDefaultRoleStmt, *ast.SetPwdStmt:
		return "set"
	case *ast.UseStmt:
		return "use"
	case *ast.ShowStmt:
		return "show"
	case *ast.ExplainStmt, *ast.ExplainForStmt, *ast.TraceStmt:
		return "explain"
	case *ast.PrepareStmt:
		return "prepare"
	case *ast.ExecuteStmt:
		return "execute"
	case *ast.DeallocateStmt:
		return "deallocate"
	case *ast.BeginStmt, *ast.CommitStmt, *ast.RollbackStmt, *ast.SavepointStmt, *ast.ReleaseSavepointStmt:
		return "transaction"
	case *ast.CreateDatabaseStmt, *ast.AlterDatabaseStmt, *ast.DropDatabaseStmt,
		*ast.CreateTableStmt, *ast.DropTableStmt, *ast.AlterTableStmt, *ast.TruncateTableStmt,
		*ast.RenameTableStmt, *ast.CreateViewStmt, *ast.CreateIndexStmt, *ast.DropIndexStmt,
		*ast.CreateSequenceStmt, *ast.DropSequenceStmt, *ast.AlterSequenceStmt, *ast.DropProcedureStmt,
		*ast.OptimizeTableStmt, *ast.RepairTableStmt:
		return "ddl"
	case *ast.CallStmt:
		return "call"
	case *ast.LoadDataStmt, *ast.ImportIntoStmt:
		return "load"
	case *ast.GrantStmt, *ast.RevokeStmt, *ast.GrantRoleStmt, *ast.RevokeRoleStmt, *ast.GrantProxyStmt:
		return "grant"
	case *ast.CreateUserStmt, *ast.AlterUserStmt, *ast.DropUserStmt, *ast.RenameUserStmt:
		return "user"
	case *ast.KillStmt:
		return "kill"
	case *ast.FlushStmt:
		return "flush"
	case *ast.LockTablesStmt, *ast.UnlockTablesStmt:
		return "lock"
	case *ast.DoStmt:
		return "do"
	case *ast.AnalyzeTableStmt:
		return "analyze"
	case *ast.ShutdownStmt, *ast.AdminStmt, *ast.BinlogStmt:
		return "admin"
	}
	return "other"
}

// KnownKinds lists every kind Kind returns, for policy validation.
var KnownKinds = []string{
	"select", "insert", "update", "delete", "replace", "set", "use", "show", "explain",
	"prepare", "execute", "deallocate", "transaction", "ddl", "call", "load", "grant",
	"user", "kill", "flush", "lock", "do", "analyze", "admin", "other",
	"handler", "get_diagnostics",
}

// unparsedKinds are MariaDB statements the TiDB parser does not read, by
// their leading words. They are never analysed: unrestricted roles may run
// them, restricted roles are refused them by kind.
var unparsedKinds = []struct {
	words []string
	kind  string
}{
	{[]string{"execute", "immediate"}, "execute"},
	{[]string{"handler"}, "handler"},
	{[]string{"get", "diagnostics"}, "get_diagnostics"},
	{[]string{"get", "current", "diagnostics"}, "get_diagnostics"},
	{[]string{"get", "stacked", "diagnostics"}, "get_diagnostics"},
}

// UnparsedKind recognises a single statement the parser cannot read but
// whose kind is certain from its leading words (EXECUTE IMMEDIATE, HANDLER,
// GET DIAGNOSTICS). Texts with more than one statement are not recognised.
func UnparsedKind(text string, mode Mode) (string, bool) {
	// One statement only: no ';' outside strings, except trailing.
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '\'' || c == '"' || c == '`':
			end, err := skipString(text, i, c != '`' && !(c == '"' && mode&ModeANSIQuotes != 0) && mode&ModeNoBackslashEscapes == 0)
			if err != nil {
				return "", false
			}
			i = end - 1
		case c == ';':
			if strings.TrimSpace(text[i+1:]) != "" {
				return "", false
			}
		}
	}
	words := strings.Fields(strings.ToLower(text))
	for _, k := range unparsedKinds {
		if len(words) >= len(k.words) && slices.Equal(words[:len(k.words)], k.words) {
			return k.kind, true
		}
	}
	return "", false
}
