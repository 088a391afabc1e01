package approval

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

// Status is the state of a request.
type Status string

const (
	Pending  Status = "pending"
	Approved Status = "approved"
	Rejected Status = "rejected"
	Revoked  Status = "revoked"
	// Used is an approval whose uses are spent.
	Used Status = "used"
)

// Request is one approval request and its decision.
type Request struct {
	ID          string    `json:"id"`
	Requester   string    `json:"requester"`
	Database    string    `json:"database"`
	Normalized  string    `json:"normalized"`
	Fingerprint string    `json:"fingerprint"`
	Rows        int64     `json:"rows"`
	Reason      string    `json:"reason"`
	Created     time.Time `json:"created"`
	Status      Status    `json:"status"`
	Approver    string    `json:"approver,omitempty"`
	Comment     string    `json:"comment,omitempty"`
	Decided     time.Time `json:"decided,omitempty"`
	ValidUntil  time.Time `json:"valid_until,omitempty"`
	UsesLeft    int       `json:"uses_left,omitempty"`
}

// Fingerprint identifies a normalized statement.
func Fingerprint(normalized string) string {
	sum := sha256.Sum256([]byte(normalized))
	return hex.EncodeToString(sum[:12])
}

// Errors callers tell apart.
var (
	ErrNotFound     = errors.New("approval: no such request")
	ErrSelfApproval = errors.New("approval: a requester cannot approve their own request")
	ErrNotPending   = errors.New("approval: the request is not pending")
)

// Store keeps requests in a JSON file. It is safe for concurrent use by
// goroutines and processes.
type Store struct {
	path string
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Open returns the store kept in path (created on first write, 0600).
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("approval: no store path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return &Store{path: path}, nil
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

type file struct {
	Next     int        `json:"next"`
	Requests []*Request `json:"requests"`
}

// update runs fn on the store's contents under the lock and writes the
// result back when fn reports a change.
func (s *Store) update(fn func(f *file) (changed bool, err error)) error {
	lock, err := os.OpenFile(s.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	var f file
	data, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(data, &f); err != nil {
			return fmt.Errorf("approval: store %s is corrupt: %w", s.path, err)
		}
	}
	changed, err := fn(&f)
	if err != nil || !changed {
		return err
	}
	out, err := json.MarshalIndent(&f, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	t, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := t.Write(out); err != nil {
		t.Close()
		return err
	}
	if err := t.Sync(); err != nil {
		t.Close()
		return err
	}
	if err := t.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

// File records a request, or returns the pending one already filed for the
// same requester, database and fingerprint (created is then false).
func (s *Store) File(requester, database, normalized string, rows int64, reason string) (out *Request, created bool, err error) {
	err = s.update(func(f *file) (bool, error) {
		fp := Fingerprint(normalized)
		for _, r := range f.Requests {
			if r.Status == Pending && r.Requester == requester && r.Database == database && r.Fingerprint == fp {
				out = r
				return false, nil
			}
		}
		now := s.now()
		f.Next++
		out = &Request{
			ID: fmt.Sprintf("R-%s-%04d", now.UTC().Format("20060102"), f.Next), Requester: requester, Database: database,
			Normalized: normalized, Fingerprint: fp, Rows: rows, Reason: reason, Created: now, Status: Pending,
		}
		f.Requests = append(f.Requests, out)
		created = true
		return true, nil
	})
	return out, created, err
}

// Decision is an approver's answer.
type Decision struct {
	Approver string
	Comment  string
	// Validity is how long an approval holds (default 24h).
	Validity time.Duration
	// Uses is how many runs it allows (default 1).
	Uses int
	// Rows caps the rows of each run (default: the requested rows).
	Rows int64
}

// Approve approves a pending request. The approver must not be the requester.
func (s *Store) Approve(id string, d Decision) (*Request, error) {
	return s.decide(id, d, Approved)
}

// Reject rejects a pending request.
func (s *Store) Reject(id string, d Decision) (*Request, error) {
	return s.decide(id, d, Rejected)
}

func (s *Store) decide(id string, d Decision, to Status) (*Request, error) {
	var out *Request
	err := s.update(func(f *file) (bool, error) {
		r := find(f, id)
		if r == nil {
			return false, ErrNotFound
		}
		if r.Status != Pending {
			return false, fmt.Errorf("%w (it is %s)", ErrNotPending, r.Status)
		}
		if d.Approver == "" {
			return false, errors.New("approval: the approver is not named")
		}
		if d.Approver == r.Requester {
			return false, ErrSelfApproval
		}
		now := s.now()
		r.Status, r.Approver, r.Comment, r.Decided = to, d.Approver, d.Comment, now
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
		}
		out = r
		return true, nil
	})
	return out, err
}

// Revoke withdraws an approval (or a pending request) at once.
func (s *Store) Revoke(id, by string) (*Request, error) {
	var out *Request
	err := s.update(func(f *file) (bool, error) {
		r := find(f, id)
		if r == nil {
			return false, ErrNotFound
		}
		r.Status, r.Decided, r.UsesLeft = Revoked, s.now(), 0
		if by != "" {
			r.Comment = "revoked by " + by
		}
		out = r
		return true, nil
	})
	return out, err
}

// Use consumes one use of a valid approval for exactly this requester,
// database and fingerprint. ok is false when there is none.
func (s *Store) Use(requester, database, fingerprint string) (r *Request, ok bool, err error) {
	err = s.update(func(f *file) (bool, error) {
		now := s.now()
		for _, c := range f.Requests {
			if c.Status == Approved && c.Requester == requester && c.Database == database &&
				c.Fingerprint == fingerprint && c.UsesLeft > 0 && now.Before(c.ValidUntil) {
				c.UsesLeft--
				if c.UsesLeft == 0 {
					c.Status = Used
				}
				cp := *c
				r, ok = &cp, true
				return true, nil
			}
		}
		return false, nil
	})
	return r, ok, err
}

// List returns every request, newest first.
func (s *Store) List() ([]*Request, error) {
	var out []*Request
	err := s.update(func(f *file) (bool, error) {
		out = append(out, f.Requests...)
		return false, nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, err
}

// Get returns one request.
func (s *Store) Get(id string) (*Request, error) {
	var out *Request
	err := s.update(func(f *file) (bool, error) {
		if out = find(f, id); out == nil {
			return false, ErrNotFound
		}
		return false, nil
	})
	return out, err
}

func find(f *file, id string) *Request {
	for _, r := range f.Requests {
		if r.ID == id {
			return r
		}
	}
	return nil
}
