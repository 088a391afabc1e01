package main

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/dbfence/dbfence/admin"
	"github.com/dbfence/dbfence/approval"
	"github.com/dbfence/dbfence/audit"
)

// approvalAPI serves the approval workflow on the admin listener. Every
// request carries an approver's own bearer token, which names the approver;
// every state change is written to the audit log.
//
//	GET  /approvals                 the requests, newest first
//	POST /approvals/{id}/approve    ?valid=24h&uses=1&rows=N&comment=...
//	POST /approvals/{id}/reject     ?comment=...
//	POST /approvals/{id}/revoke
type approvalAPI struct {
	store  approval.Requests
	tokens map[string]string // approver → token
	alog   *audit.Log        // nil when audit is off
	strict bool              // strict audit: record a decision before making it
	log    *zap.Logger
}

func (a *approvalAPI) mount(adm *admin.Server) {
	adm.Handle("GET /approvals", http.HandlerFunc(a.list))
	for _, verb := range []string{"approve", "reject", "revoke"} {
		adm.Handle("POST /approvals/{id}/"+verb, a.decide(verb))
	}
}

// approver returns the approver whose token the request carries.
func (a *approvalAPI) approver(r *http.Request) (string, bool) {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || got == "" {
		return "", false
	}
	for name, tok := range a.tokens {
		if tok != "" && subtle.ConstantTimeCompare([]byte(got), []byte(tok)) == 1 {
			return name, true
		}
	}
	return "", false
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (a *approvalAPI) list(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.approver(r); !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "an approver's bearer token is required"})
		return
	}
	list, err := a.store.List()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (a *approvalAPI) decide(verb string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := a.approver(r)
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "an approver's bearer token is required"})
			return
		}
		q := r.URL.Query()
		d := approval.Decision{Approver: who, Comment: q.Get("comment")}
		var err error
		if v := q.Get("valid"); v != "" {
			if d.Validity, err = time.ParseDuration(v); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "valid: " + err.Error()})
				return
			}
		}
		if v := q.Get("uses"); v != "" {
			if d.Uses, err = strconv.Atoi(v); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "uses: " + err.Error()})
				return
			}
		}
		if v := q.Get("rows"); v != "" {
			if d.Rows, err = strconv.ParseInt(v, 10, 64); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "rows: " + err.Error()})
				return
			}
		}
		id := r.PathValue("id")
		var req *approval.Request
		typ := audit.TypeApprovalGrant
		if verb != "approve" {
			typ = audit.TypeApprovalDeny
		}
		if a.strict && a.alog != nil {
			// Strict audit: the decision is made only once its record is
			// durable, as a statement is forwarded only once its record is.
			ev := &audit.Event{Type: typ, Time: time.Now(), User: who, ApprovalID: id, Decision: verb,
				Detail: map[string]string{"via": "admin API", "phase": "intent"}}
			if aerr := a.alog.Record(ev); aerr != nil {
				a.log.Error("approval decision refused: its audit record cannot be written", zap.String("id", id), zap.Error(aerr))
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{
					"error": "the audit log cannot be written (strict mode), so the decision was not made: " + aerr.Error()})
				return
			}
		}
		switch verb {
		case "approve":
			req, err = a.store.Approve(id, d)
		case "reject":
			req, err = a.store.Reject(id, d)
		case "revoke":
			req, err = a.store.Revoke(id, who)
		}
		a.audit(typ, verb, id, who, req, err)
		switch {
		case errors.Is(err, approval.ErrNotFound):
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		case errors.Is(err, approval.ErrSelfApproval):
			writeJSON(w, http.StatusForbidden, map[string]string{"error": err.Error()})
		case err != nil:
			writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		default:
			writeJSON(w, http.StatusOK, req)
		}
	})
}

// audit records an approval state change (or a refused attempt). The
// record repeats what the request asked for (requester, database, rows,
// reason, when it was filed), so a request filed ahead with the CLI, which
// writes the store directly, is in the audit stream from its decision on.
func (a *approvalAPI) audit(typ audit.EventType, verb, id, who string, req *approval.Request, err error) {
	if a.alog == nil {
		return
	}
	ev := &audit.Event{Type: typ, Time: time.Now(), User: who, ApprovalID: id, Decision: verb,
		Detail: map[string]string{"via": "admin API"}}
	if a.strict {
		ev.Detail["phase"] = "outcome"
	}
	if req != nil {
		ev.Database = req.Database
		ev.Detail["requester"] = req.Requester
		ev.Detail["rows"] = strconv.FormatInt(req.Rows, 10)
		ev.Detail["reason"] = req.Reason
		ev.Detail["filed"] = req.Created.Format(time.RFC3339)
		ev.Detail["fingerprint"] = req.Fingerprint
	}
	if err != nil {
		ev.Decision, ev.Reason = verb+"_refused", err.Error()
	}
	if aerr := a.alog.Record(ev); aerr != nil {
		a.log.Error("audit record of an approval decision failed", zap.Error(aerr))
	}
}
