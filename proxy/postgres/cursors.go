package postgres

import (
	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules"
)

// SQL cursors (DECLARE, FETCH, MOVE, CLOSE) of restricted sessions. A FETCH
// returns rows of the query its cursor's DECLARE named, so the rules decide
// it by that DECLARE (rules.ResolveFetch) from s.rs.Cursors, which this
// file keeps: a cursor is added only once its DECLARE completed, and
// forgotten as soon as something that may close or replace it is sent. So a
// FETCH is never decided by the plan of a cursor the server may no longer
// hold under that name.

// noteCursorSent applies what a statement being sent may do to the
// session's cursors and portals, which share one namespace on the server:
// CLOSE and DISCARD forget them at once, whether or not they succeed (a
// cursor the proxy is unsure of is not read), and so does a DECLARE of that
// name: until it completes, a FETCH pipelined behind it must not be decided
// by the plan the name had before, nor an Execute of that name by the plan
// of the portal it may have replaced. COMMIT, ROLLBACK and ROLLBACK TO
// SAVEPOINT close portals (all, or those bound since the savepoint): they
// forget every portal.
func (s *session) noteCursorSent(sv *rules.StatementVerdict) {
	switch {
	case sv == nil:
	case (sv.CursorOp == rules.CursorClose || sv.CursorOp == rules.CursorDeclare) && sv.Cursor != "":
		delete(s.rs.Cursors, sv.Cursor)
		delete(s.portals, sv.Cursor)
		s.portalsForgotten++
	case sv.CursorOp == rules.CursorClose || sv.Kind == "discard":
		clear(s.rs.Cursors)
		s.forgetPortals()
	case sv.Kind == "transaction" && sv.ChangesSession:
		s.forgetPortals()
	}
}

// forgetPortals forgets every protocol portal: an Execute of one is refused
// until it is bound again.
func (s *session) forgetPortals() {
	if len(s.portals) > 0 {
		clear(s.portals)
	}
	s.portalsForgotten++
}

// forgetFailedBind undoes a failed Bind after SQL that may have closed or
// replaced portals was sent: the portal it made is dropped, and the one it
// displaced is not put back.
func (s *session) forgetFailedBind(p *pending) {
	if cur, ok := s.portals[p.name]; ok && cur == p.portal {
		delete(s.portals, p.name)
	}
}

// cursorDone records how a statement ended for the cursors: a completed
// DECLARE makes its cursor readable under its plan; one that failed or was
// not run forgets the name (an older cursor of that name may still be open,
// and its plan is no longer trusted).
func (s *session) cursorDone(sv *rules.StatementVerdict, ok bool) {
	if sv == nil || sv.CursorOp != rules.CursorDeclare {
		return
	}
	if !ok {
		delete(s.rs.Cursors, sv.Cursor)
		return
	}
	if s.rs.Cursors == nil {
		s.rs.Cursors = make(map[string]*rules.Cursor)
	}
	s.rs.Cursors[sv.Cursor] = &rules.Cursor{Plan: *sv, Hold: sv.CursorHold}
}

// endTransactionCursors forgets the cursors a transaction's end closed:
// all but those declared WITH HOLD.
func (s *session) endTransactionCursors() {
	for name, c := range s.rs.Cursors {
		if !c.Hold {
			delete(s.rs.Cursors, name)
		}
	}
}

// fetchedCursor is the cursor a FETCH's rows are counted against (nil for
// other statements, or when the name was closed or declared again since).
func (s *session) fetchedCursor(plan *rules.StatementVerdict) *rules.Cursor {
	if plan.CursorOp != rules.CursorFetch {
		return nil
	}
	return s.rs.Cursors[plan.Cursor]
}

// fetchesPortal refuses a FETCH whose name is a portal bound through the
// protocol: portals and SQL cursors share one namespace on the server, and
// such a portal's rows are not those of any DECLARE.
func (s *session) fetchesPortal(v *rules.Verdict) *fault.Error {
	for i := range v.Statements {
		if sv := &v.Statements[i]; sv.CursorOp == rules.CursorFetch {
			if _, ok := s.portals[sv.Cursor]; ok {
				return fault.New(fault.StatementDenied, "dbfence: %q is a portal bound through the protocol; FETCH reads cursors opened with DECLARE", sv.Cursor)
			}
		}
	}
	return nil
}

// resolvePortalFetch decides, at its first Execute, a portal whose
// statement is a FETCH by its cursor as the session holds it now (the
// cursor may have been closed and declared again since the Parse).
func (s *session) resolvePortalFetch(p *portalState) *fault.Error {
	if p.plan == nil || p.plan.CursorOp != rules.CursorFetch || p.cursorResolved {
		return nil
	}
	p.cursorResolved = true
	if fe := s.fetchesPortal(&rules.Verdict{Statements: []rules.StatementVerdict{*p.plan}}); fe != nil {
		return fe
	}
	plan, fe := rules.ResolveFetch(s.rs.Cursors[p.plan.Cursor], p.plan)
	if fe != nil {
		return fe
	}
	p.plan = &plan
	return nil
}
