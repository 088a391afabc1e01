package rules

import (
	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules/pgsql"
)

// CheckPostgres decides one PostgreSQL simple-query string or Parse message
// text. The text is parsed with the PostgreSQL grammar; unparseable text is
// refused (42601) and never sent. Lineage analysis for PostgreSQL is not
// implemented yet, so every statement of a restricted role is refused
// (fail closed); unrestricted roles get their parsed statements relayed
// unchanged. It never returns nil.
func (e *Engine) CheckPostgres(sess *Session, text string) *Verdict {
	st := e.state.Load()
	role := st.policy.roleFor(sess.User)
	// Drivers send the same texts again and again (every extended-protocol
	// Parse): the decision on an exact text is cached per role.
	key := "pg\x00" + role.name + "\x00" + text
	if c := st.cache.get(key); c != nil {
		v := c.verdict(func() (string, *fault.Error) { return text, nil })
		v.Restricted = !role.unrestricted
		return v
	}
	stmts, err := pgsql.Parse(text)
	if err != nil {
		// Not cached: the message quotes the text.
		return &Verdict{Refusal: fault.As(err), Restricted: !role.unrestricted}
	}
	v := &Verdict{Forward: text, Restricted: !role.unrestricted, Statements: make([]StatementVerdict, len(stmts))}
	defer func() { st.cache.put(key, &cacheEntry{statements: v.Statements, refusal: v.Refusal, cacheable: true}) }()
	for i, s := range stmts {
		sv := StatementVerdict{
			Kind: s.Kind, Outcome: Allow, Rule: "unrestricted", Reason: "role " + role.name + " has no rules",
			Normalized: pgsql.Normalized(s.Text), ChangesSession: s.ChangesSession, PolicyVersion: st.policy.version,
			ChangesCatalog: s.Kind == "ddl",
		}
		if !role.unrestricted {
			sv.Outcome, sv.Rule = Deny, "postgres_not_analysed"
			sv.Reason = "dbfence does not analyse PostgreSQL statements for restricted roles yet; role " + role.name + " is refused on PostgreSQL"
			sv.Error = fault.New(fault.StatementDenied, "dbfence: %s", sv.Reason)
			if role.monitor {
				sv.Monitor = true
			} else if v.Refusal == nil {
				v.Refusal = sv.Error
			}
		}
		v.Statements[i] = sv
	}
	if v.Refusal != nil {
		v.Forward = ""
	}
	return v
}
