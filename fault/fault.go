package fault

import (
	"errors"
	"fmt"
)

// Kind classifies an error the proxy raises. The zero value is not a valid kind.
type Kind uint8

// The error kinds. Add a kind only together with its row in table.
const (
	_ Kind = iota
	// ParseError: the statement text did not parse, or uses a construct the
	// analyser refuses to read (e.g. an executable comment it cannot resolve).
	ParseError
	// ColumnDenied: the policy forbids a column the statement reads or shapes rows with.
	ColumnDenied
	// TableDenied: the policy forbids a table, view or schema the statement touches.
	TableDenied
	// StatementDenied: the policy forbids this kind of statement for the role
	// (DDL, CALL, dynamic SQL, a flow into variables or files, ...).
	StatementDenied
	// ApprovalRequired: the statement is a bulk read, export or modification
	// that an approver must approve first.
	ApprovalRequired
	// RowCapExceeded: a result reached the role's row cap while streaming.
	RowCapExceeded
	// HostNotAllowed: the client's address is not in the role's allowlist.
	HostNotAllowed
	// UnsupportedCommand: a protocol command or message the proxy does not relay.
	UnsupportedCommand
	// UnsupportedCharset: a connection character set the proxy cannot analyse.
	UnsupportedCharset
	// ProtocolViolation: a malformed or out-of-order packet or message.
	ProtocolViolation
	// PacketTooLarge: a packet or message over the configured limit.
	PacketTooLarge
	// BackendUnavailable: the backend could not be reached or the connection to it was lost.
	BackendUnavailable
	// ResultMismatch: the server's result metadata disagrees with the analyser's
	// prediction; the result is refused rather than risk an unmasked column.
	ResultMismatch
	// AuditUnavailable: the audit log cannot be written in strict mode.
	AuditUnavailable
	// LocalInfileRefused: the server asked for a local file the client's statement did not name.
	LocalInfileRefused
	// ShuttingDown: the proxy is draining sessions and accepts no new work.
	ShuttingDown
	// Internal: a bug or an unexpected state inside the proxy.
	Internal
	kindCount
)

// wire is one row of the table: how a kind appears on each protocol.
type wire struct {
	name       string
	mysqlCode  uint16
	mysqlState string
	pgState    string
}

// table maps every kind to its wire form. init checks it is exhaustive.
var table = [kindCount]wire{
	ParseError:         {"parse_error", 1064, "42000", "42601"},
	ColumnDenied:       {"column_denied", 1143, "42000", "42501"},
	TableDenied:        {"table_denied", 1142, "42000", "42501"},
	StatementDenied:    {"statement_denied", 1227, "42000", "42501"},
	ApprovalRequired:   {"approval_required", 1227, "42000", "42501"},
	RowCapExceeded:     {"row_cap_exceeded", 1226, "42000", "54000"},
	HostNotAllowed:     {"host_not_allowed", 1130, "HY000", "28000"},
	UnsupportedCommand: {"unsupported_command", 1047, "08S01", "0A000"},
	UnsupportedCharset: {"unsupported_charset", 1115, "42000", "22021"},
	ProtocolViolation:  {"protocol_violation", 1156, "08S01", "08P01"},
	PacketTooLarge:     {"packet_too_large", 1153, "08S01", "54000"},
	// 1158 (ER_NET_READ_ERROR, 08S01), not the client's own 2013: clients
	// print the server's message only for codes outside 2000-2999.
	BackendUnavailable: {"backend_unavailable", 1158, "08S01", "08006"},
	ResultMismatch:     {"result_mismatch", 1105, "HY000", "XX000"},
	AuditUnavailable:   {"audit_unavailable", 1026, "HY000", "58030"},
	LocalInfileRefused: {"local_infile_refused", 1148, "42000", "42501"},
	ShuttingDown:       {"shutting_down", 1053, "08S01", "57P01"},
	Internal:           {"internal", 1105, "HY000", "XX000"},
}

func init() {
	for k := Kind(1); k < kindCount; k++ {
		w := table[k]
		if w.name == "" || w.mysqlCode == 0 || len(w.mysqlState) != 5 || len(w.pgState) != 5 {
			panic(fmt.Sprintf("fault: kind %d has no complete wire mapping", k))
		}
	}
}

// String is the kind's stable name, used in logs, metrics and audit records.
func (k Kind) String() string {
	if k == 0 || k >= kindCount {
		return "unknown"
	}
	return table[k].name
}

// MySQL returns the MySQL error code and SQLSTATE for the kind.
func (k Kind) MySQL() (code uint16, sqlState string) {
	if k == 0 || k >= kindCount {
		k = Internal
	}
	return table[k].mysqlCode, table[k].mysqlState
}

// PostgresState returns the PostgreSQL SQLSTATE for the kind.
func (k Kind) PostgresState() string {
	if k == 0 || k >= kindCount {
		k = Internal
	}
	return table[k].pgState
}

// Kinds lists every valid kind, for documentation and tests.
func Kinds() []Kind {
	ks := make([]Kind, 0, kindCount-1)
	for k := Kind(1); k < kindCount; k++ {
		ks = append(ks, k)
	}
	return ks
}

// Error is an error the proxy reports to a client. Message is what the client
// reads; it never holds a value from a masked or denied column.
type Error struct {
	Kind    Kind
	Message string
	// Cause is the internal reason, logged but never sent to the client.
	Cause error
}

// New builds an Error with a formatted client message.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Wrap builds an Error whose client message is msg and whose cause is err.
func Wrap(k Kind, err error, msg string) *Error {
	return &Error{Kind: k, Message: msg, Cause: err}
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Kind.String() + ": " + e.Message + ": " + e.Cause.Error()
	}
	return e.Kind.String() + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// As returns the *Error inside err, or an Internal error that hides err's
// text from the client (it may hold anything) while keeping it as the cause.
func As(err error) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	return &Error{Kind: Internal, Message: "internal proxy error", Cause: err}
}
