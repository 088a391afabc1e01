package proxy

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/dbfence/dbfence/rules"
)

// Auditor receives the events engines emit. Implementations are safe for
// concurrent use. A non-nil error from Statement means the event could not be
// made durable (strict audit): the engine refuses the statement.
type Auditor interface {
	// Connection records a session opening, failing to authenticate or closing.
	Connection(ev *ConnectionEvent)
	// Statement records one statement's decision before it is forwarded.
	// In strict mode it returns only once the record is durable.
	Statement(ev *StatementEvent) error
	// StatementDone records how a forwarded statement ended.
	StatementDone(ev *StatementEvent)
}

// ConnectionEvent describes a session's lifecycle step.
type ConnectionEvent struct {
	// Type is "connection_open", "auth_ok", "auth_fail" or "connection_close".
	Type       string
	Protocol   string
	SessionID  uint64
	User       string
	ClientAddr netip.AddrPort
	Database   string
	// ErrorCode is the MySQL code or PostgreSQL SQLSTATE of a failure.
	ErrorCode string
	Detail    string
	Time      time.Time
}

// StatementEvent describes one statement or prepared-statement execution.
type StatementEvent struct {
	Protocol    string
	SessionID   uint64
	StatementID uint64
	User        string
	ClientAddr  netip.AddrPort
	Database    string
	// Command is the protocol command ("query", "prepare", "execute", ...).
	Command string
	// Kind, Normalized, Decision, Rule, Reason and PolicyVersion come from the rules.
	Kind          string
	Normalized    string
	Decision      string
	Rule          string
	Reason        string
	PolicyVersion string
	// Literals are the statement's literal values, in order (the audit log
	// encrypts them).
	Literals []string
	// Objects are the tables and views the statement touches.
	Objects []string
	// MaskedColumns names the result columns that were masked.
	MaskedColumns []string
	// ApprovalID is the approval that allowed the statement, if any.
	ApprovalID string
	// Rows returned or affected, and bytes sent to the client.
	Rows  int64
	Bytes int64
	// ErrorCode is the error sent to the client, if any.
	ErrorCode string
	Start     time.Time
	Duration  time.Duration
}

// NopAuditor discards events.
type NopAuditor struct{}

func (NopAuditor) Connection(*ConnectionEvent)     {}
func (NopAuditor) Statement(*StatementEvent) error { return nil }
func (NopAuditor) StatementDone(*StatementEvent)   {}

// ApplyVerdict copies a statement's decision into the event: kind,
// normalized text, decision, rule, reason, policy version and the masked
// columns (by origin column name, or "#n" for computed ones). A nil verdict
// (no decision needed, e.g. a protocol-level command) reads as allowed.
func (ev *StatementEvent) ApplyVerdict(sv *rules.StatementVerdict) {
	if sv == nil {
		ev.Decision = rules.Allow.String()
		return
	}
	ev.Kind = sv.Kind
	ev.Normalized = sv.Normalized
	ev.Decision = sv.Outcome.String()
	ev.Rule = sv.Rule
	ev.Reason = sv.Reason
	ev.PolicyVersion = sv.PolicyVersion
	ev.MaskedColumns = ev.MaskedColumns[:0]
	for i, c := range sv.Columns {
		if c.Masker != nil {
			name := c.OrgColumn
			if name == "" {
				name = "#" + strconv.Itoa(i+1)
			}
			ev.MaskedColumns = append(ev.MaskedColumns, name)
		}
	}
}

// Approvals is the approval workflow seen from an engine. Implementations are
// safe for concurrent use.
type Approvals interface {
	// Use consumes one use of a valid approval for exactly this user,
	// database and normalized statement; ok is false when there is none.
	Use(user, database, normalized string) (id string, rows int64, ok bool, err error)
	// File files a request for the statement (or finds the pending one)
	// and returns its id.
	File(user, database, normalized string, rows int64, reason string) (id string, err error)
}
