package mysql

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	gm "github.com/go-mysql-org/go-mysql/mysql"
	"go.uber.org/zap"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/proxy"
	"github.com/dbfence/dbfence/rules"
)

// session is one client connection and its dedicated backend connection.
// Everything in it is used by the session's own goroutine only.
type session struct {
	e   *Engine
	ps  *proxy.Session
	log *zap.Logger

	clientConn  net.Conn
	backendConn net.Conn
	client      *packetConn
	backend     *packetConn
	clientAddr  netip.AddrPort

	// rs is what the rules know of this session.
	rs rules.Session
	// clientCaps are the capabilities in force between client and proxy.
	clientCaps uint32
	// backendConnID is the backend's thread id (for KILL QUERY).
	backendConnID uint32
	// stmts maps prepared statement ids to what the proxy decided at PREPARE.
	stmts map[uint32]*preparedStmt
	// lastStmtID is the id of the last prepared statement (MariaDB's -1 id).
	lastStmtID uint32
	// statementSeq numbers statements for audit.
	statementSeq uint64
	// rowBuf is scratch space for rebuilding masked rows.
	rowBuf []byte
	// cellBuf is scratch space for one masked cell.
	cellBuf []byte
	// held and heldLens keep column metadata back until it is checked.
	held     []byte
	heldLens []int
	// resultCharset is @@character_set_results ("" when NULL: no conversion).
	resultCharset string
	// charsetMaskers caches maskers adapted to resultCharset.
	charsetMaskers map[rules.Masker]rules.Masker
	// closedByClient is set when the client said COM_QUIT.
	closedByClient bool
	// open are the events of the statements forwarded whose outcome is not
	// recorded yet: finishOpen records them when the response is relayed,
	// interruptOpen when the exchange breaks off first.
	open []*proxy.StatementEvent
}

// preparedStmt is what the proxy keeps per server-side prepared statement.
type preparedStmt struct {
	verdict rules.StatementVerdict
	// restricted withholds server error text (the role has rules).
	restricted bool
	// paramTypes are the parameter types last bound (2 bytes each), for
	// decoding parameter values into the audit record.
	paramTypes []byte
	// longData marks parameters sent with COM_STMT_SEND_LONG_DATA since the
	// last execution.
	longData  map[uint16]bool
	numParams uint16
	numCols   uint16
	// cols are the result columns from the latest metadata (PREPARE or EXECUTE),
	// needed to decode binary rows that COM_STMT_FETCH returns.
	cols []columnInfo
	// cursorOpen is set after an EXECUTE that opened a cursor.
	cursorOpen bool
	// rowsSent counts rows sent from the open cursor, for the row cap.
	rowsSent int64
}

func newSession(e *Engine, c net.Conn, ps *proxy.Session) *session {
	s := &session{
		e:          e,
		ps:         ps,
		clientConn: c,
		client:     newPacketConn(c, e.cfg.MaxPacket),
		stmts:      make(map[uint32]*preparedStmt),
	}
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		s.clientAddr = ap
	}
	s.log = e.cfg.Log.With(zap.Uint64("session", ps.ID), zap.String("client", c.RemoteAddr().String()))
	s.rs.Protocol = rules.ProtocolMySQL
	s.rs.ClientAddr = s.clientAddr.Addr()
	return s
}

func (s *session) close() {
	s.interruptOpen()
	s.clientConn.Close()
	if s.backendConn != nil {
		s.backendConn.Close()
	}
	if s.rs.User != "" {
		s.e.cfg.Audit.Connection(&proxy.ConnectionEvent{
			Type: "connection_close", Protocol: protocolName, SessionID: s.ps.ID, User: s.rs.User,
			ClientAddr: s.clientAddr, Database: s.rs.Database, Time: time.Now(),
		})
	}
}

// sendClientError writes a proxy error to the client as the next packet of
// the current exchange and flushes.
func (s *session) sendClientError(fe *fault.Error) error {
	s.e.m.proxyError(fe.Kind.String())
	s.rowBuf = appendErr(s.rowBuf[:0], fe)
	if err := s.client.writePacket(s.rowBuf); err != nil {
		return err
	}
	return s.client.flush()
}

// handshake connects to the backend and relays authentication. It returns
// false when the session must end (the client has been told why).
func (s *session) handshake(ctx context.Context) bool {
	cfg := &s.e.cfg
	deadline := time.Now().Add(cfg.HandshakeTimeout)
	_ = s.clientConn.SetDeadline(deadline)
	// Before it has authenticated, a client's packets are small (names,
	// auth data, connection attributes): an unauthenticated peer must not
	// make the proxy hold max_packet bytes per connection.
	s.client.maxPacket = min(cfg.MaxPacket, maxHandshakePacket)
	defer func() { s.client.maxPacket = cfg.MaxPacket }()

	d := net.Dialer{Timeout: cfg.DialTimeout}
	bc, err := d.DialContext(ctx, "tcp", cfg.Backend)
	if err != nil {
		s.log.Warn("backend unreachable", zap.Error(err))
		s.e.m.connection("backend_unavailable")
		_ = s.sendClientError(fault.Wrap(fault.BackendUnavailable, err, "dbfence: backend database is unavailable"))
		return false
	}
	if tc, ok := bc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	s.backendConn = bc
	s.ps.SetBackend(bc)
	s.backend = newPacketConn(bc, 0)
	_ = bc.SetDeadline(deadline)

	greeting, err := s.backend.readPacket()
	if err != nil {
		s.e.m.connection("backend_unavailable")
		msg := "dbfence: backend closed the connection during the handshake"
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			msg = fmt.Sprintf("dbfence: backend did not answer within %s", cfg.HandshakeTimeout)
			s.log.Warn("backend did not send its greeting in time", zap.Duration("timeout", cfg.HandshakeTimeout))
		}
		// The client shares the handshake's deadline, which has passed.
		_ = s.clientConn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_ = s.sendClientError(fault.Wrap(fault.BackendUnavailable, err, msg))
		return false
	}
	if len(greeting) > 0 && greeting[0] == hdrErr {
		// e.g. "Too many connections" or "Host is blocked": relay as is.
		s.e.m.connection("backend_refused")
		_ = s.client.writePacket(greeting)
		_ = s.client.flush()
		return false
	}
	hs, err := parseServerHandshake(greeting)
	if err == nil && hs.capabilities&requiredCaps != requiredCaps {
		err = fmt.Errorf("backend does not offer protocol 4.1 with secure authentication")
	}
	if err != nil {
		s.log.Error("backend handshake not understood", zap.Error(err))
		s.e.m.connection("backend_unavailable")
		_ = s.sendClientError(fault.Wrap(fault.BackendUnavailable, err, "dbfence: backend handshake not understood"))
		return false
	}
	s.backendConnID = hs.connectionID
	s.rs.ServerVersion, s.rs.MariaDB = versionNumber(hs.serverVersion)
	s.log = s.log.With(zap.Uint32("backend_thread", hs.connectionID))

	toClient, offered := hs.rewriteForClient(cfg.ClientTLS != nil)
	// The client's leg starts at sequence 0 like the backend's.
	if err := s.client.writePacket(toClient); err != nil || s.client.flush() != nil {
		return false
	}
	resp, ok := s.readClientResponse(offered)
	if !ok {
		return false
	}
	s.rs.User = resp.user
	s.rs.Database = resp.database
	s.clientCaps = resp.capabilities & offered
	s.log = s.log.With(zap.String("user", resp.user))

	if fe := cfg.Gate.Admit(resp.user, s.clientAddr.Addr()); fe != nil {
		s.log.Warn("connection refused by policy", zap.String("reason", fe.Message))
		s.e.m.connection("refused")
		s.auditConn("auth_fail", fe.Kind.String(), fe.Message)
		_ = s.sendClientError(fe)
		return false
	}

	// Backend leg: optional TLS, then the client's response.
	if cfg.BackendTLS != nil {
		if err := s.backend.writePacket(sslRequestFor(resp, offered)); err == nil {
			err = s.backend.flush()
		}
		tc := s.backend.upgrade(func(c net.Conn) net.Conn { return tls.Client(c, cfg.BackendTLS) }).(*tls.Conn)
		if err := tc.HandshakeContext(ctx); err != nil {
			s.log.Error("backend TLS handshake failed", zap.Error(err))
			s.e.m.connection("backend_unavailable")
			_ = s.sendClientError(fault.Wrap(fault.BackendUnavailable, err, "dbfence: TLS to the backend failed"))
			return false
		}
		s.backendConn = tc
	}
	if err := s.backend.writePacket(resp.rewriteForBackend(offered, cfg.BackendTLS != nil)); err != nil || s.backend.flush() != nil {
		_ = s.sendClientError(fault.New(fault.BackendUnavailable, "dbfence: lost the backend during the handshake"))
		return false
	}
	plugin := resp.authPlugin
	if plugin == "" {
		plugin = hs.authPlugin
	}
	final, err := s.relayAuth(plugin, hs.scramble)
	if err != nil {
		s.log.Warn("authentication relay failed", zap.Error(err))
		s.e.m.connection("protocol_error")
		_ = s.sendClientError(fault.Wrap(fault.ProtocolViolation, err, "dbfence: authentication exchange failed"))
		return false
	}
	if final[0] == hdrErr {
		s.e.m.connection("auth_failed")
		s.auditConn("auth_fail", fmt.Sprint(errCode(final)), "backend refused the credentials")
		_ = s.client.writePacket(final)
		_ = s.client.flush()
		return false
	}
	// Authenticated. Learn the session state the rules depend on before the
	// client may send anything.
	if err := s.refreshSessionState(); err != nil {
		s.log.Error("reading session state failed", zap.Error(err))
		s.e.m.connection("backend_unavailable")
		_ = s.sendClientError(fault.Wrap(fault.BackendUnavailable, err, "dbfence: could not read the session state from the backend"))
		return false
	}
	if err := s.client.writePacket(final); err != nil || s.client.flush() != nil {
		return false
	}
	_ = s.clientConn.SetDeadline(time.Time{})
	_ = s.backendConn.SetDeadline(time.Time{})
	s.e.m.connection("ok")
	s.auditConn("auth_ok", "", "")
	s.log.Debug("session authenticated", zap.String("database", s.rs.Database), zap.String("charset", s.rs.Charset))
	return true
}

func (s *session) auditConn(typ, code, detail string) {
	s.e.cfg.Audit.Connection(&proxy.ConnectionEvent{
		Type: typ, Protocol: protocolName, SessionID: s.ps.ID, User: s.rs.User, ClientAddr: s.clientAddr,
		Database: s.rs.Database, ErrorCode: code, Detail: detail, Time: time.Now(),
	})
}

// handshakeReadFailed ends a handshake whose client packet could not be
// read: a client that broke the framing or sent too much is told why.
func (s *session) handshakeReadFailed(err error) {
	switch {
	case errors.Is(err, errPacketTooLarge):
		s.e.m.connection("protocol_error")
		_ = s.sendClientError(fault.New(fault.PacketTooLarge,
			"dbfence: handshake packet larger than %d bytes", s.client.maxPacket))
	case errors.Is(err, errSequence):
		s.e.m.connection("protocol_error")
		_ = s.sendClientError(fault.Wrap(fault.ProtocolViolation, err, "dbfence: malformed handshake: "+err.Error()))
	default:
		s.e.m.connection("client_gone")
	}
}

// readClientResponse reads the client's handshake response, upgrading the
// client leg to TLS first when it asks.
func (s *session) readClientResponse(offered uint32) (*clientResponse, bool) {
	p, err := s.client.readPacket()
	if err != nil {
		s.handshakeReadFailed(err)
		return nil, false
	}
	resp, err := parseClientResponse(p)
	if err != nil {
		s.e.m.connection("protocol_error")
		_ = s.sendClientError(fault.Wrap(fault.ProtocolViolation, err, "dbfence: malformed handshake response"))
		return nil, false
	}
	if len(p) == sslRequestLen && resp.capabilities&gm.CLIENT_SSL != 0 {
		if s.e.cfg.ClientTLS == nil || offered&gm.CLIENT_SSL == 0 {
			s.e.m.connection("protocol_error")
			_ = s.sendClientError(fault.New(fault.ProtocolViolation, "dbfence: TLS was not offered"))
			return nil, false
		}
		tc := s.client.upgrade(func(c net.Conn) net.Conn { return tls.Server(c, s.e.cfg.ClientTLS) }).(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			s.log.Info("client TLS handshake failed", zap.Error(err))
			s.e.m.connection("tls_failed")
			return nil, false
		}
		s.clientConn = tc
		if p, err = s.client.readPacket(); err != nil {
			s.handshakeReadFailed(err)
			return nil, false
		}
		if resp, err = parseClientResponse(p); err != nil || len(p) == sslRequestLen {
			if err == nil {
				err = errMalformedResponse
			}
			_ = s.sendClientError(fault.Wrap(fault.ProtocolViolation, err, "dbfence: malformed handshake response"))
			return nil, false
		}
		return resp, true
	}
	if s.e.cfg.RequireClientTLS {
		s.e.m.connection("tls_required")
		_ = s.sendClientError(fault.New(fault.HostNotAllowed, "dbfence: connections must use TLS"))
		return nil, false
	}
	// Keep a copy: p is the reusable read buffer.
	resp.raw = append([]byte(nil), resp.raw...)
	return resp, true
}

// clientLegTLS reports whether the client leg is encrypted.
func (s *session) clientLegTLS() bool {
	_, ok := s.clientConn.(*tls.Conn)
	return ok
}

// relayAuth relays the authentication exchange between backend and client
// until the backend answers OK or ERR, and returns that final packet (a copy).
// It bridges one case where the two legs differ: caching_sha2_password full
// authentication from a TLS client (which sends its password in clear) to a
// plain backend (which expects the RSA-encrypted form).
func (s *session) relayAuth(plugin string, scramble []byte) ([]byte, error) {
	for round := 0; round < 16; round++ {
		p, err := s.backend.readPacket()
		if err != nil {
			return nil, err
		}
		if len(p) == 0 {
			return nil, errors.New("empty authentication packet from backend")
		}
		switch p[0] {
		case hdrOK, hdrErr:
			return append([]byte(nil), p...), nil
		case hdrEOF: // AuthSwitchRequest: plugin name, NUL, plugin data
			name, n := readNulString(p[1:])
			if n == 0 {
				return nil, errors.New("malformed auth switch request")
			}
			plugin = string(name)
			scramble = append(scramble[:0], p[1+n:]...)
			if len(scramble) > 0 && scramble[len(scramble)-1] == 0 {
				scramble = scramble[:len(scramble)-1]
			}
		case hdrMoreData:
			if plugin == pluginCachingSHA2 && len(p) == 2 && p[1] == sha2FastAuthOK {
				// The client expects no answer: the server's OK follows.
				if err := s.client.writePacket(p); err != nil {
					return nil, err
				}
				continue
			}
			if plugin == pluginCachingSHA2 && len(p) == 2 && p[1] == sha2PerformFullAuth &&
				s.clientLegTLS() && s.e.cfg.BackendTLS == nil {
				if err := s.fullAuthOverRSA(p, scramble); err != nil {
					return nil, err
				}
				continue
			}
		default:
			return nil, fmt.Errorf("unexpected authentication packet 0x%02x", p[0])
		}
		if err := s.client.writePacket(p); err != nil {
			return nil, err
		}
		if err := s.client.flush(); err != nil {
			return nil, err
		}
		reply, err := s.client.readPacket()
		if err != nil {
			return nil, err
		}
		if err := s.backend.writePacket(reply); err != nil {
			return nil, err
		}
		if err := s.backend.flush(); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("authentication exchange did not finish")
}

// fullAuthOverRSA relays "perform full authentication" to a TLS client, takes
// its clear-text password, and completes the exchange with the plain backend
// through its RSA public key.
func (s *session) fullAuthOverRSA(perform []byte, scramble []byte) error {
	if err := s.client.writePacket(perform); err != nil {
		return err
	}
	if err := s.client.flush(); err != nil {
		return err
	}
	reply, err := s.client.readPacket()
	if err != nil {
		return err
	}
	if len(reply) == 1 && reply[0] == sha2RequestPublicKey {
		// The client chose RSA itself: relay as usual.
		if err := s.backend.writePacket(reply); err != nil {
			return err
		}
		return s.backend.flush()
	}
	password := append([]byte(nil), reply...)
	if n := len(password); n > 0 && password[n-1] == 0 {
		password = password[:n-1]
	}
	if err := s.backend.writePacket([]byte{sha2RequestPublicKey}); err != nil {
		return err
	}
	if err := s.backend.flush(); err != nil {
		return err
	}
	keyPkt, err := s.backend.readPacket()
	if err != nil {
		return err
	}
	if len(keyPkt) < 2 || keyPkt[0] != hdrMoreData {
		return errors.New("backend did not send its public key")
	}
	enc, err := encryptPassword(password, scramble, keyPkt[1:])
	clear(password)
	if err != nil {
		return err
	}
	if err := s.backend.writePacket(enc); err != nil {
		return err
	}
	return s.backend.flush()
}

// refreshSessionState reads the session variables the rules depend on.
func (s *session) refreshSessionState() error {
	row, err := s.backendQueryRow("SELECT @@SESSION.sql_mode, @@SESSION.character_set_client, DATABASE(), @@SESSION.character_set_results")
	if err != nil {
		return err
	}
	if len(row) != 4 {
		return fmt.Errorf("session state query returned %d columns", len(row))
	}
	s.rs.SQLMode = rules.ParseSQLMode(string(row[0]))
	s.rs.Charset = strings.ToLower(string(row[1]))
	s.rs.Database = string(row[2])
	if rc := strings.ToLower(string(row[3])); rc != s.resultCharset {
		s.resultCharset = rc
		s.charsetMaskers = nil
	}
	return nil
}

// backendQueryRow runs the proxy's own query on the backend connection and
// returns the first row's values (copies; NULL as nil). Rows after the first
// are read and discarded.
func (s *session) backendQueryRow(sql string) ([][]byte, error) {
	if err := s.sendCommand(gm.COM_QUERY, sql); err != nil {
		return nil, err
	}
	p, err := s.backend.readPacket()
	if err != nil {
		return nil, err
	}
	if len(p) > 0 && p[0] == hdrErr {
		return nil, fmt.Errorf("backend error %d: %s", errCode(p), p[min(len(p), 9):])
	}
	ncols, _, n := readLenEnc(p)
	if n == 0 || ncols == 0 {
		return nil, errors.New("session state query returned no result set")
	}
	for i := uint64(0); i <= ncols; i++ { // column definitions and EOF
		if _, err := s.backend.readPacket(); err != nil {
			return nil, err
		}
	}
	var row [][]byte
	for {
		p, err := s.backend.readPacket()
		if err != nil {
			return nil, err
		}
		if isEOFPacket(p) {
			return row, nil
		}
		if p[0] == hdrErr {
			return nil, fmt.Errorf("backend error %d", errCode(p))
		}
		if row != nil {
			continue
		}
		for b := p; len(b) > 0; {
			v, isNull, n := readLenEncString(b)
			if n == 0 {
				return nil, errors.New("malformed row")
			}
			if isNull {
				row = append(row, nil)
			} else {
				row = append(row, append([]byte{}, v...))
			}
			b = b[n:]
		}
	}
}

// run is the command loop: one client command, its backend exchange, its
// response, then the next. It ends on COM_QUIT, on a connection error or when
// ctx is cancelled between commands.
func (s *session) run(ctx context.Context) {
	for {
		if ctx.Err() != nil {
			s.log.Debug("session drained")
			return
		}
		s.client.seq = 0
		pkt, err := s.client.readPacket()
		if err != nil {
			if errors.Is(err, errPacketTooLarge) {
				_ = s.sendClientError(fault.New(fault.PacketTooLarge, "dbfence: packet larger than max_packet (%d bytes)", s.e.cfg.MaxPacket))
			} else if errors.Is(err, errSequence) {
				_ = s.sendClientError(fault.Wrap(fault.ProtocolViolation, err, "dbfence: packets out of order"))
			} else if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("client read failed", zap.Error(err))
			}
			return
		}
		if len(pkt) == 0 {
			_ = s.sendClientError(fault.New(fault.ProtocolViolation, "dbfence: empty command packet"))
			return
		}
		s.ps.SetBusy(true)
		start := time.Now()
		cmd := pkt[0]
		keep, err := s.dispatch(cmd, pkt)
		if err != nil {
			s.interruptOpen() // while bytesOut still counts this exchange
		}
		s.e.m.commands[cmd].latency.Observe(time.Since(start).Seconds())
		s.e.m.bytesIn.Add(float64(s.client.bytesIn))
		s.e.m.bytesOut.Add(float64(s.client.bytesOut))
		s.client.bytesIn, s.client.bytesOut = 0, 0
		s.ps.SetBusy(false)
		if err != nil {
			s.endOnError(err)
			return
		}
		if !keep {
			return
		}
	}
}

// endOnError ends the session after a failure in the middle of a command,
// telling the client why when it is still there.
func (s *session) endOnError(err error) {
	var ce clientGoneError
	if errors.As(err, &ce) {
		// The client left mid-result: stop the backend's work.
		s.killBackendQuery()
		return
	}
	var be backendError
	if errors.As(err, &be) {
		s.log.Warn("backend connection lost", zap.Error(be.err))
		_ = s.sendClientError(fault.Wrap(fault.BackendUnavailable, be.err, "dbfence: lost connection to the backend database"))
		return
	}
	fe := fault.As(err)
	s.log.Warn("session ended", zap.Error(err))
	_ = s.sendClientError(fe)
}

func (s *session) killBackendQuery() {
	if s.e.cfg.KillQuery == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.e.cfg.KillQuery(ctx, s.backendConnID); err != nil {
		s.log.Warn("could not kill the backend query of a departed client", zap.Error(err))
	}
}

// clientGoneError marks a failure to write to or read from the client.
type clientGoneError struct{ err error }

func (e clientGoneError) Error() string { return "client connection lost: " + e.err.Error() }
func (e clientGoneError) Unwrap() error { return e.err }

// backendError marks a failure to talk to the backend.
type backendError struct{ err error }

func (e backendError) Error() string { return "backend connection lost: " + e.err.Error() }
func (e backendError) Unwrap() error { return e.err }

// Helpers that classify I/O errors by leg.

func (s *session) toClient(p []byte) error {
	if err := s.client.writePacket(p); err != nil {
		return clientGoneError{err}
	}
	return nil
}

func (s *session) flushClient() error {
	if err := s.client.flush(); err != nil {
		return clientGoneError{err}
	}
	return nil
}

func (s *session) toBackend(p []byte) error {
	if err := s.backend.writePacket(p); err != nil {
		return backendError{err}
	}
	return nil
}

func (s *session) flushBackend() error {
	if err := s.backend.flush(); err != nil {
		return backendError{err}
	}
	return nil
}

func (s *session) fromBackend() ([]byte, error) {
	p, err := s.backend.readPacket()
	if err != nil {
		return nil, backendError{err}
	}
	if len(p) == 0 {
		return nil, backendError{errors.New("empty packet from backend")}
	}
	return p, nil
}

func (s *session) fromClient() ([]byte, error) {
	p, err := s.client.readPacket()
	if err != nil {
		return nil, clientGoneError{err}
	}
	return p, nil
}
