package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"go.uber.org/zap"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/proxy"
	"github.com/dbfence/dbfence/rules"
)

// queued is the number of requests awaiting their response.
func (s *session) queued() int { return len(s.queue) - s.qh }

// head is the oldest request awaiting its response.
func (s *session) head() *pending { return &s.queue[s.qh] }

// pop removes the head request.
func (s *session) pop() {
	s.queue[s.qh] = pending{}
	s.qh++
	if s.qh == len(s.queue) {
		s.queue, s.qh = s.queue[:0], 0
	}
}

// hasSync reports whether a Sync is queued.
func (s *session) hasSync() bool {
	for i := s.qh; i < len(s.queue); i++ {
		if s.queue[i].kind == pendSync || s.queue[i].kind == pendQuery {
			return true
		}
	}
	return false
}

// flushAndDrain sends what is buffered for the backend and relays its
// responses until every queued request is answered, or (after an error,
// without a queued Sync) until nothing more will be answered.
func (s *session) flushAndDrain() error {
	if err := s.flushBackend(); err != nil {
		return err
	}
	for s.queued() > 0 {
		if s.backendSkip {
			// The backend answers nothing until Sync.
			for s.queued() > 0 && s.head().kind != pendSync {
				s.skipHead()
			}
			if s.queued() == 0 {
				break
			}
		}
		typ, body, err := s.fromBackend()
		if err != nil {
			return err
		}
		if err := s.handleBackend(typ, body); err != nil {
			return err
		}
	}
	return s.flushClient()
}

// skipHead drops the head request the backend will not answer.
func (s *session) skipHead() {
	p := s.head()
	s.restore(p)
	if p.ev != nil {
		p.ev.ErrorCode = "skipped"
		s.outcome(p.ev)
	}
	s.pop()
}

// emit relays a backend message to the client unless the response is being discarded.
func (s *session) emit(typ byte, body []byte) error {
	if s.discard {
		return nil
	}
	return s.toClient(typ, body)
}

// abort ends the client's view of the current response with fe: the rest
// is read from the backend and dropped until ReadyForQuery, the backend is
// asked to cancel, and the client's messages are dropped until Sync.
func (s *session) abort(fe *fault.Error) error {
	if s.discard {
		return nil
	}
	s.log.Warn("response aborted", zap.String("kind", fe.Kind.String()), zap.String("reason", fe.Message))
	s.e.m.proxyError(fe.Kind.String())
	s.out = appendError(s.out[:0], "ERROR", fe)
	if err := s.toClientRaw(s.out); err != nil {
		return err
	}
	if err := s.flushClient(); err != nil {
		return err
	}
	s.discard = true
	if !s.hasSync() {
		s.clientSkip = true
	}
	s.cancelBackend()
	return nil
}

// unexpected ends the session on a backend message that does not fit the
// request it should answer (fail closed: the pairing can no longer be trusted).
func (s *session) unexpected(typ byte, p *pending) error {
	return fault.New(fault.ProtocolViolation, "dbfence: unexpected message %q from the backend (awaiting the response to request kind %d); session ended", typ, p.kind)
}

// handleBackend matches one backend message to the head request.
func (s *session) handleBackend(typ byte, body []byte) error {
	switch typ {
	case msgNoticeResponse, msgNotification, msgParameterStatus:
		return s.asyncMessage(typ, body)
	}
	p := s.head()
	if !p.answered {
		p.answered, p.outStart = true, s.clientOut()
		if p.query != nil {
			p.query.outMark = p.outStart
		}
	}
	if typ == msgErrorResponse && p.kind != pendQuery && p.kind != pendSync && p.kind != pendRefusal {
		return s.requestFailed(p, body)
	}
	switch p.kind {
	case pendParse:
		if typ != msgParseComplete {
			return s.unexpected(typ, p)
		}
		s.pop()
		return s.emit(typ, body)
	case pendBind:
		if typ != msgBindComplete {
			return s.unexpected(typ, p)
		}
		s.pop()
		return s.emit(typ, body)
	case pendClose:
		if typ != msgCloseComplete {
			return s.unexpected(typ, p)
		}
		s.pop()
		return s.emit(typ, body)
	case pendDescribeStmt:
		switch {
		case typ == msgParameterDesc && !p.paramDescSeen:
			p.paramDescSeen = true
			return s.emit(typ, body)
		case typ == msgRowDescription && p.paramDescSeen:
			var plan *rules.StatementVerdict
			if p.stmt != nil {
				plan = p.stmt.plan
			}
			s.pop()
			cols, ok := decodeRowDescription(s.colScratch[:0], body)
			s.colScratch = cols
			if !ok {
				return fault.New(fault.ProtocolViolation, "dbfence: malformed RowDescription from the backend")
			}
			if fe := s.checkColumns(plan, cols); fe != nil {
				return s.abort(fe)
			}
			return s.emit(typ, body)
		case typ == msgNoData && p.paramDescSeen:
			s.pop()
			return s.emit(typ, body)
		}
		return s.unexpected(typ, p)
	case pendDescribePortal, pendInjectedDescribe:
		injected := p.kind == pendInjectedDescribe
		portal := p.portal
		switch typ {
		case msgRowDescription:
			s.pop()
			var cols []column
			if portal != nil {
				cols = portal.cols[:0]
			}
			cols, ok := decodeRowDescription(cols, body)
			if !ok {
				return fault.New(fault.ProtocolViolation, "dbfence: malformed RowDescription from the backend")
			}
			if portal != nil {
				portal.cols = cols
				if fe := s.checkColumns(portal.plan, cols); fe != nil {
					return s.abort(fe)
				}
			}
		case msgNoData:
			s.pop()
			if portal != nil {
				portal.cols = portal.cols[:0]
			}
		default:
			return s.unexpected(typ, p)
		}
		if injected {
			return nil
		}
		return s.emit(typ, body)
	case pendExecute:
		return s.executeResponse(p, typ, body)
	case pendQuery:
		return s.queryResponse(p, typ, body)
	case pendSync:
		switch typ {
		case msgReadyForQuery:
			return s.readyForQuery(body)
		case msgErrorResponse: // the implicit COMMIT at Sync failed
			return s.relayError(body)
		}
		return s.unexpected(typ, p)
	case pendRefusal:
		if typ != msgErrorResponse {
			return s.unexpected(typ, p)
		}
		fe := p.refusal
		s.pop()
		s.backendSkip = true
		if s.discard {
			return nil
		}
		s.out = appendError(s.out[:0], "ERROR", fe)
		return s.toClientRaw(s.out)
	}
	return s.unexpected(typ, p)
}

// checkColumns checks a result's description against plan: the column
// count, and the columns' origins when Config.Origins is set.
func (s *session) checkColumns(plan *rules.StatementVerdict, cols []column) *fault.Error {
	if s.rowsUnexpected(plan) {
		// A statement decided as returning no rows returns rows: the pairing
		// of plans with responses cannot be trusted (fail closed).
		s.log.Warn("rows from a statement decided as returning none; result refused", zap.String("kind", plan.Kind))
		return fault.New(fault.ResultMismatch, "dbfence: rows came back for a statement of kind %s, which was not expected to return any; result refused", strings.ToUpper(plan.Kind))
	}
	if plan == nil || plan.Columns == nil {
		return nil
	}
	if len(cols) != len(plan.Columns) {
		return mismatch(len(cols), len(plan.Columns))
	}
	if s.e.cfg.Origins == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.e.cfg.DialTimeout)
	defer cancel()
	i, err := checkOrigins(ctx, s.e.cfg.Origins, s.rs.Database, plan.Columns, cols, func(schema, table, column string) bool {
		return s.e.cfg.Gate.HidesColumn(s.rs.User, schema, table, column)
	})
	if err != nil {
		s.log.Error("column origins could not be resolved", zap.Error(err))
		return fault.Wrap(fault.ResultMismatch, err, "dbfence: the result's column origins could not be verified; result refused")
	}
	if i > 0 {
		s.log.Warn("result metadata disagrees with the analysis; result refused", zap.Int("column", i),
			zap.Uint32("table_oid", cols[i-1].tableOID), zap.Int16("attnum", cols[i-1].attnum),
			zap.String("want_table", plan.Columns[i-1].OrgTable), zap.String("want_column", plan.Columns[i-1].OrgColumn))
		return fault.New(fault.ResultMismatch, "dbfence: result column %d does not come from what the statement was analysed to read; result refused", i)
	}
	return nil
}

// rowsUnexpected reports whether rows under plan mean the pairing of plans
// with responses is wrong: a restricted session's statement decided as
// returning none. Not for a monitor-mode role: nothing is masked or capped
// for it, so there is no plan to protect, and monitor mode never refuses.
func (s *session) rowsUnexpected(plan *rules.StatementVerdict) bool {
	return s.ruled && plan != nil && !plan.Monitor && plan.Columns == nil && !rowKinds[plan.Kind] && plan.CursorOp != rules.CursorFetch
}

// rowKinds are the statement kinds whose results restricted sessions may
// receive without a column plan; so may a FETCH, decided by its cursor's
// DECLARE (not a MOVE, which returns none).
var rowKinds = map[string]bool{
	"select": true, "show": true, "explain": true, "insert": true, "update": true, "delete": true,
	"merge": true, "copy": true, "empty": true,
}

func mismatch(got, want int) *fault.Error {
	return fault.New(fault.ResultMismatch, "dbfence: the server described %d result columns where %d were expected; result refused", got, want)
}

// readyForQuery ends a Sync or Query exchange.
func (s *session) readyForQuery(body []byte) error {
	if len(body) != 1 {
		return fault.New(fault.ProtocolViolation, "dbfence: malformed ReadyForQuery from the backend")
	}
	s.pop()
	s.txStatus = body[0]
	s.segDone++
	if s.txStatus == 'I' {
		s.endTransactionCursors()
		// Outside a transaction block the backend has dropped every portal
		// of the exchanges answered so far. Forgetting them keeps a portal
		// name later reused by SQL DECLARE from inheriting a stale plan.
		for name, p := range s.portals {
			if p.seg < s.segDone {
				delete(s.portals, name)
			}
		}
	}
	s.discard = false
	s.backendSkip = false
	return s.toClient(msgReadyForQuery, body)
}

// requestFailed relays the backend's error for an extended-protocol request:
// the backend now skips everything until Sync.
func (s *session) requestFailed(p *pending, body []byte) error {
	s.restore(p)
	if p.kind == pendExecute && p.portal != nil {
		s.cursorDone(p.portal.plan, false)
	}
	err := s.relayError(body)
	if p.ev != nil {
		if p.kind == pendExecute && p.portal != nil {
			p.ev.Rows = p.portal.rowsSent // rows relayed before the error
		}
		p.ev.ErrorCode, _ = errorFields(body)
		p.ev.Duration = time.Since(p.start)
		p.ev.Bytes = s.clientOut() - p.outStart
		s.outcome(p.ev)
		s.e.m.commands[msgExecute].failed.Inc()
	}
	s.pop()
	s.backendSkip = true
	return err
}

// relayError relays a backend ErrorResponse, filtered for restricted sessions.
func (s *session) relayError(body []byte) error {
	if s.relaySide(SideError) {
		return s.emit(msgErrorResponse, body)
	}
	return s.emitRedacted(msgErrorResponse, body)
}

// relaySide reports whether a side-channel message goes to the client unchanged.
func (s *session) relaySide(kind SideChannel) bool {
	if f := s.e.cfg.RelaySideChannel; f != nil {
		return f(&s.rs, s.restricted, kind)
	}
	return !s.restricted
}

// emitRedacted relays a NoticeResponse or ErrorResponse with only its
// severity and SQLSTATE.
func (s *session) emitRedacted(typ byte, body []byte) error {
	var er pgproto3.ErrorResponse
	if er.Decode(body) != nil {
		return fault.New(fault.ProtocolViolation, "dbfence: malformed error or notice from the backend")
	}
	red := pgproto3.ErrorResponse{Severity: er.Severity, SeverityUnlocalized: er.SeverityUnlocalized, Code: er.Code,
		Message: "dbfence: message withheld (SQLSTATE " + er.Code + ")"}
	out, err := red.Encode(s.out[:0])
	if err != nil {
		return fault.Wrap(fault.Internal, err, "dbfence: internal proxy error")
	}
	out[0] = typ
	s.out = out
	if s.discard {
		return nil
	}
	return s.toClientRaw(out)
}

// asyncMessage handles NoticeResponse, NotificationResponse and
// ParameterStatus, which the backend may send at any time.
func (s *session) asyncMessage(typ byte, body []byte) error {
	switch typ {
	case msgNoticeResponse:
		if s.relaySide(SideNotice) {
			return s.emit(typ, body)
		}
		return s.emitRedacted(typ, body)
	case msgNotification:
		if s.relaySide(SideNotification) {
			return s.emit(typ, body)
		}
		r := reader{b: body}
		pid := r.int32()
		channel := r.cstring()
		r.cstring()
		if !r.done() {
			return fault.New(fault.ProtocolViolation, "dbfence: malformed NotificationResponse from the backend")
		}
		s.out = binary.BigEndian.AppendUint32(s.out[:0], uint32(pid))
		s.out = append(append(s.out, channel...), 0, 0)
		return s.emit(typ, s.out)
	}
	name, value, ok := decodeParameterStatus(body)
	if !ok {
		return fault.New(fault.ProtocolViolation, "dbfence: malformed ParameterStatus from the backend")
	}
	if fe := checkPinned(name, value); fe != nil {
		return fe
	}
	if name == "application_name" && !s.relaySide(SideParameter) {
		s.out = append(append(s.out[:0], name...), 0, 0)
		return s.emit(typ, s.out)
	}
	return s.emit(typ, body)
}

// dataRow relays one DataRow under plan, counting it against the row cap
// in *rows and masking it with cols.
func (s *session) dataRow(body []byte, plan *rules.StatementVerdict, cols []column, rows *int64) error {
	if s.discard {
		return nil
	}
	if plan == nil {
		*rows++
		s.e.m.rowsPlain.Inc()
		return s.toClient(msgDataRow, body)
	}
	if s.rowsUnexpected(plan) {
		// Rows without a RowDescription first (an Execute the client did
		// not Describe), which checkColumns would have refused.
		s.log.Warn("rows from a statement decided as returning none; result refused", zap.String("kind", plan.Kind))
		return s.abort(fault.New(fault.ResultMismatch, "dbfence: rows came back for a statement of kind %s, which was not expected to return any; result refused", strings.ToUpper(plan.Kind)))
	}
	if ok, err := s.admitRow(plan, rows); !ok {
		return err
	}
	if plan.Columns == nil {
		s.e.m.rowsPlain.Inc()
		return s.toClient(msgDataRow, body)
	}
	row, ok := s.maskRow(body, plan.Columns, cols)
	if !ok {
		return s.abort(fault.New(fault.ResultMismatch, "dbfence: a result row does not match its description; result refused"))
	}
	s.e.m.rowsMasked.Inc()
	return s.toClient(msgDataRow, row)
}

// admitRow counts one row of a result under plan against the row cap (in
// *rows), the rolling budget and its cursor. When the row may not be
// relayed it aborts the response and returns false with abort's error.
func (s *session) admitRow(plan *rules.StatementVerdict, rows *int64) (bool, error) {
	*rows++
	cur := s.fetchedCursor(plan)
	// A FETCH's own cap is what its cursor had left when it was decided;
	// FETCHes decided together (one text, or a pipeline) would each get all
	// of it, so the cursor's count as rows arrive is checked too.
	if plan.RowCap > 0 && *rows > plan.RowCap || cur != nil && cur.Plan.RowCap > 0 && cur.Rows >= cur.Plan.RowCap {
		if plan.CursorOp == rules.CursorFetch {
			return false, s.abort(fault.New(fault.RowCapExceeded, "dbfence: cursor %q reached the row limit for this role across its FETCHes; the rest was withheld", plan.Cursor))
		}
		return false, s.abort(fault.New(fault.RowCapExceeded, "dbfence: the result exceeds the row limit of %d rows for this role; the rest was withheld", plan.RowCap))
	}
	if b := plan.Budget; b != nil && s.e.cfg.Budgets != nil && !s.e.cfg.Budgets.Take(s.rs.User, 1, b.Rows, b.Window) {
		return false, s.abort(fault.New(fault.RowCapExceeded,
			"dbfence: your budget of %d classified rows per %s is used up; an approval is needed for more", b.Rows, b.Window))
	}
	if cur != nil {
		cur.Rows++
	}
	return true, nil
}

// maskRow rebuilds a DataRow with masked cells into s.rowBuf. A masked cell
// of a text-like type is masked as text (in either format); other types take
// Config.MaskTyped's form or NULL. ok=false when the row does not match cols.
func (s *session) maskRow(body []byte, plan []rules.ColumnPlan, cols []column) ([]byte, bool) {
	r := reader{b: body}
	n := int(r.int16())
	if r.bad || n != len(cols) || n != len(plan) {
		return nil, false
	}
	out := append(s.rowBuf[:0], body[:2]...)
	for i := range n {
		l := r.int32()
		if l == -1 {
			out = append(out, 0xff, 0xff, 0xff, 0xff)
			continue
		}
		v := r.bytes(int(l))
		if r.bad {
			return nil, false
		}
		m := plan[i].Masker
		if m == nil {
			out = binary.BigEndian.AppendUint32(out, uint32(l))
			out = append(out, v...)
			continue
		}
		c := cols[i]
		var cell []byte
		masked := false
		if textLike(c.typeOID, c.format) {
			cell, masked = m.Mask(s.cellBuf[:0], v), true
		} else if s.e.cfg.MaskTyped != nil {
			cell, masked = s.e.cfg.MaskTyped(m, s.cellBuf[:0], v, c.typeOID, c.format == 1)
		}
		if !masked {
			out = append(out, 0xff, 0xff, 0xff, 0xff)
			continue
		}
		s.cellBuf = cell
		out = binary.BigEndian.AppendUint32(out, uint32(len(cell)))
		out = append(out, cell...)
	}
	s.rowBuf = out
	return out, r.done()
}

// copyOutAllowed reports whether COPY TO STDOUT data may be relayed under
// plan as it is, without counting or decoding its rows.
func copyOutAllowed(plan *rules.StatementVerdict) bool {
	return plan == nil || (plan.Columns == nil && plan.RowCap == 0)
}

var errCopyRefused = fault.New(fault.UnsupportedCommand, "dbfence: COPY TO STDOUT is not allowed for a result with masked columns or a row limit; use SELECT")

// executeResponse handles a message answering an Execute.
func (s *session) executeResponse(p *pending, typ byte, body []byte) error {
	portal := p.portal
	switch typ {
	case msgDataRow:
		return s.dataRow(body, portal.plan, portal.cols, &portal.rowsSent)
	case msgCommandComplete, msgEmptyQuery, msgPortalSuspended:
		err := s.emit(typ, body) // counted in the statement's bytes
		if typ == msgCommandComplete {
			s.cursorDone(portal.plan, !s.discard)
		}
		s.finishExecute(p, "")
		s.pop()
		return err
	case msgCopyOutResponse:
		if fe := s.startCopyOut(portal.plan, body); fe != nil {
			return s.abort(fe)
		}
		return s.emit(typ, body)
	case msgCopyData:
		return s.copyData(body, &portal.rowsSent)
	case msgCopyDone:
		s.copyOut = nil
		return s.emit(typ, body)
	case msgCopyInResponse:
		return s.copyIn(typ, body)
	}
	return s.unexpected(typ, p)
}

func (s *session) finishExecute(p *pending, code string) {
	if p.ev == nil {
		return
	}
	p.ev.Rows = p.portal.rowsSent
	p.ev.Duration = time.Since(p.start)
	p.ev.Bytes = s.clientOut() - p.outStart
	if s.discard && code == "" {
		code = "aborted"
	}
	p.ev.ErrorCode = code
	s.outcome(p.ev)
	if code == "" {
		s.e.m.commands[msgExecute].ok.Inc()
	} else {
		s.e.m.commands[msgExecute].failed.Inc()
	}
	if code == "" {
		s.statementDone(p.portal.plan)
	}
}

// queryResponse handles a message answering a simple Query.
func (s *session) queryResponse(p *pending, typ byte, body []byte) error {
	q := p.query
	switch typ {
	case msgRowDescription:
		plan, ok := planAt(q.v, q.idx)
		if !ok {
			return s.abort(fault.New(fault.ResultMismatch, "dbfence: the server returned more results than statements; result refused"))
		}
		q.rows = 0
		q.cols = q.cols[:0]
		if plan != nil && plan.Columns != nil {
			cols, ok := decodeRowDescription(q.cols, body)
			if !ok {
				return fault.New(fault.ProtocolViolation, "dbfence: malformed RowDescription from the backend")
			}
			q.cols = cols
			if fe := s.checkColumns(plan, cols); fe != nil {
				return s.abort(fe)
			}
		}
		return s.emit(typ, body)
	case msgDataRow:
		plan, ok := planAt(q.v, q.idx)
		if !ok {
			return s.abort(fault.New(fault.ResultMismatch, "dbfence: the server returned more results than statements; result refused"))
		}
		return s.dataRow(body, plan, q.cols, &q.rows)
	case msgCommandComplete, msgEmptyQuery:
		err := s.emit(typ, body) // counted in the statement's bytes
		s.finishStatement(q, "")
		return err
	case msgErrorResponse:
		code, _ := errorFields(body)
		err := s.relayError(body)
		s.finishStatement(q, code)
		return err
	case msgCopyOutResponse:
		plan, ok := planAt(q.v, q.idx)
		if !ok {
			return s.abort(errCopyRefused)
		}
		if fe := s.startCopyOut(plan, body); fe != nil {
			return s.abort(fe)
		}
		return s.emit(typ, body)
	case msgCopyData:
		return s.copyData(body, &q.rows)
	case msgCopyDone:
		s.copyOut = nil
		return s.emit(typ, body)
	case msgCopyInResponse:
		return s.copyIn(typ, body)
	case msgReadyForQuery:
		if s.discard {
			s.e.m.commands[msgQuery].failed.Inc()
		} else {
			s.e.m.commands[msgQuery].ok.Inc()
		}
		for q.idx < len(q.evs) { // statements never reached
			s.finishStatement(q, "skipped")
		}
		return s.readyForQuery(body)
	}
	return s.unexpected(typ, p)
}

// statementDone applies what a completed statement changes in the
// proxy's own state: after DDL the catalog caches are told; after SQL
// DEALLOCATE or DISCARD the protocol statement names are forgotten, so a
// name re-created by SQL PREPARE (whose text the proxy never decided) cannot
// be bound under an old plan.
func (s *session) statementDone(sv *rules.StatementVerdict) {
	if sv == nil {
		return
	}
	if sv.ChangesCatalog {
		s.catalogChanged()
	}
	switch sv.Kind {
	case "deallocate", "discard":
		clear(s.stmts)
	}
}

// catalogChanged tells whoever caches the catalog that DDL completed.
func (s *session) catalogChanged() {
	if s.e.cfg.Origins != nil {
		s.e.cfg.Origins.Forget()
	}
	if s.e.cfg.OnSchemaChange != nil {
		s.e.cfg.OnSchemaChange()
	}
}

// finishStatement closes the audit record of the current statement of a query.
func (s *session) finishStatement(q *queryState, code string) {
	if q.idx < len(q.v.Statements) {
		s.cursorDone(&q.v.Statements[q.idx], code == "" && !s.discard)
	}
	if q.idx < len(q.evs) {
		ev := q.evs[q.idx]
		ev.Rows = q.rows
		ev.Duration = time.Since(q.start)
		ev.Bytes = s.clientOut() - q.outMark
		if s.discard && code == "" {
			code = "aborted"
		}
		ev.ErrorCode = code
		s.outcome(ev)
		if code == "" {
			s.statementDone(&q.v.Statements[q.idx])
		}
	}
	q.idx++
	q.rows = 0
	q.cols = q.cols[:0]
	q.outMark = s.clientOut()
}

// planAt returns the plan for the i-th statement's results. Results beyond
// the statements take the last statement's plan only when it needs no
// treatment; otherwise (or when the verdict has no statements) they are
// refused.
func planAt(v *rules.Verdict, i int) (*rules.StatementVerdict, bool) {
	if i < len(v.Statements) {
		return &v.Statements[i], true
	}
	if len(v.Statements) == 0 {
		return nil, false // a text decided as holding no statement returns no rows
	}
	last := &v.Statements[len(v.Statements)-1]
	if last.Columns == nil && last.RowCap == 0 {
		return last, true
	}
	return nil, false
}

// copyIn relays CopyInResponse, then the client's CopyData until CopyDone or
// CopyFail. Flush and Sync are relayed and not queued: the backend ignores
// them in COPY mode. Anything else fails the COPY and ends the session.
func (s *session) copyIn(typ byte, body []byte) error {
	if s.discard {
		// The client was told the exchange failed: fail the COPY.
		return s.toBackendFlush(msgCopyFail, []byte("dbfence: response aborted\x00"))
	}
	if err := s.toClient(typ, body); err != nil {
		return err
	}
	if err := s.flushClient(); err != nil {
		return err
	}
	for {
		ctyp, cbody, err := s.fromClient()
		if err != nil {
			return err
		}
		switch ctyp {
		case msgCopyData, msgFlush, msgSync:
			if err := s.toBackend(ctyp, cbody); err != nil {
				return err
			}
		case msgCopyDone, msgCopyFail:
			return s.toBackendFlush(ctyp, cbody)
		default:
			_ = s.toBackendFlush(msgCopyFail, []byte("dbfence: unexpected message during COPY\x00"))
			return fault.New(fault.ProtocolViolation, "dbfence: unexpected message %q during COPY FROM STDIN", ctyp)
		}
	}
}

// endOnError ends the session after a failure, telling the client why when
// it is still there.
func (s *session) endOnError(err error) {
	var ce clientGoneError
	if errors.As(err, &ce) {
		// The client left mid-exchange: stop the backend's work.
		s.log.Debug("client gone", zap.Error(ce.err))
		s.cancelBackend()
		return
	}
	var be backendError
	if errors.As(err, &be) {
		s.log.Warn("backend connection lost", zap.Error(be.err))
		s.fatal(fault.Wrap(fault.BackendUnavailable, be.err, "dbfence: lost connection to the backend database"))
		return
	}
	fe := fault.As(err)
	s.log.Warn("session ended", zap.Error(err))
	if s.queued() > 0 {
		s.cancelBackend()
	}
	s.fatal(fe)
}

// clientGoneError marks a failure to write to or read from the client.
type clientGoneError struct{ err error }

func (e clientGoneError) Error() string { return "client connection lost: " + e.err.Error() }
func (e clientGoneError) Unwrap() error { return e.err }

// backendError marks a failure to talk to the backend.
type backendError struct{ err error }

func (e backendError) Error() string { return "backend connection lost: " + e.err.Error() }
func (e backendError) Unwrap() error { return e.err }

// I/O helpers that classify errors by leg.

func (s *session) toClient(typ byte, body []byte) error {
	if err := s.client.writeMessage(typ, body); err != nil {
		return clientGoneError{err}
	}
	return nil
}

func (s *session) toClientRaw(p []byte) error {
	if err := s.client.writeRaw(p); err != nil {
		return clientGoneError{err}
	}
	return nil
}

func (s *session) flushClient() error {
	err := s.client.flush()
	// Also when the client is gone: its statements' outcomes are logged.
	s.recordOutcomes()
	if err != nil {
		return clientGoneError{err}
	}
	return nil
}

// clientOut is the count of bytes written to the client so far.
func (s *session) clientOut() int64 {
	if s.client == nil {
		return 0 // before the backend answered the startup
	}
	return s.client.out
}

// outcome queues a finished statement's event; flushClient records it.
func (s *session) outcome(ev *proxy.StatementEvent) { s.outcomes = append(s.outcomes, ev) }

// interrupted queues the outcome of statements recorded as forwarded whose
// exchange broke off before their response (client gone, backend lost,
// proxy failure): whatever happens, such a statement has an outcome in the
// audit log. Rows and bytes are those already set, if any.
func (s *session) interrupted(evs ...*proxy.StatementEvent) {
	for _, ev := range evs {
		if ev.ErrorCode == "" {
			ev.ErrorCode = "interrupted"
		}
		ev.Duration = time.Since(ev.Start)
		s.outcome(ev)
	}
}

// notForwarded queues the outcome of statements recorded as forwarded that
// were refused after all, with fe's SQLSTATE.
func (s *session) notForwarded(fe *fault.Error, evs ...*proxy.StatementEvent) {
	for _, ev := range evs {
		ev.ErrorCode = fe.Kind.PostgresState()
		ev.Duration = time.Since(ev.Start)
		s.outcome(ev)
	}
}

// interruptQueued queues, when the session ends, the outcomes of the
// statements still awaiting their response, with the rows and bytes
// relayed so far.
func (s *session) interruptQueued() {
	out := s.clientOut()
	for i := s.qh; i < len(s.queue); i++ {
		p := &s.queue[i]
		switch {
		case p.kind == pendQuery && p.query != nil:
			q := p.query
			for ; q.idx < len(q.evs); q.idx++ {
				ev := q.evs[q.idx]
				ev.Rows = q.rows
				if p.answered {
					ev.Bytes = out - q.outMark
				}
				q.rows, q.outMark = 0, out
				s.interrupted(ev)
			}
		case p.kind == pendExecute && p.ev != nil:
			if p.portal != nil {
				p.ev.Rows = p.portal.rowsSent
			}
			if p.answered {
				p.ev.Bytes = out - p.outStart
			}
			s.interrupted(p.ev)
			p.ev = nil
		}
	}
}

// recordOutcomes records the queued outcomes.
func (s *session) recordOutcomes() {
	for i, ev := range s.outcomes {
		s.e.cfg.Audit.StatementDone(ev)
		s.outcomes[i] = nil
	}
	s.outcomes = s.outcomes[:0]
}

func (s *session) toBackend(typ byte, body []byte) error {
	if err := s.backend.writeMessage(typ, body); err != nil {
		return backendError{err}
	}
	return nil
}

func (s *session) toBackendFlush(typ byte, body []byte) error {
	if err := s.toBackend(typ, body); err != nil {
		return err
	}
	return s.flushBackend()
}

func (s *session) flushBackend() error {
	if err := s.backend.flush(); err != nil {
		return backendError{err}
	}
	return nil
}

func (s *session) fromBackend() (byte, []byte, error) {
	typ, body, err := s.backend.readMessage()
	if err != nil {
		return 0, nil, backendError{err}
	}
	return typ, body, nil
}

func (s *session) fromClient() (byte, []byte, error) {
	typ, body, err := s.client.readMessage()
	if err != nil {
		if errors.Is(err, errMessageTooLarge) {
			return 0, nil, fault.New(fault.PacketTooLarge, "dbfence: message larger than the limit (%d bytes)", s.e.cfg.MaxMessage)
		}
		return 0, nil, clientGoneError{err}
	}
	return typ, body, nil
}
