package postgres

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/proxy"
	"github.com/dbfence/dbfence/rules"
)

// session is one client connection and its dedicated backend connection.
// Everything in it is used by the session's own goroutine only.
type session struct {
	// outcomes are statement events finished since the last flush to the
	// client; they are recorded once the response has left (flushClient),
	// so that recording adds no latency. (The server itself sends a
	// response only at Sync, Flush or the end of a query, so a statement's
	// outcome waits for no more than its own response does.)
	outcomes []*proxy.StatementEvent
	e        *Engine
	ps       *proxy.Session
	log      *zap.Logger

	clientConn  net.Conn
	backendConn net.Conn
	client      *msgConn
	backend     *msgConn
	clientAddr  netip.AddrPort

	// rs is what the rules know of this session.
	rs rules.Session
	// backendKey is the real backend's BackendKeyData; clientKey is the one the
	// client was given (registered in the engine's cancel registry).
	backendKey, clientKey backendKey
	haveKey               bool
	// txStatus is the status of the last ReadyForQuery ('I', 'T' or 'E').
	txStatus byte
	// restricted is set once any verdict carried a masker or a row cap: side
	// channels are then filtered (see Config.RelaySideChannel).
	restricted bool
	// ruled is set once a verdict said the session's role has rules
	// (Verdict.Restricted): its statements were all analysed.
	ruled bool

	// stmts and portals are the plans decided at Parse, by name as the client
	// and the backend know them.
	stmts   map[string]*stmtState
	portals map[string]*portalState
	// portalsForgotten counts the SQL statements sent that may have closed
	// or replaced protocol portals (see noteCursorSent); a Bind or Close
	// that fails after one does not put back the portal it displaced.
	portalsForgotten uint64
	// queue holds, in order, what each expected backend response belongs to.
	// queue[qh:] are the requests awaiting their response.
	queue []pending
	qh    int
	// clientSkip drops client messages until Sync, as the backend does after
	// an error in the extended protocol (set by the proxy's own refusals).
	clientSkip bool
	// backendSkip is set after the backend reported an extended-protocol
	// error: it answers nothing more until Sync.
	backendSkip bool
	// segSent counts Syncs and Queries sent, segDone the ReadyForQuery received.
	segSent, segDone int
	// discard drops backend messages until the next ReadyForQuery (after the
	// proxy aborted a response with its own error).
	discard bool

	// statementSeq numbers statements for audit.
	statementSeq uint64
	// copyOut is the COPY TO STDOUT whose rows are being treated, if any.
	copyOut *copyOutState
	// out, rowBuf and cellBuf are scratch space.
	out, rowBuf, cellBuf []byte
	colScratch           []column
	// nameGen counts SQL statements sent that can change what a prepared
	// statement name stands for on the backend (DEALLOCATE, DISCARD,
	// PREPARE): a restricted session may bind only statements parsed since
	// the last one, because the plan the proxy holds for an older name may
	// no longer be the backend's.
	nameGen uint64
	// setInTx is set when a statement that may change the search_path was
	// forwarded in the current transaction (whose end may undo it).
	setInTx bool
	// terminated is set when the client sent Terminate.
	terminated bool
}

// stmtState is what the proxy keeps per prepared statement.
type stmtState struct {
	// plan is the decision for the statement's single SQL statement (nil: no treatment).
	plan *rules.StatementVerdict
	// approvalID is the approval the statement was prepared under, if any;
	// approvalBound is set once a portal was bound to it (one use, one run).
	approvalID    string
	approvalBound bool
	// gen is the session's nameGen when the statement was parsed.
	gen uint64
	// literals are the constants written in the statement's text, for the
	// audit records of its executions.
	literals []string
}

// portalState is what the proxy keeps per portal.
type portalState struct {
	plan *rules.StatementVerdict
	// approvalID is the approval of the statement the portal was bound to.
	approvalID string
	// charged is set once the portal's lookups were charged to the budget.
	charged bool
	// cursorResolved is set once a FETCH portal's plan was taken from its
	// cursor (at its first Execute).
	cursorResolved bool
	// literals are the statement's constants followed by the parameter
	// values bound, for the audit record.
	literals []string
	// formats are the result formats requested by Bind.
	formats []int16
	// cols are the result columns as a Describe of the portal reported them.
	cols []column
	// seg is the exchange (count of Syncs and Queries sent before it) that bound the portal.
	seg int
	// described is set once a Describe of the portal is on its way.
	described bool
	// rowsSent counts rows sent across Executes, for the row cap.
	rowsSent int64
}

func newSession(e *Engine, c net.Conn, ps *proxy.Session) *session {
	s := &session{
		e:          e,
		ps:         ps,
		clientConn: c,
		stmts:      make(map[string]*stmtState),
		portals:    make(map[string]*portalState),
		txStatus:   'I',
	}
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		s.clientAddr = ap
	}
	s.log = e.cfg.Log.With(zap.Uint64("session", ps.ID), zap.String("client", c.RemoteAddr().String()))
	s.rs.Protocol = rules.ProtocolPostgres
	s.rs.ClientAddr = s.clientAddr.Addr()
	s.rs.Charset = "UTF8"
	return s
}

func (s *session) close() {
	s.interruptQueued()
	s.recordOutcomes() // statements finished or cut off when the session ended
	if s.backend != nil && !s.terminated {
		_ = s.backend.writeMessage(msgTerminate, nil)
		_ = s.backend.flush()
	}
	s.clientConn.Close()
	if s.backendConn != nil {
		s.backendConn.Close()
	}
	if s.haveKey {
		s.e.cancels.remove(s.clientKey.pid)
	}
	if s.client != nil {
		s.e.m.bytesIn.Add(float64(s.client.in))
		s.e.m.bytesOut.Add(float64(s.client.out))
	}
	if s.rs.User != "" {
		s.auditConn("connection_close", "", "")
	}
}

func (s *session) auditConn(typ, code, detail string) {
	s.e.cfg.Audit.Connection(&proxy.ConnectionEvent{
		Type: typ, Protocol: protocolName, SessionID: s.ps.ID, User: s.rs.User, ClientAddr: s.clientAddr,
		Database: s.rs.Database, ErrorCode: code, Detail: detail, Time: time.Now(),
	})
}

// fatal tells the client why the session ends (severity FATAL), best effort.
func (s *session) fatal(fe *fault.Error) {
	s.e.m.proxyError(fe.Kind.String())
	s.out = appendError(s.out[:0], "FATAL", fe)
	// The client may share a deadline that has passed (a backend that did
	// not answer during startup): the error still gets its few seconds.
	_ = s.clientConn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if s.client != nil {
		_ = s.client.writeRaw(s.out)
		_ = s.client.flush()
		return
	}
	_ = s.clientConn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = s.clientConn.Write(s.out)
}

// backendLost is the error for a backend read that failed during phase:
// a timeout says the backend did not answer, anything else that it closed.
func backendLost(err error, phase string, timeout time.Duration) *fault.Error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fault.Wrap(fault.BackendUnavailable, err, fmt.Sprintf("dbfence: backend did not answer within %s during %s", timeout, phase))
	}
	return fault.Wrap(fault.BackendUnavailable, err, "dbfence: backend closed the connection during "+phase)
}

// readStartupPacket reads one length-prefixed startup-phase packet directly
// from the connection (no read-ahead: nothing may be buffered across a TLS
// upgrade). It returns the code and the bytes after it.
func readStartupPacket(c io.Reader) (code uint32, rest []byte, raw []byte, err error) {
	var hdr [8]byte
	if _, err := io.ReadFull(c, hdr[:4]); err != nil {
		return 0, nil, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n < 8 || n > maxStartupLen {
		return 0, nil, nil, fmt.Errorf("%w: startup packet length %d", errMalformed, n)
	}
	raw = make([]byte, n)
	copy(raw, hdr[:4])
	if _, err := io.ReadFull(c, raw[4:]); err != nil {
		return 0, nil, nil, err
	}
	return binary.BigEndian.Uint32(raw[4:8]), raw[8:], raw, nil
}

// startup runs the startup phase: TLS and GSS negotiation, CancelRequest,
// StartupMessage checks, the backend connection and the authentication
// relay, up to the first ReadyForQuery. It returns false when the session
// must end (the client has been told why, where the protocol allows).
func (s *session) startup(ctx context.Context) bool {
	cfg := &s.e.cfg
	deadline := time.Now().Add(cfg.HandshakeTimeout)
	_ = s.clientConn.SetDeadline(deadline)

	sm, raw, ok := s.readStartup()
	if !ok {
		return false
	}
	user, _ := sm.get("user")
	s.rs.User = user
	s.rs.Database = user
	if db, ok := sm.get("database"); ok && db != "" {
		s.rs.Database = db
	}
	s.log = s.log.With(zap.String("user", user), zap.String("database", s.rs.Database))
	if fe := checkStartupParams(sm); fe != nil {
		s.log.Info("startup refused", zap.String("reason", fe.Message))
		s.e.m.connection("refused")
		s.auditConn("auth_fail", fe.Kind.PostgresState(), fe.Message)
		s.fatal(fe)
		return false
	}
	if cfg.RequireClientTLS && !s.clientLegTLS() {
		fe := fault.New(fault.HostNotAllowed, "dbfence: connections must use TLS")
		s.e.m.connection("tls_required")
		s.auditConn("auth_fail", fe.Kind.PostgresState(), fe.Message)
		s.fatal(fe)
		return false
	}
	if fe := cfg.Gate.Admit(user, s.clientAddr.Addr()); fe != nil {
		s.log.Warn("connection refused by policy", zap.String("reason", fe.Message))
		s.e.m.connection("refused")
		s.auditConn("auth_fail", fe.Kind.PostgresState(), fe.Message)
		s.fatal(fe)
		return false
	}
	if !s.connectBackend(ctx, deadline, raw) {
		return false
	}
	s.client = newMsgConn(s.clientConn, cfg.MaxMessage)
	if !s.relayAuth() || !s.relayUntilReady() {
		return false
	}
	_ = s.clientConn.SetDeadline(time.Time{})
	_ = s.backendConn.SetDeadline(time.Time{})
	s.e.m.connection("ok")
	s.auditConn("auth_ok", "", "")
	s.log.Debug("session authenticated")
	return true
}

// readStartup handles SSLRequest, GSSENCRequest and CancelRequest and
// returns the StartupMessage (decoded and raw).
func (s *session) readStartup() (*startupMessage, []byte, bool) {
	sslDone, gssDone := false, false
	for {
		code, rest, raw, err := readStartupPacket(s.clientConn)
		if err != nil {
			if errors.Is(err, errMalformed) {
				s.e.m.connection("protocol_error")
				s.fatal(fault.Wrap(fault.ProtocolViolation, err, "dbfence: invalid startup packet: "+strings.TrimPrefix(err.Error(), errMalformed.Error()+": ")))
			} else {
				s.e.m.connection("client_gone")
			}
			return nil, nil, false
		}
		switch {
		case code == codeSSL && len(rest) == 0 && !sslDone:
			sslDone = true
			if s.e.cfg.ClientTLS == nil {
				if _, err := s.clientConn.Write([]byte{'N'}); err != nil {
					return nil, nil, false
				}
				continue
			}
			if _, err := s.clientConn.Write([]byte{'S'}); err != nil {
				return nil, nil, false
			}
			tc := tls.Server(s.clientConn, s.e.cfg.ClientTLS)
			if err := tc.Handshake(); err != nil {
				s.log.Info("client TLS handshake failed", zap.Error(err))
				s.e.m.connection("tls_failed")
				return nil, nil, false
			}
			s.clientConn = tc
		case code == codeGSSENC && len(rest) == 0 && !gssDone:
			gssDone = true
			if _, err := s.clientConn.Write([]byte{'N'}); err != nil {
				return nil, nil, false
			}
		case code == codeCancel && len(rest) == 8:
			s.e.m.connection("cancel_request")
			s.forwardCancel(backendKey{pid: binary.BigEndian.Uint32(rest), secret: binary.BigEndian.Uint32(rest[4:])})
			return nil, nil, false
		case code == codeProtocol30:
			sm, err := parseStartupParams(rest)
			if err != nil {
				s.e.m.connection("protocol_error")
				s.fatal(fault.Wrap(fault.ProtocolViolation, err, "dbfence: invalid startup packet: "+strings.TrimPrefix(err.Error(), errMalformed.Error()+": ")))
				return nil, nil, false
			}
			return sm, raw, true
		case (code == codeSSL && sslDone) || (code == codeGSSENC && gssDone):
			s.e.m.connection("protocol_error")
			s.fatal(fault.New(fault.ProtocolViolation, "dbfence: encryption was already negotiated on this connection; send the StartupMessage"))
			return nil, nil, false
		case code>>16 == 3:
			s.e.m.connection("protocol_error")
			s.fatal(fault.New(fault.UnsupportedCommand, "dbfence: protocol version 3.%d is not supported; use 3.0", code&0xffff))
			return nil, nil, false
		default:
			s.e.m.connection("protocol_error")
			s.fatal(fault.New(fault.ProtocolViolation, "dbfence: unsupported startup request %d (protocol %d.%d)", code, code>>16, code&0xffff))
			return nil, nil, false
		}
	}
}

// checkStartupParams refuses startup parameters the proxy does not serve.
func checkStartupParams(sm *startupMessage) *fault.Error {
	user, _ := sm.get("user")
	if user == "" {
		return fault.New(fault.ProtocolViolation, "dbfence: no user name in the startup packet")
	}
	if v, ok := sm.get("replication"); ok {
		switch strings.ToLower(v) {
		case "false", "off", "no", "0":
		default:
			return fault.New(fault.UnsupportedCommand,
				"dbfence: replication connections are not served through the proxy; connect replicas to the database directly")
		}
	}
	if v, ok := sm.get("client_encoding"); ok && !isUTF8Name(v) {
		return fault.New(fault.UnsupportedCharset, "dbfence: client_encoding %q is not supported through the proxy; use UTF8", v)
	}
	return nil
}

// isUTF8Name reports whether an encoding name is one PostgreSQL reads as UTF8.
func isUTF8Name(v string) bool {
	v = strings.NewReplacer("-", "", "_", "").Replace(strings.ToUpper(strings.TrimSpace(v)))
	return v == "UTF8" || v == "UNICODE"
}

// serverVersionNum reads a server_version ParameterStatus ("15.20 (Debian
// 15.20-0+deb12u1)", "9.6.24", "17beta1") as server_version_num does
// (150020, 90624, 170000); 0 when it is not a version.
func serverVersionNum(v string) uint32 {
	var parts [3]uint32
	n, digits := 0, false
	for i := 0; i < len(v) && n < 3; i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			if parts[n] > 100000 {
				return 0
			}
			parts[n] = parts[n]*10 + uint32(c-'0')
			digits = true
		case c == '.' && digits:
			n, digits = n+1, false
		default:
			i = len(v) // the version ends here
		}
	}
	switch {
	case parts[0] == 0:
		return 0
	case parts[0] >= 10: // major.minor
		return parts[0]*10000 + parts[1]
	default: // 9.6.24
		return parts[0]*10000 + parts[1]*100 + parts[2]
	}
}

// checkPinned refuses a ParameterStatus value the analyser cannot work with.
func checkPinned(name, value string) *fault.Error {
	switch name {
	case "client_encoding":
		if value != "UTF8" {
			return fault.New(fault.UnsupportedCharset, "dbfence: client_encoding %s is not supported through the proxy; the session must use UTF8", value)
		}
	case "standard_conforming_strings":
		if value != "on" {
			return fault.New(fault.UnsupportedCommand, "dbfence: standard_conforming_strings must stay on through the proxy")
		}
	}
	return nil
}

// forwardCancel relays a CancelRequest for a known client key to its backend.
// Unknown keys are ignored, as PostgreSQL does.
func (s *session) forwardCancel(k backendKey) {
	b, ok := s.e.cancels.lookup(k)
	if !ok {
		s.log.Debug("cancel request for an unknown key ignored")
		return
	}
	if err := s.e.sendCancel(b); err != nil {
		s.log.Warn("could not forward a cancel request", zap.Error(err))
	}
}

// cancelBackend asks the backend to stop this session's running query.
func (s *session) cancelBackend() {
	if !s.haveKey {
		return
	}
	if err := s.e.sendCancel(s.backendKey); err != nil {
		s.log.Warn("could not cancel the backend query", zap.Error(err))
	}
}

func (s *session) clientLegTLS() bool {
	_, ok := s.clientConn.(*tls.Conn)
	return ok
}

// connectBackend dials the backend, negotiates TLS if configured and sends
// the client's StartupMessage unchanged.
func (s *session) connectBackend(ctx context.Context, deadline time.Time, startup []byte) bool {
	cfg := &s.e.cfg
	d := net.Dialer{Timeout: cfg.DialTimeout}
	bc, err := d.DialContext(ctx, "tcp", cfg.Backend)
	if err != nil {
		s.log.Warn("backend unreachable", zap.Error(err))
		s.e.m.connection("backend_unavailable")
		s.fatal(fault.Wrap(fault.BackendUnavailable, err, "dbfence: backend database is unavailable"))
		return false
	}
	if tc, ok := bc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	s.backendConn = bc
	s.ps.SetBackend(bc)
	_ = bc.SetDeadline(deadline)
	if cfg.BackendTLS != nil {
		var req [8]byte
		binary.BigEndian.PutUint32(req[:], 8)
		binary.BigEndian.PutUint32(req[4:], codeSSL)
		var ans [1]byte
		if _, err = bc.Write(req[:]); err == nil {
			_, err = io.ReadFull(bc, ans[:])
		}
		if err == nil && ans[0] != 'S' {
			err = errors.New("backend does not accept TLS")
		}
		if err == nil {
			tc := tls.Client(bc, cfg.BackendTLS)
			err = tc.HandshakeContext(ctx)
			s.backendConn = tc
		}
		if err != nil {
			s.log.Error("backend TLS failed", zap.Error(err))
			s.e.m.connection("backend_unavailable")
			s.fatal(fault.Wrap(fault.BackendUnavailable, err, "dbfence: TLS to the backend failed"))
			return false
		}
	}
	if _, err := s.backendConn.Write(startup); err != nil {
		s.e.m.connection("backend_unavailable")
		s.fatal(fault.Wrap(fault.BackendUnavailable, err, "dbfence: lost the backend during startup"))
		return false
	}
	s.backend = newMsgConn(s.backendConn, cfg.MaxBackendMessage)
	return true
}

// relayAuth relays the authentication exchange until AuthenticationOk. It
// removes SCRAM-SHA-256-PLUS from the mechanisms offered (channel binding
// cannot cross the proxy) and refuses methods it cannot relay.
func (s *session) relayAuth() bool {
	fail := func(outcome string, fe *fault.Error) bool {
		s.e.m.connection(outcome)
		s.auditConn("auth_fail", fe.Kind.PostgresState(), fe.Message)
		s.fatal(fe)
		return false
	}
	var mechanisms []string
	for round := 0; round < 32; round++ {
		typ, body, err := s.backend.readMessage()
		if err != nil {
			return fail("backend_unavailable", backendLost(err, "authentication", s.e.cfg.HandshakeTimeout))
		}
		switch typ {
		case msgErrorResponse:
			code, _ := errorFields(body)
			s.e.m.connection("auth_failed")
			s.auditConn("auth_fail", code, "backend refused the session")
			_ = s.client.writeMessage(typ, body)
			_ = s.client.flush()
			return false
		case msgNoticeResponse, msgNegotiateProtocol:
			if err := s.client.writeMessage(typ, body); err != nil {
				return false
			}
			continue
		case msgAuth:
		default:
			return fail("protocol_error", fault.New(fault.ProtocolViolation, "dbfence: unexpected message %q from the backend during authentication", typ))
		}
		if len(body) < 4 {
			return fail("protocol_error", fault.New(fault.ProtocolViolation, "dbfence: malformed authentication request from the backend"))
		}
		code := binary.BigEndian.Uint32(body)
		expectReply := true
		switch code {
		case authOK:
			if err := s.client.writeMessage(typ, body); err != nil {
				return false
			}
			return true
		case authCleartextPassword, authMD5Password, authSASLContinue:
		case authSASLFinal:
			expectReply = false
		case authSASL:
			var out []byte
			out, mechanisms = filterMechanisms(body)
			if len(mechanisms) == 0 {
				return fail("auth_unsupported", fault.New(fault.UnsupportedCommand,
					"dbfence: the backend offers no SASL mechanism the proxy can relay (channel binding cannot cross the proxy)"))
			}
			body = out
		default:
			return fail("auth_unsupported", fault.New(fault.UnsupportedCommand,
				"dbfence: authentication method %d is not supported through the proxy", code))
		}
		if err := s.client.writeMessage(typ, body); err != nil {
			return false
		}
		if !expectReply {
			continue
		}
		if err := s.client.flush(); err != nil {
			return false
		}
		rtyp, reply, err := s.client.readMessage()
		if err != nil {
			s.e.m.connection("client_gone")
			return false
		}
		if rtyp != msgPassword {
			return fail("protocol_error", fault.New(fault.ProtocolViolation, "dbfence: expected a password message, got %q", rtyp))
		}
		if code == authSASL {
			r := reader{b: reply}
			mech := string(r.cstring())
			if r.bad || !containsString(mechanisms, mech) {
				return fail("protocol_error", fault.New(fault.ProtocolViolation, "dbfence: SASL mechanism %q was not offered", mech))
			}
		}
		if err := s.backend.writeMessage(rtyp, reply); err != nil || s.backend.flush() != nil {
			return fail("backend_unavailable", fault.New(fault.BackendUnavailable, "dbfence: lost the backend during authentication"))
		}
	}
	return fail("protocol_error", fault.New(fault.ProtocolViolation, "dbfence: authentication did not finish"))
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// filterMechanisms rewrites an AuthenticationSASL body without the
// channel-binding mechanisms and returns the mechanisms kept.
func filterMechanisms(body []byte) ([]byte, []string) {
	out := append([]byte(nil), body[:4]...)
	var kept []string
	r := reader{b: body[4:]}
	for {
		m := r.cstring()
		if r.bad || len(m) == 0 {
			break
		}
		if bytes.HasSuffix(m, []byte("-PLUS")) {
			continue
		}
		kept = append(kept, string(m))
		out = append(append(out, m...), 0)
	}
	return append(out, 0), kept
}

// relayUntilReady relays ParameterStatus, BackendKeyData (replaced by the
// proxy's own key) and notices up to the first ReadyForQuery, checking the
// pinned parameters.
func (s *session) relayUntilReady() bool {
	seen := map[string]bool{}
	for {
		typ, body, err := s.backend.readMessage()
		if err != nil {
			s.e.m.connection("backend_unavailable")
			s.fatal(backendLost(err, "startup", s.e.cfg.HandshakeTimeout))
			return false
		}
		switch typ {
		case msgParameterStatus:
			name, value, ok := decodeParameterStatus(body)
			if !ok {
				s.fatal(fault.New(fault.ProtocolViolation, "dbfence: malformed ParameterStatus from the backend"))
				return false
			}
			if fe := checkPinned(name, value); fe != nil {
				s.e.m.connection("refused")
				s.auditConn("auth_fail", fe.Kind.PostgresState(), fe.Message)
				s.fatal(fe)
				return false
			}
			seen[name] = true
			if name == "server_version" {
				s.rs.ServerVersion = serverVersionNum(value)
			}
		case msgBackendKeyData:
			if len(body) != 8 || s.haveKey {
				s.fatal(fault.New(fault.ProtocolViolation, "dbfence: unexpected BackendKeyData from the backend"))
				return false
			}
			s.backendKey = backendKey{pid: binary.BigEndian.Uint32(body), secret: binary.BigEndian.Uint32(body[4:])}
			s.clientKey = s.e.cancels.register(s.backendKey)
			s.haveKey = true
			s.log = s.log.With(zap.Uint32("backend_pid", s.backendKey.pid))
			var kb [8]byte
			binary.BigEndian.PutUint32(kb[:], s.clientKey.pid)
			binary.BigEndian.PutUint32(kb[4:], s.clientKey.secret)
			if err := s.client.writeMessage(typ, kb[:]); err != nil {
				return false
			}
			continue
		case msgNoticeResponse:
		case msgErrorResponse:
			code, _ := errorFields(body)
			s.e.m.connection("auth_failed")
			s.auditConn("auth_fail", code, "backend refused the session")
			_ = s.client.writeMessage(typ, body)
			_ = s.client.flush()
			return false
		case msgReadyForQuery:
			if !seen["client_encoding"] || !seen["standard_conforming_strings"] {
				s.fatal(fault.New(fault.ProtocolViolation, "dbfence: the backend did not report client_encoding and standard_conforming_strings"))
				return false
			}
			if len(body) == 1 {
				s.txStatus = body[0]
			}
			if err := s.client.writeMessage(typ, body); err != nil || s.client.flush() != nil {
				return false
			}
			return true
		default:
			s.fatal(fault.New(fault.ProtocolViolation, "dbfence: unexpected message %q from the backend during startup", typ))
			return false
		}
		if err := s.client.writeMessage(typ, body); err != nil {
			return false
		}
	}
}

// decodeParameterStatus decodes a ParameterStatus: name and value.
func decodeParameterStatus(b []byte) (name, value string, ok bool) {
	r := reader{b: b}
	n := r.cstring()
	v := r.cstring()
	return string(n), string(v), r.done()
}

// errorFields returns the SQLSTATE and message of an ErrorResponse or NoticeResponse body.
func errorFields(b []byte) (code, message string) {
	r := reader{b: b}
	for len(r.b) > 0 {
		t := r.b[0]
		r.b = r.b[1:]
		if t == 0 {
			break
		}
		v := r.cstring()
		if r.bad {
			break
		}
		switch t {
		case 'C':
			code = string(v)
		case 'M':
			message = string(v)
		}
	}
	return code, message
}

// isQuietEnd reports whether err is a normal way for a connection to end.
func isQuietEnd(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, net.ErrClosed)
}
