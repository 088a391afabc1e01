package approval

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresStore keeps requests in a PostgreSQL table, so that several proxy
// instances share them: a request filed through one is approved on the
// console of another and used, once, through a third. Each change is one
// transaction; a use locks its row (FOR UPDATE), so concurrent proxies
// spend each use once.
type PostgresStore struct {
	pool *pgxpool.Pool
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// postgresSchema creates the table and the request number sequence.
const postgresSchema = `
CREATE TABLE IF NOT EXISTS dbfence_approval_request (
	id          text PRIMARY KEY,
	requester   text NOT NULL,
	database    text NOT NULL,
	normalized  text NOT NULL,
	fingerprint text NOT NULL,
	rows        bigint NOT NULL,
	reason      text NOT NULL,
	created     timestamptz NOT NULL,
	status      text NOT NULL,
	approver    text NOT NULL DEFAULT '',
	comment     text NOT NULL DEFAULT '',
	decided     timestamptz,
	valid_until timestamptz,
	uses_left   integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS dbfence_approval_request_lookup
	ON dbfence_approval_request (requester, database, fingerprint, status);
CREATE SEQUENCE IF NOT EXISTS dbfence_approval_request_seq;
`

const requestColumns = `id, requester, database, normalized, fingerprint, rows, reason, created, status, approver, comment, decided, valid_until, uses_left`

// OpenPostgres connects to the database url names and creates the table if
// it is missing. The account needs CREATE on the schema the first time,
// then SELECT, INSERT and UPDATE on the table and USAGE on the sequence.
func OpenPostgres(ctx context.Context, url string) (*PostgresStore, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("approval: postgres store: %w", err)
	}
	// Two proxies starting together may both create the table: serialise.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('dbfence_approval_schema'))"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, postgresSchema)
		return err
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("approval: postgres store: create its table: %w", err)
	}
	return &PostgresStore{pool: pool}, nil
}

// Close releases the store's connections.
func (s *PostgresStore) Close() { s.pool.Close() }

func (s *PostgresStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// storeTimeout bounds one store operation (the proxy waits on it).
const storeTimeout = 10 * time.Second

func (s *PostgresStore) tx(fn func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(ctx, tx) })
}

func scanRequest(row pgx.Row) (*Request, error) {
	var r Request
	var status string
	var decided, validUntil *time.Time
	if err := row.Scan(&r.ID, &r.Requester, &r.Database, &r.Normalized, &r.Fingerprint, &r.Rows, &r.Reason,
		&r.Created, &status, &r.Approver, &r.Comment, &decided, &validUntil, &r.UsesLeft); err != nil {
		return nil, err
	}
	r.Status = Status(status)
	if decided != nil {
		r.Decided = *decided
	}
	if validUntil != nil {
		r.ValidUntil = *validUntil
	}
	return &r, nil
}

// File implements Requests.
func (s *PostgresStore) File(requester, database, normalized string, rows int64, reason string) (out *Request, created bool, err error) {
	fp := Fingerprint(normalized)
	err = s.tx(func(ctx context.Context, tx pgx.Tx) error {
		// One filing at a time per statement, so a pending one is found.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", requester+"\x1f"+database+"\x1f"+fp); err != nil {
			return err
		}
		r, err := scanRequest(tx.QueryRow(ctx, `SELECT `+requestColumns+` FROM dbfence_approval_request
			WHERE requester = $1 AND database = $2 AND fingerprint = $3 AND status = 'pending' LIMIT 1`, requester, database, fp))
		if err == nil {
			out = r
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var n int64
		if err := tx.QueryRow(ctx, "SELECT nextval('dbfence_approval_request_seq')").Scan(&n); err != nil {
			return err
		}
		now := s.now()
		out = &Request{
			ID: fmt.Sprintf("R-%s-%04d", now.UTC().Format("20060102"), n), Requester: requester, Database: database,
			Normalized: normalized, Fingerprint: fp, Rows: rows, Reason: reason, Created: now, Status: Pending,
		}
		_, err = tx.Exec(ctx, `INSERT INTO dbfence_approval_request (id, requester, database, normalized, fingerprint, rows, reason, created, status)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending')`, out.ID, requester, database, normalized, fp, rows, reason, now)
		created = err == nil
		return err
	})
	return out, created, wrapStoreErr(err)
}

// Approve implements Requests.
func (s *PostgresStore) Approve(id string, d Decision) (*Request, error) {
	return s.decide(id, d, Approved)
}

// Reject implements Requests.
func (s *PostgresStore) Reject(id string, d Decision) (*Request, error) {
	return s.decide(id, d, Rejected)
}

func (s *PostgresStore) decide(id string, d Decision, to Status) (*Request, error) {
	var out *Request
	err := s.tx(func(ctx context.Context, tx pgx.Tx) error {
		r, err := scanRequest(tx.QueryRow(ctx, `SELECT `+requestColumns+` FROM dbfence_approval_request WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		if r.Status != Pending {
			return fmt.Errorf("%w (it is %s)", ErrNotPending, r.Status)
		}
		if d.Approver == "" {
			return errors.New("approval: the approver is not named")
		}
		if d.Approver == r.Requester {
			return ErrSelfApproval
		}
		now := s.now()
		r.Status, r.Approver, r.Comment, r.Decided = to, d.Approver, d.Comment, now
		var validUntil *time.Time
		if to == Approved {
			if d.Validity <= 0 {
				d.Validity = 24 * time.Hour
			}
			if d.Uses <= 0 {
				d.Uses = 1
			}
			if d.Rows > 0 {
				r.Rows = d.Rows
			}
			r.ValidUntil, r.UsesLeft = now.Add(d.Validity), d.Uses
			validUntil = &r.ValidUntil
		}
		out = r
		_, err = tx.Exec(ctx, `UPDATE dbfence_approval_request SET status = $2, approver = $3, comment = $4, decided = $5,
			valid_until = $6, uses_left = $7, rows = $8 WHERE id = $1`, id, string(to), d.Approver, d.Comment, now, validUntil, r.UsesLeft, r.Rows)
		return err
	})
	return out, wrapStoreErr(err)
}

// Revoke implements Requests.
func (s *PostgresStore) Revoke(id, by string) (*Request, error) {
	var out *Request
	err := s.tx(func(ctx context.Context, tx pgx.Tx) error {
		comment := ""
		if by != "" {
			comment = "revoked by " + by
		}
		r, err := scanRequest(tx.QueryRow(ctx, `UPDATE dbfence_approval_request
			SET status = 'revoked', decided = $2, uses_left = 0, comment = CASE WHEN $3 = '' THEN comment ELSE $3 END
			WHERE id = $1 RETURNING `+requestColumns, id, s.now(), comment))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		out = r
		return err
	})
	return out, wrapStoreErr(err)
}

// Use implements Requests.
func (s *PostgresStore) Use(requester, database, fingerprint string) (r *Request, ok bool, err error) {
	err = s.tx(func(ctx context.Context, tx pgx.Tx) error {
		got, err := scanRequest(tx.QueryRow(ctx, `SELECT `+requestColumns+` FROM dbfence_approval_request
			WHERE requester = $1 AND database = $2 AND fingerprint = $3 AND status = 'approved'
			  AND uses_left > 0 AND valid_until > $4
			ORDER BY created LIMIT 1 FOR UPDATE`, requester, database, fingerprint, s.now()))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		got.UsesLeft--
		if got.UsesLeft == 0 {
			got.Status = Used
		}
		if _, err := tx.Exec(ctx, `UPDATE dbfence_approval_request SET uses_left = $2, status = $3 WHERE id = $1`,
			got.ID, got.UsesLeft, string(got.Status)); err != nil {
			return err
		}
		r, ok = got, true
		return nil
	})
	if err != nil {
		return nil, false, wrapStoreErr(err)
	}
	return r, ok, nil
}

// List implements Requests.
func (s *PostgresStore) List() ([]*Request, error) {
	var out []*Request
	err := s.tx(func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+requestColumns+` FROM dbfence_approval_request ORDER BY created DESC, id DESC`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRequest(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, wrapStoreErr(err)
}

// Get implements Requests.
func (s *PostgresStore) Get(id string) (*Request, error) {
	var out *Request
	err := s.tx(func(ctx context.Context, tx pgx.Tx) error {
		r, err := scanRequest(tx.QueryRow(ctx, `SELECT `+requestColumns+` FROM dbfence_approval_request WHERE id = $1`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		out = r
		return err
	})
	return out, wrapStoreErr(err)
}

// wrapStoreErr names the store in errors that are not the package's own.
func wrapStoreErr(err error) error {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrNotPending) || errors.Is(err, ErrSelfApproval) {
		return err
	}
	return fmt.Errorf("approval: postgres store: %w", err)
}
