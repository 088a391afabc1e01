package approval

import (
	"context"
	"strings"
)

// Requests is where requests and decisions are kept: a file (Store, one
// proxy host) or a PostgreSQL table (PostgresStore, several proxy
// instances). Implementations are safe for concurrent use by goroutines
// and by several processes, and every method is one atomic change: a use
// is spent once however many proxies race for it.
type Requests interface {
	// File records a request, or returns the pending one already filed for
	// the same requester, database and fingerprint (created is then false).
	File(requester, database, normalized string, rows int64, reason string) (r *Request, created bool, err error)
	// Approve and Reject decide a pending request; the approver must not be
	// the requester (ErrSelfApproval).
	Approve(id string, d Decision) (*Request, error)
	Reject(id string, d Decision) (*Request, error)
	// Revoke withdraws an approval or a pending request at once.
	Revoke(id, by string) (*Request, error)
	// Use consumes one use of a valid approval for exactly this requester,
	// database and fingerprint; ok is false when there is none.
	Use(requester, database, fingerprint string) (r *Request, ok bool, err error)
	// List returns every request, newest first; Get one (ErrNotFound).
	List() ([]*Request, error)
	Get(id string) (*Request, error)
}

var (
	_ Requests = (*Store)(nil)
	_ Requests = (*PostgresStore)(nil)
)

// OpenRequests opens the store a configuration names: a postgres:// or
// postgresql:// URL opens a PostgresStore (its table is created if
// missing), anything else is a file path (Open).
func OpenRequests(ctx context.Context, location string) (Requests, error) {
	if strings.HasPrefix(location, "postgres://") || strings.HasPrefix(location, "postgresql://") {
		return OpenPostgres(ctx, location)
	}
	return Open(location)
}
