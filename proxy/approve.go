package proxy

import (
	"go.uber.org/zap"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules"
)

// ApplyApproval turns a text refused only for lack of an approval
// (v.Approval set) into an allowed one when approvals holds a valid approval
// for this user, database and statement: one use is consumed, and the
// approved rows become the row cap (and the modification cap); they are not
// drawn from the user's rolling budget, which bounds what runs without an
// approval. Otherwise it files a request (asking for the statement's own
// LIMIT, or the row cap) and names it in the refusal. The id returned is
// the approval used or the request filed, for the audit record; "" when the
// store failed (v is then returned unchanged, still refused). v's
// statements may be shared with other sessions: they are copied, not changed.
func ApplyApproval(approvals Approvals, user, database string, v *rules.Verdict, log *zap.Logger) (*rules.Verdict, string) {
	need := v.Approval
	sv := v.Statements[0]
	id, rows, ok, err := approvals.Use(user, database, need.Normalized)
	if err != nil {
		log.Error("approval store unavailable", zap.Error(err))
		return v, ""
	}
	if ok {
		sv.Outcome, sv.Rule, sv.Reason, sv.Error = rules.Allow, "approved", "approved by request "+id, nil
		sv.RowCap = rows
		if sv.ModifyCap > 0 {
			sv.ModifyCap = rows
		}
		sv.Budget = nil
		log.Info("statement runs under an approval", zap.String("approval", id), zap.Int64("rows", rows))
		return &rules.Verdict{Forward: need.Forward, Statements: []rules.StatementVerdict{sv},
			Literals: v.Literals, Restricted: v.Restricted}, id
	}
	asked := sv.RequestRows
	if asked <= 0 {
		asked = sv.RowCap
	}
	rid, err := approvals.File(user, database, need.Normalized, asked, sv.Reason)
	if err != nil {
		log.Error("approval request could not be filed", zap.Error(err))
		return v, ""
	}
	out := *v
	out.Forward = ""
	out.Refusal = fault.New(fault.ApprovalRequired, "dbfence: approval required: request %s filed; ask an approver (%s)", rid, sv.Reason)
	return &out, rid
}
