package rules

import (
	"slices"

	"github.com/dbfence/dbfence/fault"
)

// A PostgreSQL SQL cursor returns the rows of the query its DECLARE names,
// FETCH by FETCH. The DECLARE is decided like that query (columns, masks,
// row cap, bulk-read approval); a FETCH is decided by the DECLARE of its
// cursor, which the engine keeps in Session.Cursors once it completed. A
// FETCH from a cursor the session does not hold is refused: it could stand
// for any query.

// ResolveFetch gives a FETCH (sv, as decided from its text) the decision of
// its cursor's DECLARE in cur: the same columns, masks and budget, and what
// is left of the row cap. It refuses when cur is nil or the cap is used up.
func ResolveFetch(cur *Cursor, sv *StatementVerdict) (StatementVerdict, *fault.Error) {
	if cur == nil {
		return *sv, fault.New(fault.StatementDenied,
			"dbfence: cursor %q was not declared through dbfence in this session, or its DECLARE did not complete; declare it again", sv.Cursor)
	}
	out := cur.Plan
	out.Kind, out.Normalized = "fetch", sv.Normalized
	out.CursorOp, out.Cursor, out.CursorHold = CursorFetch, sv.Cursor, false
	out.Rule, out.Reason = "cursor", "rows of cursor "+sv.Cursor+", decided at its DECLARE: "+cur.Plan.Reason
	// Charged, approved and counted once, at the DECLARE.
	out.ChangesSession, out.ChangesCatalog, out.LookupGuesses, out.RequestRows, out.ModifyCap = false, false, 0, 0, 0
	if out.RowCap > 0 {
		left := out.RowCap - cur.Rows
		if left <= 0 {
			return *sv, fault.New(fault.RowCapExceeded,
				"dbfence: cursor %q has returned the %d rows your role may receive from one result; the rest is withheld", sv.Cursor, out.RowCap)
		}
		out.RowCap = left
	}
	return out, nil
}

// resolveCursors applies ResolveFetch to the FETCHes of a restricted
// session's text, with the cursors the text itself declares or closes
// before them. The statements are copied before they change (they may be
// the decision cache's).
func resolveCursors(sess *Session, v *Verdict) {
	var declared map[string]*Cursor
	var closed map[string]bool // made on the first CLOSE: most texts have none
	closedAll, copied := false, false
	for i := range v.Statements {
		sv := &v.Statements[i]
		switch {
		case sv.CursorOp == CursorDeclare && sv.Outcome == Allow:
			if declared == nil {
				declared = map[string]*Cursor{}
			}
			declared[sv.Cursor] = &Cursor{Plan: *sv, Hold: sv.CursorHold}
		case sv.CursorOp == CursorClose && sv.Cursor != "":
			delete(declared, sv.Cursor)
			if closed == nil {
				closed = map[string]bool{}
			}
			closed[sv.Cursor] = true
		case sv.CursorOp == CursorClose || sv.Kind == "discard":
			declared, closedAll = nil, true
		case sv.CursorOp == CursorFetch && sv.Outcome == Allow:
			cur := declared[sv.Cursor]
			if cur == nil && !closedAll && !closed[sv.Cursor] {
				cur = sess.Cursors[sv.Cursor]
			}
			if cur == nil && sv.Monitor {
				continue // monitor mode decides and logs; it does not refuse
			}
			plan, fe := ResolveFetch(cur, sv)
			if !copied {
				v.Statements, copied = slices.Clone(v.Statements), true
				sv = &v.Statements[i]
			}
			*sv = plan
			if fe != nil {
				sv.Outcome, sv.Error, sv.Rule, sv.Reason = Deny, fe, "cursor", fe.Message
				if v.Refusal == nil {
					v.Refusal = fe
				}
			}
		}
	}
}
