package rules

import (
	"net/netip"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules/facts"
)

// This file is the contract between the protocol engines and the rules: the
// engines describe the session in wire-neutral terms and get back a Verdict
// that tells them what to forward, what to refuse and how to treat each
// result column. Engines never look inside SQL; rules never touch the wire.

// Protocol names the client protocol of a session.
type Protocol string

// The client protocols.
const (
	ProtocolMySQL    Protocol = "mysql"
	ProtocolPostgres Protocol = "postgres"
)

// Session is what the rules know of one client connection. The engine owns it
// and updates it as the session changes (current database, modes, user). It is
// used by one goroutine at a time.
type Session struct {
	// Protocol of the client connection.
	Protocol Protocol
	// User is the backend user name the client authenticated as.
	User string
	// ClientAddr is the client's address as seen by the listener.
	ClientAddr netip.Addr
	// Database is the session's current database (MySQL) or database name (PostgreSQL).
	Database string
	// SQLMode holds the MySQL session's sql_mode flags that change how text is read.
	SQLMode SQLMode
	// ServerVersion is the backend version: for MySQL as an executable-comment
	// number (e.g. 101119 for 10.11.19), used to read /*!NNNNN */ exactly as
	// the server does; for PostgreSQL as server_version_num (150020 for
	// 15.20), for the grammar differences between server versions. 0: not known.
	ServerVersion uint32
	// MariaDB is true when the backend is MariaDB (it executes /*M! */ comments).
	MariaDB bool
	// Charset is the connection character set of client text (e.g. "utf8mb4", "gbk").
	Charset string
	// SearchPath is a PostgreSQL session's search_path as the server reports
	// it, split into entries ("$user" literal); SearchPathKnown is false
	// while the engine does not know it (before it asked, or after a
	// statement that may have changed it): unqualified table names are then
	// refused for restricted roles rather than guessed.
	SearchPath      []string
	SearchPathKnown bool
	// Cursors are the PostgreSQL SQL cursors the session declared whose
	// DECLARE completed, by name. The engine keeps them: it adds a cursor
	// when its DECLARE completes, counts the rows its FETCHes return, and
	// removes it as soon as a statement that may close or replace it is
	// sent (CLOSE, DISCARD, a Bind to a portal of that name, a failed
	// DECLARE of that name) and, unless WITH HOLD, when its transaction
	// ends. A FETCH is decided by its cursor's DECLARE (ResolveFetch).
	Cursors map[string]*Cursor
}

// Cursor is a declared SQL cursor as the rules see it.
type Cursor struct {
	// Plan is the verdict of the DECLARE: its FETCHes get its columns,
	// masks, row cap and budget.
	Plan StatementVerdict
	// Hold is set for WITH HOLD cursors, which outlive their transaction.
	Hold bool
	// Rows is how many rows its FETCHes have returned so far.
	Rows int64
}

// CursorOp is what a statement does to a SQL cursor.
type CursorOp uint8

// The cursor operations.
const (
	CursorNone CursorOp = iota
	CursorDeclare
	CursorFetch
	CursorMove
	CursorClose // Cursor "" closes them all
)

// SQLMode is the subset of MySQL sql_mode that changes how SQL text is lexed.
type SQLMode uint8

// The lexing flags of sql_mode (ParseSQLMode reads them from @@sql_mode).
const (
	ModeANSIQuotes SQLMode = 1 << iota
	ModeNoBackslashEscapes
	ModePipesAsConcat
	ModeHighNotPrecedence
	ModeIgnoreSpace
)

// Outcome is the decision on one statement.
type Outcome uint8

const (
	// Allow: forward; apply the column plan to the result, if any.
	Allow Outcome = iota + 1
	// Deny: refuse; nothing is sent to the server.
	Deny
	// NeedsApproval: refuse until an approver approves this statement.
	NeedsApproval
)

// String is the outcome's name in logs and audit records.
func (o Outcome) String() string {
	switch o {
	case Allow:
		return "allow"
	case Deny:
		return "deny"
	case NeedsApproval:
		return "needs_approval"
	}
	return "unknown"
}

// Verdict is the answer for one SQL text (which may hold several statements).
type Verdict struct {
	// Forward is the exact text to send to the server: the text the analyser
	// read, with executable comments resolved the way the server reads them.
	// Engines send Forward, never the client's original bytes.
	Forward string
	// Statements has one entry per statement of the text, in order; each
	// result set the server returns belongs to the statement at its index.
	// The slice and its plans may be shared with other verdicts (decision
	// cache): read-only.
	Statements []StatementVerdict
	// Refusal is set when the text must not be forwarded at all (any statement
	// denied, or the text could not be read). Engines send it to the client.
	Refusal *fault.Error
	// Approval is set when the text was refused only because its single
	// statement needs an approval: with a valid approval for this user,
	// database and fingerprint the engine may forward Approval.Forward with
	// the statement's plan and the approved row limit. Nothing else may be
	// forwarded for a refused text.
	Approval *ApprovalNeed
	// Literals are the literal values of the text, in order, as written
	// (for the audit log, which stores them encrypted). Never cached.
	Literals []string
	// Restricted is true when the session's role has rules (anything but
	// unrestricted): engines then withhold server error and warning text,
	// which can quote values (bypass class 8).
	Restricted bool
}

// StatementVerdict is the decision and result plan for one statement.
type StatementVerdict struct {
	// Kind is the statement kind in lower case ("select", "insert", "set", ...).
	Kind string
	// Outcome of the decision.
	Outcome Outcome
	// Rule and Reason explain the decision (for the client error, log and audit).
	Rule, Reason string
	// Normalized is the statement text with literals replaced by '?'.
	Normalized string
	// Columns is the plan for the result columns, one per output column, or
	// nil when no column of the result needs treatment (the fast path: rows are
	// forwarded without being decoded).
	Columns []ColumnPlan
	// RowCap is the largest number of rows the client may receive; 0 means no cap.
	RowCap int64
	// ChangesSession is true when the statement may change session state the
	// rules depend on (sql_mode, character set, current database, user); the
	// engine refreshes the Session after it completes.
	ChangesSession bool
	// Monitor is true when the role is in monitor mode: the decision is logged
	// and counted, but not enforced.
	Monitor bool
	// PolicyVersion stamps the decision.
	PolicyVersion string
	// Error is the refusal this statement alone would get when Outcome is not
	// Allow (Verdict.Refusal holds the one sent); nil when allowed.
	Error *fault.Error
	// ModifyCap, when > 0, is the most rows an UPDATE or DELETE may affect:
	// the engine runs the statement inside a transaction (or savepoint) and
	// rolls it back, with an error, when it affects more.
	ModifyCap int64
	// Budget, when set, is the role's rolling per-user allowance of
	// classified rows; it is set only on statements whose result carries
	// classified data. Engines count every row of such results against it.
	Budget *Budget
	// LocalInfile is the client file a LOAD DATA LOCAL INFILE statement
	// names; the engine relays the server's request for exactly this file
	// and refuses any other. Empty for every other statement.
	LocalInfile string
	// ChangesCatalog is true for statements that may change the schema
	// (DDL); the engine calls Engine.MarkCatalogStale after they complete.
	ChangesCatalog bool
	// LookupGuesses is how many values of hidden columns the statement
	// tests in exact lookups; with a Budget, engines charge them to it
	// before forwarding (a lookup that returns no classified column still
	// tells whether a guess exists), and refuse the statement when it is
	// used up.
	LookupGuesses int64
	// RequestRows is, for a statement that needs an approval, the rows a
	// request for it asks for: its literal LIMIT, or the role's row cap.
	RequestRows int64
	// CursorOp and Cursor say which SQL cursor (PostgreSQL) the statement
	// declares, fetches from, moves or closes; CursorHold marks a DECLARE
	// WITH HOLD. Set for restricted roles only.
	CursorOp   CursorOp
	Cursor     string
	CursorHold bool
	// CopyOut is the row format of a COPY ... TO STDOUT, for an engine
	// that masks or counts its rows (restricted roles only).
	CopyOut *CopyFormat
}

// CopyFormat is the row format of a PostgreSQL COPY ... TO STDOUT.
type CopyFormat = facts.CopyFormat

// ColumnPlan says how one result column is treated.
type ColumnPlan struct {
	// Masker transforms the column's value; nil leaves it as it is.
	Masker Masker
	// Class and Level are the classification the column carries, if any.
	Class string
	Level string // "1".."4", "important" or "core"; the highest of the column's sources
	// OrgDatabase, OrgTable and OrgColumn are the base column the analyser
	// predicts the server will report as the column's origin; empty when the
	// column is computed. Engines compare them with the result metadata.
	// MariaDB reports the nearest named relation: the base table (by its
	// real name), or the view, derived table or CTE the outer query reads (by
	// its alias, with its column name). Each field is empty when not
	// predicted (OrgDatabase for derived tables and CTEs; all three for set
	// operations): compare only the fields that are set.
	OrgDatabase, OrgTable, OrgColumn string
}

// Masker rewrites one non-NULL column value. It appends the masked form of
// src to dst and returns the extended slice; it must not retain src or dst.
// Implementations are safe for concurrent use.
type Masker interface {
	Mask(dst, src []byte) []byte
}

// ApprovalNeed describes a statement that may run once approved.
type ApprovalNeed struct {
	// Forward is the text to send once approved.
	Forward string
	// Normalized is the statement an approval names (literals as ?): an
	// approval covers the statement shape, for the same user and database.
	Normalized string
}
