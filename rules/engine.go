package rules

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"go.uber.org/zap"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules/catalog"
	"github.com/dbfence/dbfence/rules/facts"
	"github.com/dbfence/dbfence/rules/mysqlsql"
)

// MaskerFactory builds the Masker for an algorithm and its parameters
// (masking.New has this signature). It is called when a policy is loaded,
// never per statement; an error rejects the policy.
type MaskerFactory func(algorithm string, params map[string]string) (Masker, error)

// ModeUnanalysable marks a session whose sql_mode holds a mode the analyser
// cannot read (ORACLE, MSSQL, ...); every statement in it is refused. See ParseSQLMode.
const ModeUnanalysable SQLMode = 1 << 7

// Engine decides on SQL texts for the protocol engines. It is safe for
// concurrent use by any number of sessions; Reload and RefreshCatalog swap
// its state atomically, so a decision is always made under one policy and
// one catalog snapshot.
type Engine struct {
	state atomic.Pointer[engineState]
	masks MaskerFactory
	log   *zap.Logger

	// reloadMu serialises Reload and RefreshCatalog (state swaps).
	reloadMu sync.Mutex
	loader   catalog.Loader
	stale    atomic.Bool
	// pg holds the PostgreSQL databases' catalogs (one per database).
	pg pgCatalogs
}

// engineState is one immutable policy + catalog pairing and the decisions
// made under it.
type engineState struct {
	policy   *compiledPolicy
	analyzer *mysqlsql.Analyzer
	cache    *decisionCache
}

// DefaultCacheBytes bounds the decision cache.
const DefaultCacheBytes = 32 << 20

// NewEngine compiles p (nil: no policy, every user unrestricted) over a
// catalog snapshot (nil: empty until RefreshCatalog). masks builds the
// maskers the policy names; log receives decisions at debug level (nil: no logs).
func NewEngine(p *Policy, cat *catalog.Catalog, masks MaskerFactory, log *zap.Logger) (*Engine, error) {
	if log == nil {
		log = zap.NewNop()
	}
	e := &Engine{masks: masks, log: log}
	cp, err := compilePolicy(p, masks)
	if err != nil {
		return nil, err
	}
	e.state.Store(&engineState{policy: cp, analyzer: mysqlsql.NewAnalyzer(cat), cache: newDecisionCache(DefaultCacheBytes)})
	return e, nil
}

// Reload swaps in a new policy atomically. Sessions in flight finish their
// current decision under the old one. On error the old policy stays.
func (e *Engine) Reload(p *Policy) error {
	cp, err := compilePolicy(p, e.masks)
	if err != nil {
		return err
	}
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	old := e.state.Load()
	e.state.Store(&engineState{policy: cp, analyzer: old.analyzer, cache: newDecisionCache(DefaultCacheBytes)})
	return nil
}

// SetCatalogLoader sets how RefreshCatalog loads a new snapshot (for example
// catalog.MySQLLoader(dsn, opts)).
func (e *Engine) SetCatalogLoader(l catalog.Loader) {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	e.loader = l
}

// MarkCatalogStale records that the schema may have changed (the engine calls
// it after a statement whose verdict has ChangesCatalog completes); the next
// CatalogStale poll refreshes.
func (e *Engine) MarkCatalogStale() {
	e.stale.Store(true)
	e.pg.stale.Store(true)
}

// CatalogStale reports whether the catalog was marked stale since the last refresh.
func (e *Engine) CatalogStale() bool { return e.stale.Load() }

// RefreshCatalog loads a new catalog snapshot and swaps it in with an empty
// decision cache. On error the old snapshot stays.
func (e *Engine) RefreshCatalog(ctx context.Context) error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	if e.loader == nil {
		return errors.New("rules: no catalog loader configured")
	}
	e.stale.Store(false)
	cat, err := e.loader(ctx)
	if err != nil {
		e.stale.Store(true)
		return err
	}
	old := e.state.Load()
	e.state.Store(&engineState{policy: old.policy, analyzer: mysqlsql.NewAnalyzer(cat), cache: newDecisionCache(DefaultCacheBytes)})
	return nil
}

// Catalog returns the current catalog snapshot.
func (e *Engine) Catalog() *catalog.Catalog { return e.state.Load().analyzer.Catalog() }

// Restricted reports whether user's role has rules (statements are analysed).
func (e *Engine) Restricted(user string) bool {
	return !e.state.Load().policy.roleFor(user).unrestricted
}

// HidesColumn reports whether user's role masks or denies the base column
// db.table.column (a PostgreSQL column is schema.table.column). Engines
// that check where result columns come from use it for a column the
// analysis did not trace to a base column but the server does.
func (e *Engine) HidesColumn(user, db, table, column string) bool {
	st := e.state.Load()
	role := st.policy.roleFor(user)
	if role.unrestricted {
		return false
	}
	return st.policy.treatment(role, facts.Column{Database: db, Table: table, Column: column}).sensitive()
}

// Admit decides at the handshake whether user may connect from addr: nil
// admits; HostNotAllowed when the matching principal's network allowlist
// excludes addr.
func (e *Engine) Admit(user string, addr netip.Addr) *fault.Error {
	pr := e.state.Load().policy.principalFor(user)
	if pr == nil || len(pr.networks) == 0 {
		return nil
	}
	addr = addr.Unmap()
	for _, n := range pr.networks {
		if n.Contains(addr) {
			return nil
		}
	}
	return fault.New(fault.HostNotAllowed, "user %q is not allowed to connect from %s", user, addr)
}

// CheckMySQL decides on one COM_QUERY or COM_STMT_PREPARE text of a MySQL
// session. It never returns nil and never panics on any input. The
// Verdict's Statements slice, the ColumnPlans in it and Refusal may be
// shared with other callers (decision cache): treat them as read-only.
// sess is read, never modified; it is safe to call from many sessions at once.
func (e *Engine) CheckMySQL(sess *Session, text string) *Verdict {
	st := e.state.Load()
	if sess.SQLMode&ModeUnanalysable != 0 {
		return refuse(fault.New(fault.ParseError, "dbfence cannot analyse SQL under this session's sql_mode"))
	}
	cs, ferr := mysqlsql.LookupCharset(sess.Charset)
	if ferr != nil {
		return refuse(ferr)
	}
	decoded, ferr := cs.Decode(text)
	if ferr != nil {
		return refuse(ferr)
	}
	mode := mysqlsql.Mode(sess.SQLMode &^ ModeUnanalysable)
	if cs.Name == "latin1" {
		mode |= mysqlsql.ModeLatin1
	}
	resolved, err := mysqlsql.Resolve(decoded, mode, mysqlsql.Server{Version: sess.ServerVersion, MariaDB: sess.MariaDB})
	if err != nil {
		return refuse(fault.As(err))
	}
	role := st.policy.roleFor(sess.User)
	forward := func() (string, *fault.Error) { return cs.Encode(resolved) }

	key := cacheKey(resolved, mode, sess.Database, role.name, st.policy.version)
	entry := st.cache.get(key)
	if entry == nil {
		entry = e.decide(st, role, sess.Database, mode, resolved)
		if entry.cacheable {
			st.cache.put(key, entry)
		}
	}
	v := entry.verdict(forward)
	if v.Refusal != nil && v.Refusal.Kind == fault.ApprovalRequired && len(v.Statements) == 1 &&
		v.Statements[0].Outcome == NeedsApproval {
		if text, err := forward(); err == nil {
			v.Approval = &ApprovalNeed{Forward: text, Normalized: v.Statements[0].Normalized}
		}
	}
	v.Literals = mysqlsql.AppendLiterals(make([]string, 0, 8), resolved, mode)
	v.Restricted = !role.unrestricted
	return v
}

// refuse is a verdict that forwards nothing.
func refuse(err *fault.Error) *Verdict { return &Verdict{Refusal: err} }

// decide parses and analyses resolved text and decides on every statement.
func (e *Engine) decide(st *engineState, role *compiledRole, db string, mode mysqlsql.Mode, resolved string) *cacheEntry {
	stmts, err := mysqlsql.Parse(resolved, mode)
	if err != nil {
		if kind, ok := mysqlsql.UnparsedKind(resolved, mode); ok {
			return e.decideUnparsed(st, role, kind, mysqlsql.Normalized(resolved, mode))
		}
		// Not cached: the message quotes the text, literals included.
		return &cacheEntry{refusal: fault.As(err)}
	}
	depth := mysqlsql.Full
	if role.unrestricted {
		depth = mysqlsql.Shallow
	}
	entry := &cacheEntry{cacheable: true, statements: make([]StatementVerdict, len(stmts))}
	for i, stmt := range stmts {
		f, newDB := st.analyzer.Analyze(stmt, db, mode, depth)
		if newDB != "" {
			db = newDB
		}
		if f.LiteralDependent {
			entry.cacheable = false
		}
		sv := st.policy.decide(role, f, st.analyzer.Catalog())
		sv.Normalized = mysqlsql.Normalized(strings.TrimRight(stmt.Text(), "; \t\r\n"), mode)
		if ld, ok := stmt.(*ast.LoadDataStmt); ok && ld.FileLocRef == ast.FileLocClient && sv.Outcome == Allow {
			sv.LocalInfile = ld.Path
			// The path is a literal: the entry must not serve other texts.
			entry.cacheable = false
		}
		entry.statements[i] = sv
		if f.ChangesReading && i < len(stmts)-1 && entry.refusal == nil {
			entry.refusal = fault.New(fault.StatementDenied,
				"statement %d changes sql_mode or the character set and must be sent on its own, not followed by other statements", i+1)
		}
		if entry.refusal == nil && sv.Outcome != Allow && !sv.Monitor {
			entry.refusal = statementRefusal(&sv)
		}
		e.logDecision(role, &sv, f)
	}
	return entry
}

// decideUnparsed decides on a statement the parser cannot read but whose
// kind is certain (mysqlsql.UnparsedKind): allowed for unrestricted roles
// (and assumed to change the session), refused by kind otherwise.
func (e *Engine) decideUnparsed(st *engineState, role *compiledRole, kind, normalized string) *cacheEntry {
	f := &facts.Statement{Kind: kind, Limit: -1, Dynamic: kind == "execute", OutputsUnknown: true, ChangesSession: true, ChangesReading: true}
	sv := st.policy.decide(role, f, st.analyzer.Catalog())
	sv.Normalized = normalized
	entry := &cacheEntry{statements: []StatementVerdict{sv}}
	if sv.Outcome != Allow && !sv.Monitor {
		entry.refusal = statementRefusal(&sv)
	}
	e.logDecision(role, &sv, f)
	return entry
}

// logDecision records a decision at debug level.
func (e *Engine) logDecision(role *compiledRole, sv *StatementVerdict, f *facts.Statement) {
	if ce := e.log.Check(zap.DebugLevel, "rules decision"); ce != nil {
		ce.Write(zap.String("role", role.name), zap.String("kind", f.Kind), zap.Stringer("outcome", sv.Outcome),
			zap.String("rule", sv.Rule), zap.String("reason", sv.Reason), zap.String("policy_version", sv.PolicyVersion))
	}
}

// KeepCatalogFresh refreshes the MySQL catalog (when a loader is set) and
// the PostgreSQL databases' catalogs every interval, and within a second of
// MarkCatalogStale, until ctx ends. Refresh errors go to the log; the
// previous snapshots stay in use. Run it in its own goroutine.
func (e *Engine) KeepCatalogFresh(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	mysql := refresher{what: "catalog", last: time.Now(), log: e.log}
	pg := refresher{what: "postgres catalogs", last: time.Now(), log: e.log}
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			e.reloadMu.Lock()
			haveMySQL := e.loader != nil
			e.reloadMu.Unlock()
			if haveMySQL && mysql.due(now, e.CatalogStale(), interval) {
				mysql.done(now, e.RefreshCatalog(ctx))
			}
			if pg.due(now, e.PostgresCatalogsStale(), interval) {
				pg.done(now, e.RefreshPostgresCatalogs(ctx))
			}
		}
	}
}

// refresher paces one catalog's refreshes: every interval, at once when it
// is stale, and after failures (the backend is down) with a doubling
// backoff up to the interval, so a dead backend is neither hammered nor
// logged every second.
type refresher struct {
	what     string
	last     time.Time
	failures int
	backoff  time.Duration
	log      *zap.Logger
}

func (r *refresher) due(now time.Time, stale bool, interval time.Duration) bool {
	if r.failures > 0 {
		return now.Sub(r.last) >= r.backoff
	}
	return stale || now.Sub(r.last) >= interval
}

func (r *refresher) done(now time.Time, err error) {
	r.last = now
	if err == nil {
		if r.failures > 0 {
			r.log.Info(r.what+" refreshed again", zap.Int("failed_attempts", r.failures))
		}
		r.failures, r.backoff = 0, 0
		return
	}
	r.failures++
	r.backoff = min(max(2*r.backoff, time.Second), time.Minute)
	if r.failures == 1 || r.backoff == time.Minute {
		r.log.Warn(r.what+" refresh failed; keeping the previous snapshot (restricted statements it cannot resolve are refused)",
			zap.Int("attempt", r.failures), zap.Duration("next_in", r.backoff), zap.Error(err))
	}
}
