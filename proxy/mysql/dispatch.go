package mysql

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	gm "github.com/go-mysql-org/go-mysql/mysql"
	"go.uber.org/zap"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/proxy"
	"github.com/dbfence/dbfence/rules"
)

// dispatch handles one client command. It returns keep=false when the
// session must end normally (COM_QUIT) and an error when it must end on a
// failure. Every command byte is handled on purpose: relayed, decided,
// or refused.
func (s *session) dispatch(cmd byte, pkt []byte) (keep bool, err error) {
	switch cmd {
	case gm.COM_QUIT:
		s.closedByClient = true
		s.backend.seq = 0
		_ = s.toBackend(pkt)
		_ = s.flushBackend()
		return false, nil
	case gm.COM_QUERY:
		return true, s.handleQuery(pkt)
	case gm.COM_STMT_PREPARE:
		return true, s.handlePrepare(pkt)
	case gm.COM_STMT_EXECUTE:
		return true, s.handleExecute(pkt)
	case gm.COM_STMT_FETCH:
		return true, s.handleFetch(pkt)
	case gm.COM_STMT_SEND_LONG_DATA:
		// No response. The execution's audit record notes the parameter.
		if st := s.stmtFor(pkt); st != nil && len(pkt) >= 7 {
			if st.longData == nil {
				st.longData = map[uint16]bool{}
			}
			st.longData[binary.LittleEndian.Uint16(pkt[5:7])] = true
		}
		return true, s.forwardNoResponse(pkt)
	case gm.COM_STMT_CLOSE:
		if len(pkt) >= 5 {
			delete(s.stmts, binary.LittleEndian.Uint32(pkt[1:5]))
		}
		return true, s.forwardNoResponse(pkt)
	case gm.COM_STMT_RESET:
		if st := s.stmtFor(pkt); st != nil {
			st.cursorOpen = false
			st.rowsSent = 0
		}
		return true, s.forwardSimple(cmd, pkt)
	case gm.COM_INIT_DB:
		return true, s.handleInitDB(pkt)
	case gm.COM_PING, gm.COM_STATISTICS, gm.COM_PROCESS_KILL, gm.COM_SET_OPTION:
		return true, s.forwardSimple(cmd, pkt)
	case gm.COM_RESET_CONNECTION:
		if err := s.forwardSimple(cmd, pkt); err != nil {
			return false, err
		}
		s.stmts = make(map[uint32]*preparedStmt)
		return true, s.refreshAfter()
	case gm.COM_FIELD_LIST:
		return true, s.handleFieldList(pkt)
	case gm.COM_CHANGE_USER:
		return s.handleChangeUser(pkt)
	case gm.COM_BINLOG_DUMP, gm.COM_BINLOG_DUMP_GTID, gm.COM_REGISTER_SLAVE, gm.COM_TABLE_DUMP:
		s.e.m.commands[cmd].denied.Inc()
		return true, s.refuse(fault.New(fault.UnsupportedCommand,
			"dbfence: replication (binlog dump, replica registration) is not served through the proxy; connect replicas to the database directly"))
	}
	s.e.m.commands[cmd].denied.Inc()
	return true, s.refuse(fault.New(fault.UnsupportedCommand,
		"dbfence: command 0x%02x (%s) is not supported through the proxy", cmd, commandName(cmd)))
}

// refuse answers the current command with a proxy error.
func (s *session) refuse(fe *fault.Error) error {
	s.e.m.proxyError(fe.Kind.String())
	s.rowBuf = appendErr(s.rowBuf[:0], fe)
	if err := s.toClient(s.rowBuf); err != nil {
		return err
	}
	return s.flushClient()
}

func (s *session) forwardNoResponse(pkt []byte) error {
	s.backend.seq = 0
	if err := s.toBackend(pkt); err != nil {
		return err
	}
	return s.flushBackend()
}

// forwardSimple relays a command whose response is one packet (OK, ERR, EOF
// or, for COM_STATISTICS, a status string).
func (s *session) forwardSimple(cmd byte, pkt []byte) error {
	if err := s.forwardNoResponse(pkt); err != nil {
		return err
	}
	p, err := s.fromBackend()
	if err != nil {
		return err
	}
	if p[0] == hdrErr {
		s.e.m.commands[cmd].failed.Inc()
	} else {
		s.e.m.commands[cmd].ok.Inc()
	}
	if err := s.toClient(p); err != nil {
		return err
	}
	return s.flushClient()
}

// newEvent starts the audit event of one statement.
func (s *session) newEvent(command string, start time.Time) *proxy.StatementEvent {
	s.statementSeq++
	return &proxy.StatementEvent{
		Protocol: protocolName, SessionID: s.ps.ID, StatementID: s.statementSeq, User: s.rs.User,
		ClientAddr: s.clientAddr, Database: s.rs.Database, Command: command, Start: start,
	}
}

// auditRefusal records and answers a refused text.
func (s *session) auditRefusal(cmd byte, command string, start time.Time, v *rules.Verdict, approvalID string) error {
	ev := s.newEvent(command, start)
	ev.ApprovalID = approvalID
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
	ev.Literals = v.Literals
	code, _ := v.Refusal.Kind.MySQL()
	ev.ErrorCode = strconv.Itoa(int(code))
	ev.Duration = time.Since(start)
	if err := s.e.cfg.Audit.Statement(ev); err != nil {
		s.log.Error("audit record of a refusal failed", zap.Error(err))
	}
	s.e.m.commands[cmd].denied.Inc()
	s.log.Info("statement refused", zap.String("kind", ev.Kind), zap.String("rule", ev.Rule), zap.String("reason", v.Refusal.Message))
	return s.refuse(v.Refusal)
}

// auditBeforeForward records the statements about to be forwarded. An error
// (strict audit could not make the record durable) refuses them.
func (s *session) auditBeforeForward(command string, start time.Time, v *rules.Verdict) ([]*proxy.StatementEvent, *fault.Error) {
	s.noteMonitor(v)
	s.open = s.open[:0]
	for i := range v.Statements {
		ev := s.newEvent(command, start)
		ev.ApplyVerdict(&v.Statements[i])
		if i == 0 {
			// The literals of the whole text go with its first statement.
			ev.Literals = v.Literals
		}
		if err := s.e.cfg.Audit.Statement(ev); err != nil {
			s.log.Error("audit unavailable; statement refused", zap.Error(err))
			fe := fault.Wrap(fault.AuditUnavailable, err, "dbfence: the audit log cannot be written; statements are refused until it recovers")
			// The statements recorded before are not forwarded either.
			code, _ := fe.Kind.MySQL()
			for _, ev := range s.open {
				ev.ErrorCode = strconv.Itoa(int(code))
			}
			s.finishOpen()
			return nil, fe
		}
		s.open = append(s.open, ev)
	}
	return s.open, nil
}

// finishOpen records the outcomes of the open statements.
func (s *session) finishOpen() {
	for i, ev := range s.open {
		s.e.cfg.Audit.StatementDone(ev)
		s.open[i] = nil
	}
	s.open = s.open[:0]
}

// interruptOpen records the open statements as interrupted when their
// exchange broke off (client gone, backend lost, proxy failure) before
// their outcome was known: whatever happens, a forwarded statement has an
// outcome in the audit log. Rows are those relayed so far; the bytes sent
// so far are counted on the last statement.
func (s *session) interruptOpen() {
	if len(s.open) == 0 {
		return
	}
	for _, ev := range s.open {
		if ev.ErrorCode == "" {
			ev.ErrorCode = "interrupted"
		}
		ev.Duration = time.Since(ev.Start)
	}
	s.open[len(s.open)-1].Bytes = int64(s.client.bytesOut)
	s.finishOpen()
}

// planAt returns the plan for the i-th result of a text. Results beyond the
// statements (stored procedures return several) take the last statement's
// plan only when it needs no treatment; otherwise the result is refused.
func planAt(v *rules.Verdict, i int) (*rules.StatementVerdict, bool) {
	if i < len(v.Statements) {
		return &v.Statements[i], true
	}
	if len(v.Statements) == 0 {
		return nil, false
	}
	last := &v.Statements[len(v.Statements)-1]
	if last.Columns == nil && last.RowCap == 0 {
		return last, true
	}
	return nil, false
}

func (s *session) handleQuery(pkt []byte) error {
	start := time.Now()
	v := s.e.cfg.Gate.CheckMySQL(&s.rs, string(pkt[1:]))
	approvalID := ""
	if v.Refusal != nil && v.Approval != nil && s.e.cfg.Approvals != nil {
		v, approvalID = proxy.ApplyApproval(s.e.cfg.Approvals, s.rs.User, s.rs.Database, v, s.log)
	}
	if v.Refusal == nil && len(v.Statements) > 1 && cappedModification(v) {
		// The cap is enforced around one statement at a time.
		v = refusedCopy(v, fault.New(fault.StatementDenied,
			"dbfence: an UPDATE or DELETE your role may only run under a row cap must be sent on its own, not with other statements"))
	}
	if v.Refusal == nil {
		// Exact lookups on hidden columns are charged to the rolling budget
		// before they run: each is a guess, whatever the result shows.
		if fe := s.e.cfg.Budgets.ChargeLookups(s.rs.User, v); fe != nil {
			v = refusedCopy(v, fe)
		}
	}
	if v.Refusal != nil {
		return s.auditRefusal(gm.COM_QUERY, "query", start, v, approvalID)
	}
	evs, fe := s.auditBeforeForward("query", start, v)
	if fe != nil {
		return s.refuse(fe)
	}
	if approvalID != "" {
		for _, ev := range evs {
			ev.ApprovalID = approvalID
		}
	}
	if len(v.Statements) == 1 && v.Statements[0].ModifyCap > 0 && !v.Statements[0].Monitor {
		return s.runCappedModification(v, evs[0], start)
	}
	if err := s.sendCommand(gm.COM_QUERY, v.Forward); err != nil {
		return err
	}
	aborted := false
	changes := false
	var rs resultState
	for i := 0; ; i++ {
		plan, ok := planAt(v, i)
		if !ok {
			s.abort(&aborted, fault.New(fault.ResultMismatch, "dbfence: the server returned more results than statements; result refused"))
		}
		rs = resultState{plan: plan, cols: rs.cols[:0], restricted: v.Restricted}
		more, err := s.relayResult(&rs, &aborted)
		if i < len(evs) {
			evs[i].Rows = rs.rows
			evs[i].Duration = time.Since(start)
			if aborted {
				evs[i].ErrorCode = "aborted"
			}
		}
		if err != nil {
			return err
		}
		if plan != nil && plan.ChangesSession {
			changes = true
		}
		if plan != nil && plan.ChangesCatalog && s.e.cfg.OnSchemaChange != nil {
			s.e.cfg.OnSchemaChange()
		}
		if !more {
			break
		}
	}
	if aborted {
		s.e.m.commands[gm.COM_QUERY].failed.Inc()
	} else {
		s.e.m.commands[gm.COM_QUERY].ok.Inc()
	}
	if len(evs) > 0 {
		// Bytes of a multi-statement response are counted on its last statement.
		evs[len(evs)-1].Bytes = int64(s.client.bytesOut)
	}
	err := s.flushClient()
	// Outcomes are recorded after the response left, so that recording them
	// adds no latency; a client that vanished still gets its statement's
	// outcome in the log.
	s.finishOpen()
	if err != nil {
		return err
	}
	if changes {
		return s.refreshAfter()
	}
	return nil
}

// refreshAfter re-reads session state after a statement that may have
// changed it. Failing to learn the state leaves the session unsafe to
// analyse, so the session ends.
func (s *session) refreshAfter() error {
	if err := s.refreshSessionState(); err != nil {
		return backendError{fmt.Errorf("re-reading session state: %w", err)}
	}
	return nil
}

func (s *session) stmtFor(pkt []byte) *preparedStmt {
	if len(pkt) < 5 {
		return nil
	}
	id := binary.LittleEndian.Uint32(pkt[1:5])
	if id == 0xffffffff {
		id = s.lastStmtID
	}
	return s.stmts[id]
}

func (s *session) handlePrepare(pkt []byte) error {
	start := time.Now()
	v := s.e.cfg.Gate.CheckMySQL(&s.rs, string(pkt[1:]))
	if v.Refusal == nil && len(v.Statements) != 1 {
		v = refusedCopy(v, fault.New(fault.ParseError, "dbfence: a prepared statement must hold exactly one statement"))
	}
	if v.Refusal == nil && cappedModification(v) {
		// Executions are not wrapped in the cap's transaction: refuse rather
		// than run a capped UPDATE/DELETE uncapped.
		v = refusedCopy(v, fault.New(fault.StatementDenied,
			"dbfence: an UPDATE or DELETE your role may only run under a row cap cannot be prepared; send it as a plain query"))
	}
	if v.Refusal != nil {
		return s.auditRefusal(gm.COM_STMT_PREPARE, "prepare", start, v, "")
	}
	s.noteMonitor(v)
	if err := s.sendCommand(gm.COM_STMT_PREPARE, v.Forward); err != nil {
		return err
	}
	p, err := s.fromBackend()
	if err != nil {
		return err
	}
	if p[0] != hdrOK {
		s.e.m.commands[gm.COM_STMT_PREPARE].failed.Inc()
		if err := s.toClient(s.serverError(p, v.Restricted)); err != nil {
			return err
		}
		return s.flushClient()
	}
	if len(p) < 12 {
		return backendError{errors.New("malformed COM_STMT_PREPARE response")}
	}
	st := &preparedStmt{
		restricted: v.Restricted,
		verdict:    v.Statements[0],
		numCols:    binary.LittleEndian.Uint16(p[5:7]),
		numParams:  binary.LittleEndian.Uint16(p[7:9]),
	}
	id := binary.LittleEndian.Uint32(p[1:5])
	if err := s.toClient(p); err != nil {
		return err
	}
	// Parameter definitions, then column definitions, each followed by EOF.
	for _, n := range []uint16{st.numParams, st.numCols} {
		if n == 0 {
			continue
		}
		for i := 0; i <= int(n); i++ {
			p, err := s.fromBackend()
			if err != nil {
				return err
			}
			if err := s.toClient(p); err != nil {
				return err
			}
		}
	}
	s.stmts[id] = st
	s.lastStmtID = id
	s.e.m.commands[gm.COM_STMT_PREPARE].ok.Inc()
	return s.flushClient()
}

func (s *session) handleExecute(pkt []byte) error {
	start := time.Now()
	st := s.stmtFor(pkt)
	if st == nil || len(pkt) < 10 {
		return s.refuse(fault.New(fault.ProtocolViolation, "dbfence: unknown prepared statement"))
	}
	ev := s.newEvent("execute", start)
	ev.ApplyVerdict(&st.verdict)
	ev.Literals = executeParams(pkt, st)
	clear(st.longData)
	if fe := s.e.cfg.Budgets.ChargeLookups(s.rs.User, &rules.Verdict{Statements: []rules.StatementVerdict{st.verdict}}); fe != nil {
		code, _ := fe.Kind.MySQL()
		ev.Decision, ev.Reason, ev.ErrorCode = rules.Deny.String(), fe.Message, strconv.Itoa(int(code))
		if err := s.e.cfg.Audit.Statement(ev); err != nil {
			s.log.Error("audit record of a refusal failed", zap.Error(err))
		}
		return s.refuse(fe)
	}
	if err := s.e.cfg.Audit.Statement(ev); err != nil {
		s.log.Error("audit unavailable; execution refused", zap.Error(err))
		return s.refuse(fault.Wrap(fault.AuditUnavailable, err, "dbfence: the audit log cannot be written; statements are refused until it recovers"))
	}
	s.open = append(s.open[:0], ev)
	st.cursorOpen = false
	st.rowsSent = 0
	if err := s.forwardNoResponse(pkt); err != nil {
		return err
	}
	aborted := false
	rs := resultState{plan: &st.verdict, binary: true, stmt: st, restricted: st.restricted}
	for {
		more, err := s.relayResult(&rs, &aborted)
		ev.Rows = rs.rows
		if err != nil {
			return err
		}
		if !more {
			break
		}
		if st.verdict.Columns != nil || st.verdict.RowCap != 0 {
			s.abort(&aborted, fault.New(fault.ResultMismatch, "dbfence: the server returned more results than statements; result refused"))
		}
		rs = resultState{plan: &st.verdict, binary: true, stmt: st, cols: rs.cols[:0], restricted: st.restricted}
	}
	ev.Bytes = int64(s.client.bytesOut)
	ev.Duration = time.Since(start)
	if aborted {
		s.e.m.commands[gm.COM_STMT_EXECUTE].failed.Inc()
		ev.ErrorCode = "aborted"
	} else {
		s.e.m.commands[gm.COM_STMT_EXECUTE].ok.Inc()
	}
	err := s.flushClient()
	s.finishOpen()
	if err != nil {
		return err
	}
	if st.verdict.ChangesSession {
		return s.refreshAfter()
	}
	return nil
}

func (s *session) handleFetch(pkt []byte) error {
	st := s.stmtFor(pkt)
	if st == nil || !st.cursorOpen || (st.verdict.Columns != nil && len(st.cols) != len(st.verdict.Columns)) {
		return s.refuse(fault.New(fault.ProtocolViolation, "dbfence: no open cursor for this prepared statement"))
	}
	if err := s.forwardNoResponse(pkt); err != nil {
		return err
	}
	aborted := false
	rs := resultState{plan: &st.verdict, binary: true, stmt: st, cols: st.cols, restricted: st.restricted}
	for _, c := range st.verdict.Columns {
		if c.Masker != nil {
			rs.masked = true
		}
	}
	if _, err := s.relayRows(&rs, &aborted); err != nil {
		return err
	}
	if aborted {
		st.cursorOpen = false
	}
	s.e.m.commands[gm.COM_STMT_FETCH].ok.Inc()
	return s.flushClient()
}

// quoteIdent quotes a MySQL identifier with backticks.
func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

func (s *session) handleInitDB(pkt []byte) error {
	start := time.Now()
	db := string(pkt[1:])
	v := s.e.cfg.Gate.CheckMySQL(&s.rs, "USE "+quoteIdent(db))
	if v.Refusal != nil {
		return s.auditRefusal(gm.COM_INIT_DB, "init_db", start, v, "")
	}
	if err := s.forwardNoResponse(pkt); err != nil {
		return err
	}
	p, err := s.fromBackend()
	if err != nil {
		return err
	}
	if p[0] == hdrOK {
		s.rs.Database = db
		s.e.m.commands[gm.COM_INIT_DB].ok.Inc()
	} else {
		s.e.m.commands[gm.COM_INIT_DB].failed.Inc()
	}
	if err := s.toClient(p); err != nil {
		return err
	}
	return s.flushClient()
}

// handleFieldList decides COM_FIELD_LIST as the SHOW COLUMNS it is, then
// relays the column definitions.
func (s *session) handleFieldList(pkt []byte) error {
	start := time.Now()
	table, _ := readNulString(pkt[1:])
	if table == nil {
		table = pkt[1:]
	}
	v := s.e.cfg.Gate.CheckMySQL(&s.rs, "SHOW COLUMNS FROM "+quoteIdent(string(table)))
	if v.Refusal != nil {
		return s.auditRefusal(gm.COM_FIELD_LIST, "field_list", start, v, "")
	}
	if err := s.forwardNoResponse(pkt); err != nil {
		return err
	}
	for {
		p, err := s.fromBackend()
		if err != nil {
			return err
		}
		if err := s.toClient(p); err != nil {
			return err
		}
		if isEOFPacket(p) || p[0] == hdrErr {
			break
		}
	}
	s.e.m.commands[gm.COM_FIELD_LIST].ok.Inc()
	return s.flushClient()
}

// handleChangeUser relays COM_CHANGE_USER and its authentication exchange.
// The new user must be admitted by the policy first; afterwards every
// statement is decided as the new user, with fresh session state.
func (s *session) handleChangeUser(pkt []byte) (bool, error) {
	cu, err := parseChangeUser(pkt, s.clientCaps)
	if err != nil {
		return false, fault.Wrap(fault.ProtocolViolation, err, "dbfence: malformed COM_CHANGE_USER")
	}
	if fe := s.e.cfg.Gate.Admit(cu.user, s.clientAddr.Addr()); fe != nil {
		s.log.Warn("COM_CHANGE_USER refused by policy", zap.String("new_user", cu.user))
		s.auditConn("auth_fail", fe.Kind.String(), "change user to "+cu.user+": "+fe.Message)
		// The backend session still belongs to the old user; end it rather
		// than leave the client unsure who it is.
		_ = s.refuse(fe)
		return false, nil
	}
	if err := s.forwardNoResponse(pkt); err != nil {
		return false, err
	}
	s.stmts = make(map[uint32]*preparedStmt)
	final, err := s.relayAuth(cu.authPlugin, nil)
	if err != nil {
		return false, backendError{err}
	}
	if final[0] == hdrErr {
		s.auditConn("auth_fail", strconv.Itoa(int(errCode(final))), "change user to "+cu.user)
		if err := s.toClient(final); err != nil {
			return false, err
		}
		// MySQL closes the connection after a failed change user.
		_ = s.flushClient()
		return false, nil
	}
	s.rs.User = cu.user
	s.log = s.log.With(zap.String("changed_user", cu.user))
	if err := s.refreshSessionState(); err != nil {
		return false, backendError{err}
	}
	s.auditConn("auth_ok", "", "change user")
	if err := s.toClient(final); err != nil {
		return false, err
	}
	return true, s.flushClient()
}

// noteMonitor makes monitor-mode decisions visible (proxy.NoteMonitor).
func (s *session) noteMonitor(v *rules.Verdict) {
	proxy.NoteMonitor(s.e.m.all, s.log, protocolName, v)
}

// runCappedModification runs an UPDATE or DELETE of a role with a row cap
// so that it can be undone: inside a transaction the proxy opens (or a
// savepoint, when the client is already in one). When the server reports
// more affected rows than the cap, the change is rolled back and the client
// gets an error; otherwise it is committed (or the savepoint released) and
// the client gets the server's OK.
func (s *session) runCappedModification(v *rules.Verdict, ev *proxy.StatementEvent, start time.Time) error {
	limit := v.Statements[0].ModifyCap
	row, err := s.backendQueryRow("SELECT @@in_transaction")
	if err != nil {
		return backendError{err}
	}
	inTrans := len(row) == 1 && string(row[0]) == "1"
	begin, undo, keep := "BEGIN", "ROLLBACK", "COMMIT"
	if inTrans {
		begin, undo, keep = "SAVEPOINT dbfence_cap", "ROLLBACK TO SAVEPOINT dbfence_cap", "RELEASE SAVEPOINT dbfence_cap"
	}
	if err := s.backendExec(begin); err != nil {
		return err
	}
	if err := s.sendCommand(gm.COM_QUERY, v.Forward); err != nil {
		return err
	}
	p, err := s.fromBackend()
	if err != nil {
		return err
	}
	answer := append([]byte(nil), p...)
	// done records the outcome once the client's answer is written; an
	// exchange that breaks off before is recorded by interruptOpen.
	done := func(err error) error {
		ev.Duration = time.Since(start)
		ev.Bytes = int64(s.client.bytesOut)
		s.finishOpen()
		return err
	}
	info, ok := parseOK(answer)
	if answer[0] != hdrOK || !ok || info.status&statusMoreResults != 0 {
		if err := s.backendExec(undo); err != nil {
			return err
		}
		if answer[0] == hdrErr {
			ev.ErrorCode = strconv.Itoa(int(errCode(answer)))
			s.e.m.commands[gm.COM_QUERY].failed.Inc()
			if err := s.toClient(s.serverError(answer, v.Restricted)); err != nil {
				return done(err)
			}
			return done(s.flushClient())
		}
		return backendError{fmt.Errorf("unexpected answer 0x%02x to a capped modification", answer[0])}
	}
	ev.Rows = int64(info.affectedRows)
	if int64(info.affectedRows) > limit {
		if err := s.backendExec(undo); err != nil {
			return err
		}
		code, _ := fault.RowCapExceeded.MySQL()
		ev.ErrorCode = strconv.Itoa(int(code))
		s.log.Warn("bulk modification rolled back", zap.Uint64("affected", info.affectedRows), zap.Int64("cap", limit))
		return done(s.refuse(fault.New(fault.RowCapExceeded,
			"dbfence: the %s affected %d rows, more than the %d your role may change at once; it was rolled back; an approval is needed",
			strings.ToUpper(v.Statements[0].Kind), info.affectedRows, limit)))
	}
	if err := s.backendExec(keep); err != nil {
		return err
	}
	if !inTrans {
		clearInTrans(answer)
	}
	s.e.m.commands[gm.COM_QUERY].ok.Inc()
	if err := s.toClient(answer); err != nil {
		return done(err)
	}
	return done(s.flushClient())
}

// clearInTrans clears SERVER_STATUS_IN_TRANS in an OK packet: the
// transaction the proxy opened around the statement is already committed.
func clearInTrans(ok []byte) {
	i := 1
	for k := 0; k < 2; k++ {
		_, _, n := readLenEnc(ok[i:])
		if n == 0 {
			return
		}
		i += n
	}
	if i < len(ok) {
		ok[i] &^= 0x01
	}
}

// backendExec runs one of the proxy's own statements that answers OK.
func (s *session) backendExec(sql string) error {
	if err := s.sendCommand(gm.COM_QUERY, sql); err != nil {
		return err
	}
	p, err := s.fromBackend()
	if err != nil {
		return err
	}
	if p[0] != hdrOK {
		return backendError{fmt.Errorf("%s failed: error %d", sql, errCode(p))}
	}
	return nil
}

// sendCommand starts a new exchange with the backend: one command packet
// (sequence 0) holding cmd and text, flushed.
func (s *session) sendCommand(cmd byte, text string) error {
	s.backend.seq = 0
	s.rowBuf = append(append(s.rowBuf[:0], cmd), text...)
	if err := s.toBackend(s.rowBuf); err != nil {
		return err
	}
	return s.flushBackend()
}

// cappedModification reports whether any statement of v is an UPDATE or
// DELETE the proxy must run under a row cap.
func cappedModification(v *rules.Verdict) bool {
	for i := range v.Statements {
		if v.Statements[i].ModifyCap > 0 && !v.Statements[i].Monitor {
			return true
		}
	}
	return false
}

// refusedCopy returns v refused with fe. Verdicts may be shared through the
// rules' cache, so v itself is never changed.
func refusedCopy(v *rules.Verdict, fe *fault.Error) *rules.Verdict {
	out := *v
	out.Forward, out.Refusal = "", fe
	return &out
}
