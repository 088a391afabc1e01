package rules

import (
	"fmt"
	"io"
	"strings"

	"github.com/dbfence/dbfence/rules/facts"
	"github.com/dbfence/dbfence/rules/mysqlsql"
	"github.com/dbfence/dbfence/rules/pgsql"
)

// Explain writes, for `dbfence explain`, what the engine decides on text
// for the session's user and why: the principal's role, the text as
// forwarded, and per statement its decision, rule, reason, facts and
// per-output-column lineage and treatment. Nothing is executed. The error is
// only for a failing writer.
func Explain(w io.Writer, e *Engine, sess *Session, text string) error {
	st := e.state.Load()
	role := st.policy.roleFor(sess.User)
	ew := &errWriter{w: w}
	ew.printf("user %s: role %s", sess.User, role.name)
	if role.monitor {
		ew.printf(" (monitor)")
	}
	ew.printf("; policy version %q\n", st.policy.version)
	var v *Verdict
	var all []*facts.Statement
	if sess.Protocol == ProtocolPostgres {
		v = e.CheckPostgres(sess, text)
		if v.Refusal != nil {
			ew.printf("refused: %s (SQLSTATE %s): %s\n", v.Refusal.Kind, v.Refusal.Kind.PostgresState(), v.Refusal.Message)
		}
		if !role.unrestricted {
			all = explainPostgresFacts(e, sess, text)
		}
	} else {
		v = e.CheckMySQL(sess, text)
		if v.Refusal != nil {
			code, state := v.Refusal.Kind.MySQL()
			ew.printf("refused: %s (MySQL error %d, SQLSTATE %s): %s\n", v.Refusal.Kind, code, state, v.Refusal.Message)
		}
		all = explainFacts(st, sess, text, role.unrestricted)
	}
	if v.Refusal == nil {
		ew.printf("forward: %s\n", v.Forward)
	}
	for i, sv := range v.Statements {
		ew.printf("statement %d: %s: %s (rule %s)\n", i+1, sv.Kind, sv.Outcome, sv.Rule)
		ew.printf("  reason: %s\n", sv.Reason)
		ew.printf("  normalized: %s\n", sv.Normalized)
		if sv.RowCap > 0 {
			ew.printf("  row cap: %d\n", sv.RowCap)
		}
		if i < len(all) && all[i] != nil {
			var b strings.Builder
			facts.Describe(&b, all[i], "  ")
			ew.printf("%s", b.String())
		}
		for j, c := range sv.Columns {
			treat := "as is"
			if c.Masker != nil {
				treat = "masked"
			}
			ew.printf("  column %d: %s (class %q, level %q, expected origin %s.%s.%s)\n", j+1, treat, c.Class, c.Level, c.OrgDatabase, c.OrgTable, c.OrgColumn)
		}
	}
	return ew.err
}

// explainFacts re-analyses text in full for display (decisions use the
// cache; explanations always show the full facts).
func explainFacts(st *engineState, sess *Session, text string, shallow bool) []*facts.Statement {
	cs, ferr := mysqlsql.LookupCharset(sess.Charset)
	if ferr != nil {
		return nil
	}
	decoded, ferr := cs.Decode(text)
	if ferr != nil {
		return nil
	}
	mode := mysqlsql.Mode(sess.SQLMode &^ ModeUnanalysable)
	if cs.Name == "latin1" {
		mode |= mysqlsql.ModeLatin1
	}
	resolved, err := mysqlsql.Resolve(decoded, mode, mysqlsql.Server{Version: sess.ServerVersion, MariaDB: sess.MariaDB})
	if err != nil {
		return nil
	}
	stmts, err := mysqlsql.Parse(resolved, mode)
	if err != nil {
		return nil
	}
	depth := mysqlsql.Full
	if shallow {
		depth = mysqlsql.Shallow
	}
	db := sess.Database
	out := make([]*facts.Statement, len(stmts))
	for i, s := range stmts {
		var newDB string
		out[i], newDB = st.analyzer.Analyze(s, db, mode, depth)
		if newDB != "" {
			db = newDB
		}
	}
	return out
}

// explainPostgresFacts analyses a PostgreSQL text for display, in the
// session's database and search_path, as decidePostgres does.
func explainPostgresFacts(e *Engine, sess *Session, text string) []*facts.Statement {
	stmts, err := pgsql.Parse(text)
	if err != nil {
		return nil
	}
	env := pgsql.Env{Catalog: e.pg.get(sess.Database), SearchPath: sess.SearchPath, SearchPathKnown: sess.SearchPathKnown, User: sess.User,
		ServerVersion: int(sess.ServerVersion)}
	out := make([]*facts.Statement, len(stmts))
	for i, s := range stmts {
		out[i] = pgsql.Analyze(s, env)
		if out[i].ChangesSession {
			env.SearchPathKnown = false
		}
	}
	return out
}

// Check validates the policy in a configuration file for `dbfence check`:
// it decodes the `policy:` key, validates it and builds every masker with
// masks. It writes "ok" and a summary, or the error with file:line, and
// returns the error.
func Check(w io.Writer, config []byte, file string, masks MaskerFactory) error {
	ew := &errWriter{w: w}
	p, err := PolicyFromConfig(config, file)
	if err == nil {
		_, err = compilePolicy(p, masks)
	}
	if err != nil {
		ew.printf("%s\n", err)
		return err
	}
	ew.printf("%s: ok: policy %q, %d classification rules, %d principals, %d roles, default role %s\n",
		file, p.Version, len(p.Classification), len(p.Principals), len(p.Roles), p.DefaultRole)
	return ew.err
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (ew *errWriter) printf(format string, args ...any) {
	if ew.err == nil {
		_, ew.err = fmt.Fprintf(ew.w, format, args...)
	}
}
