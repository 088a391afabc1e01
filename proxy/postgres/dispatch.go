package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/proxy"
	"github.com/dbfence/dbfence/rules"
)

// markerStatement is the statement name of the Bind the proxy sends in place
// of a refused extended-protocol message: it names no statement, so the
// backend answers an error, enters its own skip-until-Sync state and rolls
// back the implicit transaction exactly as for a real error. Clients may not
// use the name.
const markerStatement = "dbfence: refused"

// markerBind is the body of that Bind: unnamed portal, no parameters.
var markerBind = []byte("\x00" + markerStatement + "\x00\x00\x00\x00\x00\x00\x00")

// pendingKind is what a queued request expects from the backend.
type pendingKind uint8

const (
	pendQuery            pendingKind = iota + 1 // Query: results per statement, then ReadyForQuery
	pendParse                                   // ParseComplete
	pendBind                                    // BindComplete
	pendDescribeStmt                            // ParameterDescription, then RowDescription or NoData
	pendDescribePortal                          // RowDescription or NoData
	pendInjectedDescribe                        // the proxy's own Describe of a portal: not relayed
	pendExecute                                 // rows, then CommandComplete, EmptyQueryResponse or PortalSuspended
	pendClose                                   // CloseComplete
	pendSync                                    // ReadyForQuery
	pendRefusal                                 // the marker Bind's error, replaced by the refusal
)

// pending is one request whose response has not been read yet.
type pending struct {
	kind pendingKind
	// name is the statement or portal name.
	name string
	// stmt and portal are the states the request refers to.
	stmt   *stmtState
	portal *portalState
	// prevStmt/prevPortal and hadPrev restore the maps when the request fails.
	prevStmt   *stmtState
	prevPortal *portalState
	hadPrev    bool
	// portalsForgotten is the session's count when a Bind or Close was sent.
	portalsForgotten uint64
	// refusal is the proxy's error for pendRefusal.
	refusal *fault.Error
	// query is the state of a simple query.
	query *queryState
	// ev is the audit event of an Execute.
	ev    *proxy.StatementEvent
	start time.Time
	// target is 'S' or 'P' for a Close.
	target byte
	// paramDescSeen is set once a statement Describe's ParameterDescription arrived.
	paramDescSeen bool
	// answered is set at the request's first response message; outStart
	// is then the count of bytes written to the client, from which the
	// bytes of its statements are counted.
	answered bool
	outStart int64
}

// queryState follows the results of one simple query.
type queryState struct {
	v     *rules.Verdict
	evs   []*proxy.StatementEvent
	start time.Time
	// idx is the statement whose results are arriving.
	idx int
	// cols is that statement's RowDescription (decoded only when masking).
	cols []column
	rows int64
	// outMark is the count of bytes written to the client when that
	// statement's response began.
	outMark int64
}

// run is the message loop. It ends on Terminate, on a connection error, on
// a protocol violation or when ctx is cancelled while the session is idle.
func (s *session) run(ctx context.Context) {
	for {
		if ctx.Err() != nil && s.queued() == 0 {
			s.fatal(fault.New(fault.ShuttingDown, "dbfence: the proxy is shutting down"))
			return
		}
		typ, body, err := s.client.readMessage()
		if err != nil {
			switch {
			case errors.Is(err, errMessageTooLarge):
				s.fatal(fault.New(fault.PacketTooLarge, "dbfence: message larger than the limit (%d bytes)", s.e.cfg.MaxMessage))
			case errors.Is(err, errMalformed):
				s.fatal(fault.Wrap(fault.ProtocolViolation, err, "dbfence: invalid message length"))
			case ctx.Err() != nil && s.queued() == 0:
				s.fatal(fault.New(fault.ShuttingDown, "dbfence: the proxy is shutting down"))
			case !isQuietEnd(err):
				s.log.Debug("client read failed", zap.Error(err))
			}
			if s.queued() > 0 {
				s.cancelBackend()
			}
			return
		}
		s.ps.SetBusy(true)
		start := time.Now()
		keep, err := s.dispatch(typ, body)
		s.e.m.commands[typ].latency.Observe(time.Since(start).Seconds())
		if s.queued() == 0 {
			s.ps.SetBusy(false)
		}
		if err != nil {
			s.endOnError(err)
			return
		}
		if !keep {
			return
		}
	}
}

// dispatch handles one client message. It returns keep=false when the
// session ends normally (Terminate) and an error when it ends on a failure.
// Every message type is handled on purpose: decided, relayed, or refused.
func (s *session) dispatch(typ byte, body []byte) (keep bool, err error) {
	if s.clientSkip {
		switch typ {
		case msgSync, msgFlush, msgTerminate:
		case msgQuery, msgParse, msgBind, msgDescribe, msgExecute, msgClose, msgFunctionCall,
			msgCopyData, msgCopyDone, msgCopyFail:
			// Dropped, as the backend drops them after an error.
			return true, nil
		default:
			return false, s.violation("dbfence: unknown message type %q", typ)
		}
	}
	switch typ {
	case msgQuery:
		return true, s.handleQuery(body)
	case msgParse:
		return true, s.drainLongPipeline(s.handleParse(body))
	case msgBind:
		return true, s.drainLongPipeline(s.handleBind(body))
	case msgDescribe:
		return true, s.drainLongPipeline(s.handleDescribe(body))
	case msgExecute:
		return true, s.drainLongPipeline(s.handleExecute(body))
	case msgClose:
		return true, s.drainLongPipeline(s.handleClose(body))
	case msgSync:
		s.clientSkip = false
		if err := s.toBackend(msgSync, nil); err != nil {
			return false, err
		}
		if err := s.enqueue(pending{kind: pendSync}); err != nil {
			return false, err
		}
		return true, s.flushAndDrain()
	case msgFlush:
		if err := s.toBackend(msgFlush, nil); err != nil {
			return false, err
		}
		return true, s.flushAndDrain()
	case msgTerminate:
		s.terminated = true
		_ = s.toBackend(msgTerminate, nil)
		_ = s.backend.flush()
		return false, nil
	case msgFunctionCall:
		s.e.m.commands[typ].denied.Inc()
		return true, s.refuseSimple(fault.New(fault.UnsupportedCommand,
			"dbfence: the FunctionCall message is not supported through the proxy; call the function in a query"))
	case msgCopyData, msgCopyDone, msgCopyFail:
		// Outside COPY the backend ignores these; so does the proxy.
		return true, nil
	case msgPassword:
		return false, s.violation("dbfence: unexpected password message")
	}
	return false, s.violation("dbfence: unknown message type %q", typ)
}

// drainEvery is the number of requests awaiting a response after which the
// proxy sends its own Flush and relays what the backend has answered, so a
// client that pipelines many messages before Sync while reading responses
// (pgx batches, libpq pipeline mode) never stalls against full socket buffers.
const drainEvery = 256

// drainLongPipeline relays the responses so far once drainEvery requests
// are waiting (err is the handler's result, passed through).
func (s *session) drainLongPipeline(err error) error {
	if err != nil || s.queued() < drainEvery {
		return err
	}
	if err := s.toBackend(msgFlush, nil); err != nil {
		return err
	}
	return s.flushAndDrain()
}

func (s *session) violation(format string, args ...any) *fault.Error {
	return fault.New(fault.ProtocolViolation, format, args...)
}

// enqueue records a request whose response will be matched in order.
func (s *session) enqueue(p pending) error {
	if len(s.queue)-s.qh >= s.e.cfg.MaxPipeline {
		return fault.New(fault.ProtocolViolation, "dbfence: more than %d messages pipelined without Sync", s.e.cfg.MaxPipeline)
	}
	if p.kind == pendSync || p.kind == pendQuery {
		s.segSent++
	}
	s.queue = append(s.queue, p)
	return nil
}

// refuseSimple answers a Query or FunctionCall with an error and
// ReadyForQuery, sending nothing to the backend.
func (s *session) refuseSimple(fe *fault.Error) error {
	if s.queued() > 0 {
		return s.violation("dbfence: simple query while extended-protocol messages await Sync")
	}
	s.e.m.proxyError(fe.Kind.String())
	s.out = appendError(s.out[:0], "ERROR", fe)
	s.out = appendReadyForQuery(s.out, s.txStatus)
	if err := s.toClientRaw(s.out); err != nil {
		return err
	}
	return s.flushClient()
}

// refuseExtended refuses one extended-protocol message: the marker Bind
// makes the backend fail at the same point of the pipeline, its error is
// replaced by fe, and the client's messages are dropped until Sync.
func (s *session) refuseExtended(fe *fault.Error) error {
	if err := s.toBackend(msgBind, markerBind); err != nil {
		return err
	}
	s.clientSkip = true
	return s.enqueue(pending{kind: pendRefusal, refusal: fe})
}

// newEvent starts the audit event of one statement.
func (s *session) newEvent(command string, start time.Time) *proxy.StatementEvent {
	s.statementSeq++
	return &proxy.StatementEvent{
		Protocol: protocolName, SessionID: s.ps.ID, StatementID: s.statementSeq, User: s.rs.User,
		ClientAddr: s.clientAddr, Database: s.rs.Database, Command: command, Start: start,
	}
}

// auditRefusal records a refused text (approvalID names the request filed for it, if any).
func (s *session) auditRefusal(typ byte, command string, start time.Time, v *rules.Verdict, approvalID string, literals []string) {
	ev := s.newEvent(command, start)
	ev.ApprovalID = approvalID
	ev.Literals = literals
	for i := range v.Statements {
		if v.Statements[i].Outcome != rules.Allow {
			ev.ApplyVerdict(&v.Statements[i])
			break
		}
	}
	if ev.Decision == "" {
		ev.Decision = rules.Deny.String()
		ev.Reason = v.Refusal.Message
	}
	ev.ErrorCode = v.Refusal.Kind.PostgresState()
	ev.Duration = time.Since(start)
	if err := s.e.cfg.Audit.Statement(ev); err != nil {
		s.log.Error("audit record of a refusal failed", zap.Error(err))
	}
	s.e.m.commands[typ].denied.Inc()
	s.log.Info("statement refused", zap.String("kind", ev.Kind), zap.String("rule", ev.Rule), zap.String("reason", v.Refusal.Message))
}

// auditStatement records a statement about to be forwarded. An error (strict
// audit could not make the record durable) refuses it.
func (s *session) auditStatement(command string, start time.Time, sv *rules.StatementVerdict, approvalID string, literals []string) (*proxy.StatementEvent, *fault.Error) {
	ev := s.newEvent(command, start)
	ev.ApplyVerdict(sv)
	ev.ApprovalID = approvalID
	ev.Literals = literals
	if err := s.e.cfg.Audit.Statement(ev); err != nil {
		s.log.Error("audit unavailable; statement refused", zap.Error(err))
		return nil, fault.Wrap(fault.AuditUnavailable, err, "dbfence: the audit log cannot be written; statements are refused until it recovers")
	}
	return ev, nil
}

// notePlan marks the session restricted when a plan treats its results.
func (s *session) notePlan(sv *rules.StatementVerdict) {
	if sv == nil || s.restricted {
		return
	}
	if sv.RowCap > 0 {
		s.restricted = true
	}
	for _, c := range sv.Columns {
		if c.Masker != nil {
			s.restricted = true
		}
	}
}

// forwardText checks a verdict's Forward text can travel in a C string.
func forwardText(v *rules.Verdict) *fault.Error {
	if strings.IndexByte(v.Forward, 0) >= 0 {
		return fault.New(fault.Internal, "dbfence: the statement cannot be forwarded")
	}
	return nil
}

func (s *session) handleQuery(body []byte) error {
	q, ok := decodeQuery(body)
	if !ok {
		return s.violation("dbfence: malformed Query message")
	}
	if s.queued() > 0 {
		return s.violation("dbfence: simple query while extended-protocol messages await Sync")
	}
	start := time.Now()
	if err := s.ensureSearchPath(); err != nil {
		return err
	}
	v := s.e.cfg.Gate.CheckPostgres(&s.rs, string(q))
	refuseUncappable(v, false, s.txStatus)
	approvalID := ""
	if v.Refusal != nil && v.Approval != nil && s.e.cfg.Approvals != nil {
		v, approvalID = proxy.ApplyApproval(s.e.cfg.Approvals, s.rs.User, s.rs.Database, v, s.log)
	}
	if v.Refusal == nil {
		v.Refusal = forwardText(v)
	}
	if v.Refusal == nil {
		v.Refusal = s.fetchesPortal(v)
	}
	if v.Refusal == nil {
		// Exact lookups on hidden columns are charged to the rolling budget
		// before they run: each is a guess, whatever the result shows.
		v.Refusal = s.e.cfg.Budgets.ChargeLookups(s.rs.User, v)
	}
	if v.Refusal != nil {
		s.auditRefusal(msgQuery, "query", start, v, approvalID, v.Literals)
		return s.refuseSimple(v.Refusal)
	}
	if v.Restricted {
		s.restricted, s.ruled = true, true
	}
	proxy.NoteMonitor(s.e.m.all, s.log, protocolName, v)
	qs := &queryState{v: v, start: start, evs: make([]*proxy.StatementEvent, len(v.Statements))}
	for i := range v.Statements {
		var literals []string
		if i == 0 {
			// The constants of the whole text go with its first statement.
			literals = v.Literals
		}
		ev, fe := s.auditStatement("query", start, &v.Statements[i], approvalID, literals)
		if fe != nil {
			// The statements recorded before are not forwarded either.
			s.notForwarded(fe, qs.evs[:i]...)
			return s.refuseSimple(fe)
		}
		qs.evs[i] = ev
		s.notePlan(&v.Statements[i])
		s.noteSessionChange(&v.Statements[i])
		s.noteNameChange(&v.Statements[i])
		s.noteCursorSent(&v.Statements[i])
	}
	if len(v.Statements) == 1 && v.Statements[0].ModifyCap > 0 {
		return s.runCapped(v, qs.evs[0], start)
	}
	s.out = append(append(s.out[:0], v.Forward...), 0)
	if err := s.toBackend(msgQuery, s.out); err != nil {
		s.interrupted(qs.evs...)
		return err
	}
	if err := s.enqueue(pending{kind: pendQuery, query: qs, start: start}); err != nil {
		s.interrupted(qs.evs...)
		return err
	}
	return s.flushAndDrain()
}

// planOf is the plan of a one-statement verdict. A verdict with no
// statement (empty text) gets a plan of zero columns: any result it
// unexpectedly returns is refused.
func planOf(v *rules.Verdict) *rules.StatementVerdict {
	if len(v.Statements) == 0 {
		return &rules.StatementVerdict{Kind: "empty", Outcome: rules.Allow, Columns: []rules.ColumnPlan{}}
	}
	return &v.Statements[0]
}

func (s *session) handleParse(body []byte) error {
	pm, ok := decodeParse(body)
	if !ok {
		return s.violation("dbfence: malformed Parse message")
	}
	name := string(pm.name)
	start := time.Now()
	if err := s.ensureSearchPath(); err != nil {
		return err
	}
	v := s.e.cfg.Gate.CheckPostgres(&s.rs, string(pm.query))
	refuseUncappable(v, true, s.txStatus)
	approvalID := ""
	if v.Refusal != nil && v.Approval != nil && s.e.cfg.Approvals != nil {
		// An approval is used when the statement is prepared: drivers
		// prepare (unnamed) statements for each run.
		v, approvalID = proxy.ApplyApproval(s.e.cfg.Approvals, s.rs.User, s.rs.Database, v, s.log)
	}
	if v.Refusal == nil && len(v.Statements) > 1 {
		v.Refusal = fault.New(fault.ParseError, "dbfence: a prepared statement must hold exactly one statement")
	}
	if v.Refusal == nil && name == markerStatement {
		v.Refusal = fault.New(fault.StatementDenied, "dbfence: the statement name %q is reserved", markerStatement)
	}
	if v.Refusal == nil {
		v.Refusal = forwardText(v)
	}
	if v.Refusal != nil {
		s.auditRefusal(msgParse, "prepare", start, v, approvalID, v.Literals)
		s.e.m.proxyError(v.Refusal.Kind.String())
		return s.refuseExtended(v.Refusal)
	}
	s.out = append(s.out[:0], pm.name...)
	s.out = append(s.out, 0)
	s.out = append(append(s.out, v.Forward...), 0)
	s.out = append(s.out, pm.rest...)
	if err := s.toBackend(msgParse, s.out); err != nil {
		return err
	}
	if v.Restricted {
		s.restricted, s.ruled = true, true
	}
	proxy.NoteMonitor(s.e.m.all, s.log, protocolName, v)
	st := &stmtState{plan: planOf(v), approvalID: approvalID, gen: s.nameGen, literals: v.Literals}
	s.notePlan(st.plan)
	s.noteSessionChange(st.plan)
	prev, had := s.stmts[name]
	s.stmts[name] = st
	return s.enqueue(pending{kind: pendParse, name: name, stmt: st, prevStmt: prev, hadPrev: had, start: start})
}

func (s *session) handleBind(body []byte) error {
	bm, ok := decodeBind(body)
	if !ok {
		return s.violation("dbfence: malformed Bind message")
	}
	st, ok := s.stmts[string(bm.stmt)]
	if !ok {
		fe := fault.New(fault.StatementDenied, "dbfence: prepared statement %q was not prepared through the protocol; prepare it with a Parse message", bm.stmt)
		s.e.m.commands[msgBind].denied.Inc()
		s.e.m.proxyError(fe.Kind.String())
		return s.refuseExtended(fe)
	}
	if s.ruled && st.gen < s.nameGen {
		fe := fault.New(fault.StatementDenied, "dbfence: prepared statement %q was prepared before a DEALLOCATE, DISCARD or PREPARE sent by SQL; prepare it again", bm.stmt)
		s.e.m.commands[msgBind].denied.Inc()
		return s.refuseExtended(fe)
	}
	if st.approvalID != "" {
		// One approval use is one run: a statement prepared under it is
		// bound once.
		if st.approvalBound {
			fe := fault.New(fault.ApprovalRequired, "dbfence: approval required: request %s was used by an earlier run of this prepared statement; prepare it again to use another approval", st.approvalID)
			s.e.m.commands[msgBind].denied.Inc()
			return s.refuseExtended(fe)
		}
		st.approvalBound = true
	}
	if err := s.toBackend(msgBind, body); err != nil {
		return err
	}
	name := string(bm.portal)
	// The portal takes the name from any SQL cursor of that name.
	delete(s.rs.Cursors, name)
	p := &portalState{plan: st.plan, approvalID: st.approvalID, formats: bm.resultFormats, seg: s.segSent,
		literals: st.literals}
	if bm.numParams > 0 {
		p.literals = appendBindLiterals(slices.Clip(st.literals), &bm)
	}
	prev, had := s.portals[name]
	s.portals[name] = p
	return s.enqueue(pending{kind: pendBind, name: name, portal: p, prevPortal: prev, hadPrev: had, portalsForgotten: s.portalsForgotten})
}

func (s *session) handleDescribe(body []byte) error {
	kind, nameB, ok := decodeTarget(body)
	if !ok {
		return s.violation("dbfence: malformed Describe message")
	}
	if err := s.toBackend(msgDescribe, body); err != nil {
		return err
	}
	name := string(nameB)
	if kind == 'S' {
		return s.enqueue(pending{kind: pendDescribeStmt, name: name, stmt: s.stmts[name]})
	}
	p := s.portals[name]
	if p != nil {
		p.described = true
	}
	return s.enqueue(pending{kind: pendDescribePortal, name: name, portal: p})
}

func (s *session) handleExecute(body []byte) error {
	nameB, _, ok := decodeExecute(body)
	if !ok {
		return s.violation("dbfence: malformed Execute message")
	}
	name := string(nameB)
	p := s.portals[name]
	if p == nil {
		fe := fault.New(fault.StatementDenied, "dbfence: portal %q was not bound through the protocol; use Bind (cursors are read with FETCH)", name)
		s.e.m.commands[msgExecute].denied.Inc()
		s.e.m.proxyError(fe.Kind.String())
		return s.refuseExtended(fe)
	}
	start := time.Now()
	if fe := s.resolvePortalFetch(p); fe != nil {
		s.auditRefusal(msgExecute, "execute", start, &rules.Verdict{Statements: []rules.StatementVerdict{*p.plan}, Refusal: fe}, p.approvalID, p.literals)
		s.e.m.commands[msgExecute].denied.Inc()
		return s.refuseExtended(fe)
	}
	if p.plan != nil && !p.charged {
		// Once per portal: a suspended portal's later Executes continue the same run.
		p.charged = true
		if fe := s.e.cfg.Budgets.ChargeLookups(s.rs.User, &rules.Verdict{Statements: []rules.StatementVerdict{*p.plan}}); fe != nil {
			s.auditRefusal(msgExecute, "execute", start, &rules.Verdict{Statements: []rules.StatementVerdict{*p.plan}, Refusal: fe}, p.approvalID, p.literals)
			return s.refuseExtended(fe)
		}
	}
	ev, fe := s.auditStatement("execute", start, p.plan, p.approvalID, p.literals)
	// A portal's later Executes continue the same run: the values bound to
	// it are in the first one's record, and are not written again.
	p.literals = nil
	if fe != nil {
		s.e.m.proxyError(fe.Kind.String())
		return s.refuseExtended(fe)
	}
	if p.plan != nil && p.plan.Columns != nil && !p.described {
		// The rows' types and formats are needed to mask them: ask the
		// backend for the portal's description first, without relaying it.
		p.described = true
		s.out = append(append(s.out[:0], 'P'), nameB...)
		s.out = append(s.out, 0)
		if err := s.toBackend(msgDescribe, s.out); err != nil {
			s.interrupted(ev)
			return err
		}
		if err := s.enqueue(pending{kind: pendInjectedDescribe, name: name, portal: p}); err != nil {
			s.interrupted(ev)
			return err
		}
	}
	s.noteSessionChange(p.plan)
	s.noteNameChange(p.plan)
	s.noteCursorSent(p.plan)
	if err := s.toBackend(msgExecute, body); err != nil {
		s.interrupted(ev)
		return err
	}
	if err := s.enqueue(pending{kind: pendExecute, name: name, portal: p, ev: ev, start: start}); err != nil {
		s.interrupted(ev)
		return err
	}
	return nil
}

func (s *session) handleClose(body []byte) error {
	kind, nameB, ok := decodeTarget(body)
	if !ok {
		return s.violation("dbfence: malformed Close message")
	}
	if err := s.toBackend(msgClose, body); err != nil {
		return err
	}
	name := string(nameB)
	pd := pending{kind: pendClose, name: name, target: kind, portalsForgotten: s.portalsForgotten}
	if kind == 'S' {
		pd.prevStmt, pd.hadPrev = s.stmts[name]
		delete(s.stmts, name)
	} else {
		pd.prevPortal, pd.hadPrev = s.portals[name]
		delete(s.portals, name)
		// Portals and SQL cursors share one namespace: this closes a
		// cursor of that name too.
		delete(s.rs.Cursors, name)
	}
	return s.enqueue(pd)
}

// restore undoes what the request at the head of the queue did to the
// statement or portal maps, when the backend failed or skipped it. When a
// later queued request already replaced the entry, that request's notion of
// "before" is corrected instead, so a chain of failures unwinds to what the
// backend really holds.
func (s *session) restore(p *pending) {
	switch p.kind {
	case pendParse:
		undo(s.stmts, s.queue[s.qh+1:], p, true, p.stmt, p.prevStmt, func(q *pending) **stmtState { return &q.prevStmt })
	case pendBind:
		if s.portalsForgotten != p.portalsForgotten {
			s.forgetFailedBind(p)
			return
		}
		undo(s.portals, s.queue[s.qh+1:], p, true, p.portal, p.prevPortal, func(q *pending) **portalState { return &q.prevPortal })
	case pendClose:
		if p.target == 'S' {
			undo(s.stmts, s.queue[s.qh+1:], p, false, nil, p.prevStmt, func(q *pending) **stmtState { return &q.prevStmt })
		} else if s.portalsForgotten == p.portalsForgotten {
			undo(s.portals, s.queue[s.qh+1:], p, false, nil, p.prevPortal, func(q *pending) **portalState { return &q.prevPortal })
		}
		// Otherwise SQL sent since may have closed or replaced the portal
		// the failed Close left open: it stays forgotten.
	}
}

// undo puts m[p.name] back to before (absent when !p.hadPrev) if it still
// holds what p put there (after; absent when !afterHas); otherwise it hands
// p's "before" to the later request whose "before" was p's "after".
func undo[T any](m map[string]*T, later []pending, p *pending, afterHas bool, after, before *T, prevOf func(*pending) **T) {
	cur, has := m[p.name]
	if has == afterHas && cur == after {
		if p.hadPrev {
			m[p.name] = before
		} else {
			delete(m, p.name)
		}
		return
	}
	for j := range later {
		q := &later[j]
		if q.name != p.name || !sameMap(p, q) {
			continue
		}
		if pp := prevOf(q); q.hadPrev == afterHas && *pp == after {
			*pp, q.hadPrev = before, p.hadPrev
			return
		}
	}
}

// sameMap reports whether two requests change the same map.
func sameMap(p, q *pending) bool {
	return mapOf(p) != 0 && mapOf(p) == mapOf(q)
}

func mapOf(p *pending) byte {
	switch p.kind {
	case pendParse:
		return 'S'
	case pendBind:
		return 'P'
	case pendClose:
		return p.target
	}
	return 0
}

// noteNameChange starts a new generation of prepared statement names when a
// statement that can change what a name stands for on the backend is sent
// (not when it completes: Binds pipelined behind it are decided first).
func (s *session) noteNameChange(sv *rules.StatementVerdict) {
	if sv == nil {
		return
	}
	switch sv.Kind {
	case "deallocate", "discard", "prepare":
		s.nameGen++
	}
}
