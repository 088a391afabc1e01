package rules

import (
	"strconv"
	"strings"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules/catalog"
	"github.com/dbfence/dbfence/rules/pgsql"
)

// CheckPostgres decides one PostgreSQL simple-query string or Parse message
// text. The text is parsed with the PostgreSQL grammar; unparseable text is
// refused (42601) and never sent. For restricted roles every statement is
// analysed against the catalog of the session's database, resolving
// unqualified names through the session's search_path (refused while it is
// not known), and decided exactly as MySQL statements are; unrestricted
// roles get their parsed statements relayed unchanged. It never returns nil.
// The Verdict's Statements may be shared with other callers: read-only.
func (e *Engine) CheckPostgres(sess *Session, text string) *Verdict {
	st := e.state.Load()
	role := st.policy.roleFor(sess.User)
	restricted := !role.unrestricted
	var cat *catalog.Catalog
	// Decisions are cached. For unrestricted roles the decision depends on
	// the statement's shape only (kinds and session effects), so texts
	// that differ in constants share one entry and are not parsed again;
	// a restricted role's decision can depend on constants (LIMIT counts,
	// positions), so it is cached per exact text, database, catalog
	// snapshot and search_path. Drivers repeat the same texts (every
	// extended-protocol Parse), so both hit.
	var kb strings.Builder
	kb.WriteString("pg\x00")
	kb.WriteString(role.name)
	kb.WriteByte(0)
	if restricted {
		cat = e.pg.get(sess.Database)
		kb.WriteString(sess.Database)
		kb.WriteByte(0)
		if cat != nil {
			kb.WriteString(strconv.FormatUint(cat.Generation, 10))
		}
		kb.WriteByte(0)
		if sess.SearchPathKnown {
			kb.WriteString(strings.Join(sess.SearchPath, "\x01"))
		} else {
			kb.WriteString("\x02unknown")
		}
		kb.WriteByte(0)
		kb.WriteString(sess.User) // "$user"
		kb.WriteByte(0)
		var num [20]byte
		kb.Write(strconv.AppendUint(num[:0], uint64(sess.ServerVersion), 10))
		kb.WriteByte(0)
	}
	// One scan gives the constants (audit) and, for unrestricted roles, the
	// shape the cache is keyed by.
	literals := make([]string, 0, 8)
	if restricted {
		literals = appendPostgresLiterals(literals, text)
		kb.WriteString(text)
	} else {
		var shape string
		shape, literals = postgresShapeAndLiterals(text, literals)
		kb.WriteString(shape)
	}
	key := kb.String()

	entry := st.cache.get(key)
	if entry == nil {
		entry = e.decidePostgres(st, role, cat, sess, text)
		if entry.cacheable {
			st.cache.put(key, entry)
		}
	}
	v := entry.verdict(func() (string, *fault.Error) { return text, nil })
	if restricted {
		resolveCursors(sess, v)
	}
	if v.Refusal != nil && v.Refusal.Kind == fault.ApprovalRequired && len(v.Statements) == 1 &&
		v.Statements[0].Outcome == NeedsApproval {
		v.Approval = &ApprovalNeed{Forward: text, Normalized: v.Statements[0].Normalized}
	}
	v.Literals = literals
	v.Restricted = restricted
	return v
}

// decidePostgres parses text and decides on every statement.
func (e *Engine) decidePostgres(st *engineState, role *compiledRole, cat *catalog.Catalog, sess *Session, text string) *cacheEntry {
	stmts, err := pgsql.Parse(text)
	if err != nil {
		// Not cached: the message quotes the text.
		return &cacheEntry{refusal: fault.As(err)}
	}
	entry := &cacheEntry{cacheable: true, statements: make([]StatementVerdict, len(stmts))}
	env := pgsql.Env{Catalog: cat, SearchPath: sess.SearchPath, SearchPathKnown: sess.SearchPathKnown, User: sess.User,
		ServerVersion: int(sess.ServerVersion)}
	for i, s := range stmts {
		var sv StatementVerdict
		if role.unrestricted {
			sv = StatementVerdict{
				Kind: s.Kind, Outcome: Allow, Rule: "unrestricted", Reason: "role " + role.name + " has no rules",
				ChangesSession: s.ChangesSession, PolicyVersion: st.policy.version, ChangesCatalog: s.Kind == "ddl",
			}
		} else {
			f := pgsql.Analyze(s, env)
			if f.Kind == "prepare" {
				// SQL PREPARE names live in the same namespace as the
				// protocol's prepared statements: a name the proxy holds a
				// plan for could be re-pointed at an undecided statement.
				// Restricted roles prepare through the protocol (Parse).
				f.AddUnsupported("SQL PREPARE (prepare through the protocol instead)")
			}
			sv = st.policy.decide(role, f, cat)
			if f.ChangesSession {
				// What follows in the same text may run under another
				// search_path: resolve it as unknown.
				env.SearchPathKnown = false
			}
			e.logDecision(role, &sv, f)
		}
		sv.Normalized = postgresShape(s.Text)
		entry.statements[i] = sv
		if entry.refusal == nil && sv.Outcome != Allow && !sv.Monitor {
			entry.refusal = statementRefusal(&sv)
		}
	}
	return entry
}
