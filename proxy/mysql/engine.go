package mysql

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"time"

	"go.uber.org/zap"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/proxy"
	"github.com/dbfence/dbfence/rules"
)

// Gate decides on statements. It is the rules engine seen from the wire:
// rules.Engine implements it. Implementations are safe for concurrent use;
// the engine passes a Session it owns and does not keep the Verdict beyond
// the command (or, for prepared statements, the statement's life).
type Gate interface {
	// Admit decides whether user may connect from addr (nil: admitted).
	Admit(user string, addr netip.Addr) *fault.Error
	// CheckMySQL reads and decides one COM_QUERY or COM_STMT_PREPARE text.
	CheckMySQL(sess *rules.Session, text string) *rules.Verdict
}

// TypedMasker gives a masked value a form valid for a non-string column
// type (MySQL type code, as in column definitions), or ok=false when none
// exists and the cell is sent as NULL.
type TypedMasker func(m rules.Masker, dst, src []byte, mysqlType byte) (out []byte, ok bool)

// Config configures the MySQL engine. Zero durations take the defaults.
type Config struct {
	// Backend is the MySQL/MariaDB server address (host:port).
	Backend string
	// BackendTLS, when set, makes every backend connection use TLS.
	BackendTLS *tls.Config
	// ClientTLS, when set, is offered to clients (CLIENT_SSL).
	ClientTLS *tls.Config
	// RequireClientTLS refuses clients that do not upgrade to TLS.
	RequireClientTLS bool
	// MaxPacket bounds one logical packet from a client (default 64 MiB).
	MaxPacket int
	// DialTimeout bounds connecting to the backend (default 5s).
	DialTimeout time.Duration
	// HandshakeTimeout bounds the whole handshake and authentication (default 15s).
	HandshakeTimeout time.Duration
	// Gate decides statements; required.
	Gate Gate
	// MaskTyped handles masked cells of non-string columns; nil sends NULL.
	MaskTyped TypedMasker
	// MaskerForCharset adapts a masker to a result character set other than
	// UTF-8 (gbk, gb18030: decode, mask per character, encode); an error
	// means the set is not supported and masked cells are fully redacted.
	MaskerForCharset func(m rules.Masker, charset string) (rules.Masker, error)
	// KillQuery, when set, stops the backend query of connection id when its
	// client disappears mid-result (through the metadata account).
	KillQuery func(ctx context.Context, connectionID uint32) error
	// OnSchemaChange is called after a statement the rules flagged as
	// changing the schema (DDL) completes, so the catalog is refreshed.
	OnSchemaChange func()
	// Budgets counts classified rows per user for roles with a rolling
	// budget; nil disables budgets.
	Budgets *proxy.Budgets
	// Approvals, when set, lets statements that need an approval run once
	// approved, and files a request for those that are not.
	Approvals proxy.Approvals
	// Audit receives connection and statement events; nil discards them.
	Audit proxy.Auditor
	// Metrics are updated as sessions run; nil disables them.
	Metrics *proxy.Metrics
	// Log receives session logs.
	Log *zap.Logger
}

// Engine serves MySQL client connections. It implements proxy.Handler.
type Engine struct {
	cfg Config
	m   engineMetrics
}

var _ proxy.Handler = (*Engine)(nil)

// NewEngine checks cfg and sets defaults.
func NewEngine(cfg Config) *Engine {
	if cfg.MaxPacket <= 0 {
		cfg.MaxPacket = 64 << 20
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
	return &Engine{cfg: cfg, m: newEngineMetrics(cfg.Metrics)}
}

// ServeConn runs one client session. See doc.go for its life cycle.
func (e *Engine) ServeConn(ctx context.Context, c net.Conn, ps *proxy.Session) {
	s := newSession(e, c, ps)
	defer s.close()
	e.m.open.Inc()
	defer e.m.open.Dec()
	if !s.handshake(ctx) {
		return
	}
	s.run(ctx)
}
