package postgres

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/proxy"
	"github.com/dbfence/dbfence/rules"
)

// Gate decides on statements. It is the rules engine seen from the wire:
// rules.Engine implements it. Implementations are safe for concurrent use;
// the engine passes a Session it owns (used by one goroutine at a time) and
// keeps a Verdict's StatementVerdict only for the life of the simple query,
// or of the prepared statement and the portals bound to it.
type Gate interface {
	// Admit decides whether user may connect from addr (nil: admitted).
	Admit(user string, addr netip.Addr) *fault.Error
	// CheckPostgres decides one simple-query string or one Parse message's query text.
	CheckPostgres(sess *rules.Session, text string) *rules.Verdict
	// Restricted reports whether user's statements are analysed (the role
	// has rules): the engine then keeps the session's search_path known.
	Restricted(user string) bool
	// HidesColumn reports whether user's role masks or denies the base
	// column schema.table.column. With Config.Origins, a result column the
	// analysis found computed but the server reports as such a column is
	// refused: the analysis misread the statement.
	HidesColumn(user, schema, table, column string) bool
}

// TypedMasker gives a masked cell a value valid for a column type that is not
// text-like (PostgreSQL type OID from the RowDescription; binary is the cell's
// format code 1), appending it to dst, or returns ok=false when none exists and
// the cell is sent as NULL. It must not retain src or dst.
type TypedMasker func(m rules.Masker, dst, src []byte, typeOID uint32, binary bool) (out []byte, ok bool)

// SideChannel names a backend message that can carry values outside the
// result rows (catalogue class 23).
type SideChannel byte

const (
	// SideNotice is a NoticeResponse (RAISE NOTICE, warnings).
	SideNotice SideChannel = 'N'
	// SideNotification is a NotificationResponse (NOTIFY, pg_notify).
	SideNotification SideChannel = 'A'
	// SideParameter is a ParameterStatus for a parameter other than the pinned
	// client_encoding and standard_conforming_strings (application_name, ...).
	SideParameter SideChannel = 'S'
	// SideError is an ErrorResponse from the backend (its message may quote a value).
	SideError SideChannel = 'E'
)

// Config configures the PostgreSQL engine. Zero values take the defaults.
type Config struct {
	// Backend is the PostgreSQL server address (host:port).
	Backend string
	// BackendTLS, when set, makes every backend connection use TLS (SSLRequest).
	BackendTLS *tls.Config
	// ClientTLS, when set, is offered to clients that send SSLRequest; without it
	// they are answered 'N'.
	ClientTLS *tls.Config
	// RequireClientTLS refuses clients that do not upgrade to TLS.
	RequireClientTLS bool
	// MaxMessage bounds one message from a client, header excluded (default 64 MiB).
	MaxMessage int
	// MaxBackendMessage bounds one message from the backend (default 1 GiB + 1 MiB,
	// above PostgreSQL's own 1 GiB field limit).
	MaxBackendMessage int
	// MaxPipeline bounds the extended-protocol messages awaiting a response
	// (default 16384); a client that pipelines more is refused.
	MaxPipeline int
	// DialTimeout bounds connecting to the backend (default 5s).
	DialTimeout time.Duration
	// HandshakeTimeout bounds the whole startup and authentication (default 15s).
	HandshakeTimeout time.Duration
	// Gate decides statements; required.
	Gate Gate
	// MaskTyped handles masked cells of types that are not text-like; nil sends NULL.
	MaskTyped TypedMasker
	// RelaySideChannel decides whether a side-channel message reaches the client
	// unchanged. restricted is true once any verdict of the session carried a
	// masker or a row cap. nil: unchanged for unrestricted sessions; for
	// restricted ones notices and errors keep only severity and SQLSTATE,
	// notification payloads and parameter values are emptied.
	RelaySideChannel func(sess *rules.Session, restricted bool, kind SideChannel) bool
	// Origins, when set, resolves the table OID and attribute number of each
	// result column of a plan with Columns, and the result is refused when
	// they disagree with the plan's OrgTable/OrgColumn predictions (or cannot
	// be resolved). Masking does not depend on it.
	Origins *Origins
	// OnSchemaChange is called after a statement the rules flagged as changing
	// the schema (DDL) completes, so the catalog is refreshed.
	OnSchemaChange func()
	// Approvals, when set, lets a statement refused for needing an approval
	// run under a valid approval (and files a request otherwise).
	Approvals proxy.Approvals
	// Budgets, when set, counts classified rows against the verdicts' budgets.
	Budgets *proxy.Budgets
	// Audit receives connection and statement events; nil discards them.
	Audit proxy.Auditor
	// Metrics are updated as sessions run; nil disables them.
	Metrics *proxy.Metrics
	// Log receives session logs.
	Log *zap.Logger
}

// Engine serves PostgreSQL client connections. It implements proxy.Handler.
// It is safe for concurrent use: each ServeConn runs on its own goroutine and
// shares only the cancel-key registry.
type Engine struct {
	cfg     Config
	m       engineMetrics
	cancels cancelRegistry
}

var _ proxy.Handler = (*Engine)(nil)

// NewEngine checks cfg and sets defaults.
func NewEngine(cfg Config) *Engine {
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = 64 << 20
	}
	if cfg.MaxBackendMessage <= 0 {
		cfg.MaxBackendMessage = 1<<30 + 1<<20
	}
	if cfg.MaxPipeline <= 0 {
		cfg.MaxPipeline = 16384
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 15 * time.Second
	}
	if cfg.Audit == nil {
		cfg.Audit = proxy.NopAuditor{}
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = proxy.NewMetrics(nil)
	}
	return &Engine{cfg: cfg, m: newEngineMetrics(cfg.Metrics), cancels: cancelRegistry{keys: make(map[uint32]cancelEntry)}}
}

// ServeConn runs one client session. See doc.go for its life cycle.
func (e *Engine) ServeConn(ctx context.Context, c net.Conn, ps *proxy.Session) {
	s := newSession(e, c, ps)
	defer s.close()
	if !s.startup(ctx) {
		return
	}
	e.m.open.Inc()
	defer e.m.open.Dec()
	s.run(ctx)
}

// backendKey is a BackendKeyData: a process id and its secret.
type backendKey struct {
	pid, secret uint32
}

// cancelEntry is where a client-visible key leads.
type cancelEntry struct {
	secret  uint32
	backend backendKey
}

// cancelRegistry maps the keys the proxy gave its clients to the real
// backend keys. Safe for concurrent use.
type cancelRegistry struct {
	mu   sync.Mutex
	keys map[uint32]cancelEntry
}

// register issues a fresh client-visible key for backend key b.
func (r *cancelRegistry) register(b backendKey) backendKey {
	var buf [8]byte
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		_, _ = rand.Read(buf[:])
		k := backendKey{pid: binary.BigEndian.Uint32(buf[:4]) & 0x7fffffff, secret: binary.BigEndian.Uint32(buf[4:])}
		if _, taken := r.keys[k.pid]; k.pid == 0 || taken {
			continue
		}
		r.keys[k.pid] = cancelEntry{secret: k.secret, backend: b}
		return k
	}
}

// lookup returns the backend key for a client-visible key; ok=false when the
// key is unknown or its secret is wrong.
func (r *cancelRegistry) lookup(k backendKey) (backendKey, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ent, ok := r.keys[k.pid]
	if !ok || subtle.ConstantTimeEq(int32(ent.secret), int32(k.secret)) != 1 {
		return backendKey{}, false
	}
	return ent.backend, true
}

func (r *cancelRegistry) remove(pid uint32) {
	r.mu.Lock()
	delete(r.keys, pid)
	r.mu.Unlock()
}

// sendCancel asks the backend to cancel the query running in process b. It
// waits until the server has read the request (it closes the connection), so
// the signal is on its way when sendCancel returns.
func (e *Engine) sendCancel(b backendKey) error {
	d := net.Dialer{Timeout: e.cfg.DialTimeout}
	c, err := d.Dial("tcp", e.cfg.Backend)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(e.cfg.DialTimeout))
	var req [16]byte
	binary.BigEndian.PutUint32(req[0:], 16)
	binary.BigEndian.PutUint32(req[4:], codeCancel)
	binary.BigEndian.PutUint32(req[8:], b.pid)
	binary.BigEndian.PutUint32(req[12:], b.secret)
	if _, err := c.Write(req[:]); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, c)
	return nil
}
