package audit

import (
	"strconv"
	"time"
)

// EventType says what happened. The values are stable: they are written to
// the log and matched by filters.
type EventType string

// Event types written by the proxy.
const (
	TypeConnectionOpen  EventType = "connection_open"
	TypeConnectionClose EventType = "connection_close"
	TypeAuthOK          EventType = "auth_ok"
	TypeAuthFail        EventType = "auth_fail"
	TypeStatement       EventType = "statement"
	TypeExecute         EventType = "execute"
	TypePolicyReload    EventType = "policy_reload"
	TypeAdminAction     EventType = "admin_action"
	TypeApprovalRequest EventType = "approval_request"
	TypeApprovalGrant   EventType = "approval_grant"
	TypeApprovalDeny    EventType = "approval_deny"
	TypeApprovalExpire  EventType = "approval_expire"
)

// Event types written by the audit log itself. Record rejects them from
// callers so that nobody can forge the log's own bookkeeping.
const (
	TypeAuditStart      EventType = "audit_start"
	TypeAuditStop       EventType = "audit_stop"
	TypeAuditRotate     EventType = "audit_rotate"
	TypeAuditRecover    EventType = "audit_recover"
	TypeAuditDropped    EventType = "audit_dropped"
	TypeRetentionDelete EventType = "retention_delete"
	TypeCheckpoint      EventType = "checkpoint"
)

func (t EventType) internal() bool {
	switch t {
	case TypeAuditStart, TypeAuditStop, TypeAuditRotate, TypeAuditRecover,
		TypeAuditDropped, TypeRetentionDelete, TypeCheckpoint:
		return true
	}
	return false
}

// Event is one audited fact. The proxy fills what it knows; empty fields are
// omitted from the record. Record encodes the event before it returns, so the
// caller may reuse the Event (and its slices) immediately afterwards.
type Event struct {
	// Type says what happened; required.
	Type EventType `json:"type"`
	// Time is when it happened; Record uses the log's clock when zero. It is
	// written as RFC 3339 with nanoseconds and the zone of the value.
	Time time.Time `json:"time"`
	// Protocol is "mysql" or "postgres".
	Protocol string `json:"protocol,omitempty"`
	// SessionID identifies the client connection.
	SessionID string `json:"session_id,omitempty"`
	// StatementID numbers statements within the session.
	StatementID uint64 `json:"statement_id,omitempty"`
	// User is the authenticated database user (or the attempted one for auth_fail).
	User string `json:"user,omitempty"`
	// ClientAddr is the client's host:port.
	ClientAddr string `json:"client_addr,omitempty"`
	// Database is the current database / schema.
	Database string `json:"database,omitempty"`
	// StatementKind is the statement class, e.g. "select", "update", "ddl".
	StatementKind string `json:"statement_kind,omitempty"`
	// Normalized is the statement text with literals replaced by "?".
	Normalized string `json:"normalized,omitempty"`
	// Literals are the statement's literal values in order. They are personal
	// data: the log writes them SM4-GCM encrypted (literals_enc) when an SM4 key
	// is configured, in plaintext only when Config.PlaintextLiterals is set, and
	// otherwise drops them and writes only their count (literals_dropped).
	Literals []string `json:"literals,omitempty"`
	// Decision is the policy decision, e.g. "allow", "deny", "mask", "approve".
	Decision string `json:"decision,omitempty"`
	// Rule names the policy rule that decided.
	Rule string `json:"rule,omitempty"`
	// Reason explains the decision or the failure.
	Reason string `json:"reason,omitempty"`
	// Objects are the tables/views the statement touches.
	Objects []string `json:"objects,omitempty"`
	// Columns are the columns the statement reads or writes.
	Columns []string `json:"columns,omitempty"`
	// MaskedColumns are the result columns that were masked.
	MaskedColumns []string `json:"masked_columns,omitempty"`
	// Rows is the number of rows returned or affected.
	Rows int64 `json:"rows,omitempty"`
	// Bytes is the number of result bytes sent to the client.
	Bytes int64 `json:"bytes,omitempty"`
	// DurationUS is the statement duration in microseconds.
	DurationUS int64 `json:"duration_us,omitempty"`
	// ErrorCode is the error returned to the client (MySQL code or SQLSTATE)
	// or, in an outcome, one of: "aborted" (the proxy cut the result off),
	// "skipped" (the server did not run the statement after an earlier
	// error), "interrupted" (the exchange broke off first: client gone,
	// backend lost; rows and bytes are those sent until then).
	ErrorCode string `json:"error_code,omitempty"`
	// ApprovalID links bulk-export approvals to the statements they allowed.
	ApprovalID string `json:"approval_id,omitempty"`
	// PolicyVersion identifies the policy that decided.
	PolicyVersion string `json:"policy_version,omitempty"`
	// Detail holds anything else, written with sorted keys.
	Detail map[string]string `json:"detail,omitempty"`
}

// timeLayout is RFC 3339 with a fixed nanosecond width, so records sort and
// align; the zone is the one of the event's time.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// literalMode says how appendEventBody writes Literals.
type literalMode int

const (
	literalsDrop literalMode = iota
	literalsPlain
	literalsSealed
)

// appendEventBody appends the event's JSON members (without braces, starting
// with `"type":`) to dst. In literalsSealed mode it writes an empty
// literals_enc value and returns its offset in dst as litAt, where the
// writer inserts the sealed literals; litAt is -1 when there is no such
// value.
func appendEventBody(dst []byte, e *Event, mode literalMode) (body []byte, litAt int) {
	litAt = -1
	dst = append(dst, `"type":`...)
	dst = appendJSONString(dst, string(e.Type))
	dst = append(dst, `,"time":"`...)
	dst = appendTime(dst, e.Time)
	dst = append(dst, '"')
	dst = appendStringField(dst, "protocol", e.Protocol)
	dst = appendStringField(dst, "session_id", e.SessionID)
	if e.StatementID != 0 {
		dst = append(dst, `,"statement_id":`...)
		dst = strconv.AppendUint(dst, e.StatementID, 10)
	}
	dst = appendStringField(dst, "user", e.User)
	dst = appendStringField(dst, "client_addr", e.ClientAddr)
	dst = appendStringField(dst, "database", e.Database)
	dst = appendStringField(dst, "statement_kind", e.StatementKind)
	dst = appendStringField(dst, "normalized", e.Normalized)
	if len(e.Literals) > 0 {
		switch mode {
		case literalsPlain:
			dst = appendStringsField(dst, "literals", e.Literals)
		case literalsSealed:
			dst = append(dst, `,"literals_enc":"`...)
			litAt = len(dst)
			dst = append(dst, '"')
		default:
			dst = appendIntField(dst, "literals_dropped", int64(len(e.Literals)))
		}
	}
	dst = appendStringField(dst, "decision", e.Decision)
	dst = appendStringField(dst, "rule", e.Rule)
	dst = appendStringField(dst, "reason", e.Reason)
	dst = appendStringsField(dst, "objects", e.Objects)
	dst = appendStringsField(dst, "columns", e.Columns)
	dst = appendStringsField(dst, "masked_columns", e.MaskedColumns)
	dst = appendIntField(dst, "rows", e.Rows)
	dst = appendIntField(dst, "bytes", e.Bytes)
	dst = appendIntField(dst, "duration_us", e.DurationUS)
	dst = appendStringField(dst, "error_code", e.ErrorCode)
	dst = appendStringField(dst, "approval_id", e.ApprovalID)
	dst = appendStringField(dst, "policy_version", e.PolicyVersion)
	if len(e.Detail) > 0 {
		dst = append(dst, `,"detail":{`...)
		for i, k := range sortedKeys(e.Detail) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			dst = appendJSONString(dst, e.Detail[k])
		}
		dst = append(dst, '}')
	}
	return dst, litAt
}

func appendStringField(dst []byte, name, v string) []byte {
	if v == "" {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return appendJSONString(dst, v)
}

func appendIntField(dst []byte, name string, v int64) []byte {
	if v == 0 {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return strconv.AppendInt(dst, v, 10)
}

func appendStringsField(dst []byte, name string, v []string) []byte {
	if len(v) == 0 {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':', '[')
	for i, s := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s)
	}
	return append(dst, ']')
}
