package postgres

import (
	"strconv"
	"strings"
	"time"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/proxy"
	"github.com/dbfence/dbfence/rules"
)

// cappedRefusal refuses what the engine cannot run under a modification
// cap: several statements in one text, a RETURNING list (its rows would have
// to be held back until the count is known), a Parse (the extended protocol
// runs the statement at Execute, inside the client's own exchange), or a
// failed transaction. nil when v holds no capped statement or can run capped.
func cappedRefusal(v *rules.Verdict, extended bool, txStatus byte) *fault.Error {
	for i := range v.Statements {
		sv := &v.Statements[i]
		if sv.ModifyCap <= 0 {
			continue
		}
		kind := strings.ToUpper(sv.Kind)
		switch {
		case extended:
			return fault.New(fault.StatementDenied, "dbfence: your role may run %s only under a cap of %d rows, which is enforced for simple queries; send it as a simple query, not a prepared statement", kind, sv.ModifyCap)
		case len(v.Statements) > 1:
			return fault.New(fault.StatementDenied, "dbfence: an %s your role may only run under a row cap must be sent on its own, not with other statements", kind)
		case sv.Columns != nil:
			return fault.New(fault.StatementDenied, "dbfence: an %s your role may only run under a row cap cannot return rows (RETURNING)", kind)
		case txStatus == 'E':
			return fault.New(fault.StatementDenied, "dbfence: the transaction has failed; roll it back before running an %s under a row cap", kind)
		}
	}
	return nil
}

// refuseUncappable refuses v (in place; CheckPostgres returns a fresh
// verdict) when it holds a capped modification this path cannot run. It
// comes before approvals: a statement that cannot run here must neither
// spend an approval's use nor file a request.
func refuseUncappable(v *rules.Verdict, extended bool, txStatus byte) {
	if fe := cappedRefusal(v, extended, txStatus); fe != nil {
		v.Refusal, v.Approval, v.Forward = fe, nil, ""
	}
}

// runCapped runs one UPDATE or DELETE of a role with a modification cap so
// that it can be undone: inside a transaction the proxy opens, or a
// savepoint when the client is in one. The backend's response is held
// back; when the command tag reports more rows than the cap the change is
// rolled back and the client gets an error, otherwise it is committed (or
// the savepoint released) and the client gets the held response.
func (s *session) runCapped(v *rules.Verdict, ev *proxy.StatementEvent, start time.Time) error {
	sv := &v.Statements[0]
	begin, undo, keep := "BEGIN", "ROLLBACK", "COMMIT"
	if s.txStatus == 'T' {
		begin, undo, keep = "SAVEPOINT dbfence_cap", "ROLLBACK TO SAVEPOINT dbfence_cap", "RELEASE SAVEPOINT dbfence_cap"
	}
	// record queues the outcome once: endCapped calls it when the client's
	// response is written through its completing message, so the bytes are
	// known; the deferred call covers an exchange that broke off before
	// that, so that the statement is in the audit log whatever happens.
	mark := s.clientOut()
	ended, queued := false, false
	done := func(rows int64, code string) {
		ev.Rows, ev.ErrorCode, ev.Duration, ended = rows, code, time.Since(start), true
	}
	record := func() {
		if queued {
			return
		}
		queued = true
		if !ended {
			ev.ErrorCode, ev.Duration = "interrupted", time.Since(start)
		}
		ev.Bytes = s.clientOut() - mark
		s.outcome(ev)
	}
	defer record()
	if _, errBody, err := s.internalQuery(begin); err != nil {
		return err
	} else if errBody != nil {
		code, _ := errorFields(errBody)
		done(0, code)
		return s.endCapped(record, errBody, nil)
	}
	type held struct {
		typ  byte
		body []byte
	}
	var response []held
	var errBody []byte
	rows := int64(-1)
	err := s.ownExchange(v.Forward, func(typ byte, body []byte) error {
		switch typ {
		case msgErrorResponse:
			errBody = append([]byte(nil), body...)
		case msgCommandComplete:
			rows = commandRows(body)
		case msgEmptyQuery:
		default:
			return fault.New(fault.ProtocolViolation, "dbfence: unexpected message %q from the backend for a capped %s; session ended", typ, sv.Kind)
		}
		response = append(response, held{typ, append([]byte(nil), body...)})
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case errBody != nil:
		if _, _, err := s.internalQuery(undo); err != nil {
			return err
		}
		code, _ := errorFields(errBody)
		done(0, code)
		return s.endCapped(record, errBody, nil)
	case rows < 0 || rows > sv.ModifyCap:
		if _, _, err := s.internalQuery(undo); err != nil {
			return err
		}
		fe := fault.New(fault.RowCapExceeded, "dbfence: the %s would change %d rows, more than the %d your role may change at once; it was rolled back", strings.ToUpper(sv.Kind), rows, sv.ModifyCap)
		if rows < 0 {
			fe = fault.New(fault.RowCapExceeded, "dbfence: the server did not report how many rows the %s changed; it was rolled back", strings.ToUpper(sv.Kind))
		}
		done(rows, fe.Kind.PostgresState())
		s.e.m.proxyError(fe.Kind.String())
		return s.endCapped(record, nil, fe)
	}
	if _, errBody, err := s.internalQuery(keep); err != nil {
		return err
	} else if errBody != nil {
		// COMMIT failed (a deferred constraint): the change is gone.
		code, _ := errorFields(errBody)
		done(0, code)
		return s.endCapped(record, errBody, nil)
	}
	done(rows, "")
	for _, m := range response {
		if err := s.toClient(m.typ, m.body); err != nil {
			return err
		}
	}
	return s.endCapped(record, nil, nil)
}

// endCapped ends a capped run's exchange with the client: the server's
// error (redacted as usual) or the proxy's, then ReadyForQuery with the
// transaction status the client's session is now in. record queues the
// statement's outcome; it is called before ReadyForQuery, whose bytes are
// not the statement's, as for any statement.
func (s *session) endCapped(record func(), serverErr []byte, fe *fault.Error) error {
	switch {
	case serverErr != nil:
		if err := s.relayError(serverErr); err != nil {
			return err
		}
	case fe != nil:
		s.out = appendError(s.out[:0], "ERROR", fe)
		if err := s.toClientRaw(s.out); err != nil {
			return err
		}
	}
	record()
	if err := s.toClient(msgReadyForQuery, []byte{s.txStatus}); err != nil {
		return err
	}
	return s.flushClient()
}

// commandRows reads the row count of an UPDATE or DELETE CommandComplete
// tag ("UPDATE 3", "DELETE 0"); -1 when there is none.
func commandRows(body []byte) int64 {
	tag := strings.TrimRight(string(body), "\x00")
	i := strings.LastIndexByte(tag, ' ')
	if i < 0 {
		return -1
	}
	n, err := strconv.ParseInt(tag[i+1:], 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}
