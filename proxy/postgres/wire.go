package postgres

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/dbfence/dbfence/fault"
)

// Startup packet codes (the int32 after the length).
const (
	codeProtocol30 = 196608   // protocol 3.0
	codeCancel     = 80877102 // CancelRequest
	codeSSL        = 80877103 // SSLRequest
	codeGSSENC     = 80877104 // GSSENCRequest
	// maxStartupLen is PostgreSQL's MAX_STARTUP_PACKET_LENGTH.
	maxStartupLen = 10000
)

// Message type bytes used by the engine, frontend (F) and backend (B).
const (
	msgQuery        = 'Q' // F
	msgParse        = 'P' // F
	msgBind         = 'B' // F
	msgDescribe     = 'D' // F
	msgExecute      = 'E' // F
	msgClose        = 'C' // F
	msgSync         = 'S' // F
	msgFlush        = 'H' // F
	msgTerminate    = 'X' // F
	msgFunctionCall = 'F' // F
	msgPassword     = 'p' // F (PasswordMessage, SASLInitialResponse, SASLResponse)
	msgCopyData     = 'd' // F and B
	msgCopyDone     = 'c' // F and B
	msgCopyFail     = 'f' // F

	msgAuth               = 'R' // B
	msgParameterStatus    = 'S' // B
	msgBackendKeyData     = 'K' // B
	msgReadyForQuery      = 'Z' // B
	msgRowDescription     = 'T' // B
	msgDataRow            = 'D' // B
	msgCommandComplete    = 'C' // B
	msgEmptyQuery         = 'I' // B
	msgErrorResponse      = 'E' // B
	msgNoticeResponse     = 'N' // B
	msgNotification       = 'A' // B
	msgParseComplete      = '1' // B
	msgBindComplete       = '2' // B
	msgCloseComplete      = '3' // B
	msgParameterDesc      = 't' // B
	msgNoData             = 'n' // B
	msgPortalSuspended    = 's' // B
	msgCopyInResponse     = 'G' // B
	msgCopyOutResponse    = 'H' // B
	msgCopyBothResponse   = 'W' // B
	msgNegotiateProtocol  = 'v' // B
	msgFunctionCallResult = 'V' // B
)

// Authentication request codes (AuthenticationXXX).
const (
	authOK                = 0
	authCleartextPassword = 3
	authMD5Password       = 5
	authSASL              = 10
	authSASLContinue      = 11
	authSASLFinal         = 12
)

var (
	errMessageTooLarge = errors.New("message larger than the limit")
	errMalformed       = errors.New("malformed message")
)

// msgConn frames protocol-3 messages on one leg. Reads go through a buffered
// reader into one reusable body buffer: a body returned by readMessage is
// valid until the next readMessage. Writes are buffered until flush.
type msgConn struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	hdr  [5]byte
	body []byte
	// max bounds a body's length.
	max int
	// in and out count bytes read and written (for metrics).
	in, out int64
}

func newMsgConn(c net.Conn, max int) *msgConn {
	return &msgConn{conn: c, r: bufio.NewReaderSize(c, 32<<10), w: bufio.NewWriterSize(c, 32<<10), max: max}
}

// readMessage reads one message. The body is valid until the next call.
func (m *msgConn) readMessage() (typ byte, body []byte, err error) {
	if _, err := io.ReadFull(m.r, m.hdr[:]); err != nil {
		return 0, nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(m.hdr[1:])))
	if n < 4 {
		return m.hdr[0], nil, fmt.Errorf("%w: length %d", errMalformed, n)
	}
	n -= 4
	if n > m.max {
		return m.hdr[0], nil, errMessageTooLarge
	}
	if cap(m.body) < n {
		m.body = make([]byte, n, max(n, 2*cap(m.body)))
	}
	m.body = m.body[:n]
	if _, err := io.ReadFull(m.r, m.body); err != nil {
		return 0, nil, err
	}
	m.in += int64(n + 5)
	// Keep a large buffer only while it is used.
	b := m.body
	if cap(m.body) > 1<<20 {
		m.body = nil
	}
	return m.hdr[0], b, nil
}

// writeMessage buffers one message.
func (m *msgConn) writeMessage(typ byte, body []byte) error {
	var h [5]byte
	h[0] = typ
	binary.BigEndian.PutUint32(h[1:], uint32(len(body)+4))
	if _, err := m.w.Write(h[:]); err != nil {
		return err
	}
	_, err := m.w.Write(body)
	m.out += int64(len(body) + 5)
	return err
}

// writeRaw buffers bytes that are already framed.
func (m *msgConn) writeRaw(p []byte) error {
	_, err := m.w.Write(p)
	m.out += int64(len(p))
	return err
}

func (m *msgConn) flush() error { return m.w.Flush() }

// appendError appends a framed ErrorResponse for fe.
func appendError(dst []byte, severity string, fe *fault.Error) []byte {
	er := pgproto3.ErrorResponse{Severity: severity, SeverityUnlocalized: severity, Code: fe.Kind.PostgresState(), Message: fe.Message}
	out, err := er.Encode(dst)
	if err != nil { // only for bodies over 1 GiB
		return dst
	}
	return out
}

// appendReadyForQuery appends a framed ReadyForQuery with status st.
func appendReadyForQuery(dst []byte, st byte) []byte {
	return append(dst, msgReadyForQuery, 0, 0, 0, 5, st)
}

// appendMessage appends a framed message.
func appendMessage(dst []byte, typ byte, body []byte) []byte {
	dst = append(dst, typ, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(dst[len(dst)-4:], uint32(len(body)+4))
	return append(dst, body...)
}

// reader decodes the fields of one message body; the first failure sticks.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) cstring() []byte {
	i := bytes.IndexByte(r.b, 0)
	if i < 0 {
		r.bad = true
		r.b = nil
		return nil
	}
	s := r.b[:i]
	r.b = r.b[i+1:]
	return s
}

func (r *reader) int16() int16 {
	if len(r.b) < 2 {
		r.bad = true
		r.b = nil
		return 0
	}
	v := int16(binary.BigEndian.Uint16(r.b))
	r.b = r.b[2:]
	return v
}

func (r *reader) int32() int32 {
	if len(r.b) < 4 {
		r.bad = true
		r.b = nil
		return 0
	}
	v := int32(binary.BigEndian.Uint32(r.b))
	r.b = r.b[4:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.bad = true
		r.b = nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// done reports whether every field decoded and nothing is left over.
func (r *reader) done() bool { return !r.bad && len(r.b) == 0 }

// startupMessage is a decoded StartupMessage.
type startupMessage struct {
	// params are the name/value pairs in order.
	params [][2]string
}

func (sm *startupMessage) get(name string) (string, bool) {
	for _, p := range sm.params {
		if p[0] == name {
			return p[1], true
		}
	}
	return "", false
}

// parseStartupParams decodes the parameter list of a protocol-3.0
// StartupMessage (the body after the version code).
func parseStartupParams(b []byte) (*startupMessage, error) {
	sm := &startupMessage{}
	r := reader{b: b}
	for {
		name := r.cstring()
		if r.bad {
			return nil, fmt.Errorf("%w: startup parameters not terminated", errMalformed)
		}
		if len(name) == 0 {
			break
		}
		val := r.cstring()
		if r.bad {
			return nil, fmt.Errorf("%w: startup parameter %q has no value", errMalformed, name)
		}
		for _, p := range sm.params {
			// The server takes the last of repeated names (user, database,
			// and settings, whose names it folds to lower case); the proxy
			// reads the first. A repeat would let the two disagree on who
			// the user is or how the session encodes text.
			if strings.EqualFold(p[0], string(name)) {
				return nil, fmt.Errorf("%w: startup parameter %q given more than once", errMalformed, name)
			}
		}
		sm.params = append(sm.params, [2]string{string(name), string(val)})
		if len(sm.params) > 64 {
			return nil, fmt.Errorf("%w: too many startup parameters", errMalformed)
		}
	}
	if !r.done() {
		return nil, fmt.Errorf("%w: bytes after the startup parameters", errMalformed)
	}
	return sm, nil
}

// parseMsg is a decoded Parse.
type parseMsg struct {
	name, query []byte
	// rest is the parameter type count and OIDs, relayed unchanged.
	rest []byte
}

func decodeParse(b []byte) (parseMsg, bool) {
	r := reader{b: b}
	p := parseMsg{name: r.cstring(), query: r.cstring()}
	p.rest = r.b
	n := r.int16()
	if n < 0 {
		return p, false
	}
	r.bytes(4 * int(n))
	return p, r.done()
}

// bindMsg is a decoded Bind.
type bindMsg struct {
	portal, stmt []byte
	// paramFormats holds the raw parameter format codes (big-endian int16
	// each; none means all text, one applies to every parameter) and params
	// the raw length-prefixed values, numParams of them.
	paramFormats, params []byte
	numParams            int
	// resultFormats are the result-column format codes (0 text, 1 binary):
	// none means all text, one applies to every column.
	resultFormats []int16
}

func decodeBind(b []byte) (bindMsg, bool) {
	r := reader{b: b}
	m := bindMsg{portal: r.cstring(), stmt: r.cstring()}
	nf := r.int16()
	if nf < 0 {
		return m, false
	}
	formats := r.b
	for range nf {
		if f := r.int16(); f != 0 && f != 1 {
			return m, false
		}
	}
	if r.bad {
		return m, false
	}
	m.paramFormats = formats[:2*int(nf)]
	np := r.int16()
	if np < 0 {
		return m, false
	}
	params := r.b
	for range np {
		if n := r.int32(); n >= 0 {
			r.bytes(int(n))
		} else if n != -1 {
			return m, false
		}
	}
	if r.bad {
		return m, false
	}
	m.params, m.numParams = params[:len(params)-len(r.b)], int(np)
	nr := r.int16()
	if nr < 0 {
		return m, false
	}
	for range nr {
		f := r.int16()
		if f != 0 && f != 1 {
			return m, false
		}
		m.resultFormats = append(m.resultFormats, f)
	}
	return m, r.done()
}

// maxBindLiteral bounds the bytes of one parameter value the audit log
// keeps: a longer value is cut there and its length noted, so that large
// parameters (documents, images) do not multiply into the log.
const maxBindLiteral = 2048

// appendBindLiterals appends the parameter values of a decoded Bind to dst
// as the audit log's literals: text-format values as sent, binary ones as
// \x and their bytes in hex (the parameter types are not known here), NULL
// as NULL; values longer than maxBindLiteral bytes are cut, with
// "…(N bytes)" after them. The values share one allocation.
func appendBindLiterals(dst []string, m *bindMsg) []string {
	if m.numParams == 0 {
		return dst
	}
	isBinary := func(i int) bool {
		switch f := m.paramFormats; {
		case len(f) == 2:
			return f[1] == 1
		case 2*i+1 < len(f):
			return f[2*i+1] == 1
		}
		return false // no codes (all text), or a count the server will refuse
	}
	const cutNote = len("…(2147483647 bytes)")
	size := 0
	for i, r := 0, (reader{b: m.params}); i < m.numParams; i++ {
		n := int(r.int32())
		if n > maxBindLiteral {
			size += cutNote
		}
		switch {
		case n < 0:
			size += len("NULL")
		case isBinary(i):
			size += 2 + 2*min(n, maxBindLiteral)
			r.bytes(n)
		default:
			size += min(n, maxBindLiteral)
			r.bytes(n)
		}
	}
	var sb strings.Builder
	sb.Grow(size)
	ends := make([]int, 0, 8)
	for i, r := 0, (reader{b: m.params}); i < m.numParams; i++ {
		n := int(r.int32())
		v := r.bytes(max(n, 0))
		if n > maxBindLiteral {
			v = v[:maxBindLiteral] // may split a UTF-8 sequence: the JSON encoder replaces it
		}
		switch {
		case n < 0:
			sb.WriteString("NULL")
		case isBinary(i):
			const digits = "0123456789abcdef"
			sb.WriteString(`\x`)
			for _, c := range v {
				sb.WriteByte(digits[c>>4])
				sb.WriteByte(digits[c&15])
			}
		default:
			sb.Write(v)
		}
		if n > maxBindLiteral {
			sb.WriteString("…(")
			sb.WriteString(strconv.Itoa(n))
			sb.WriteString(" bytes)")
		}
		ends = append(ends, sb.Len())
	}
	all, from := sb.String(), 0
	for _, end := range ends {
		dst = append(dst, all[from:end])
		from = end
	}
	return dst
}

// decodeTarget decodes a Describe or Close: 'S' or 'P' and a name.
func decodeTarget(b []byte) (kind byte, name []byte, ok bool) {
	if len(b) < 1 || (b[0] != 'S' && b[0] != 'P') {
		return 0, nil, false
	}
	r := reader{b: b[1:]}
	name = r.cstring()
	return b[0], name, r.done()
}

// decodeExecute decodes an Execute: portal name and row limit (0: all).
func decodeExecute(b []byte) (portal []byte, maxRows int32, ok bool) {
	r := reader{b: b}
	portal = r.cstring()
	maxRows = r.int32()
	return portal, maxRows, r.done() && maxRows >= 0
}

// decodeQuery decodes a Query: one NUL-terminated string and nothing else.
func decodeQuery(b []byte) ([]byte, bool) {
	r := reader{b: b}
	q := r.cstring()
	return q, r.done()
}

// column is the part of a RowDescription field the engine needs.
type column struct {
	name     string
	tableOID uint32
	attnum   int16
	typeOID  uint32
	format   int16
}

// decodeRowDescription appends the columns of a RowDescription to cols.
func decodeRowDescription(cols []column, b []byte) ([]column, bool) {
	r := reader{b: b}
	n := r.int16()
	if n < 0 {
		return cols, false
	}
	for range n {
		var c column
		c.name = string(r.cstring())
		c.tableOID = uint32(r.int32())
		c.attnum = r.int16()
		c.typeOID = uint32(r.int32())
		r.int16() // typlen
		r.int32() // typmod
		c.format = r.int16()
		if r.bad || (c.format != 0 && c.format != 1) {
			return cols, false
		}
		cols = append(cols, c)
	}
	return cols, r.done()
}

// Type OIDs whose values are plain character strings in the text format, and
// (textLikeBinary) also in the binary format, so a masked string is valid.
const (
	oidName    = 19
	oidText    = 25
	oidJSON    = 114
	oidBPChar  = 1042
	oidVarchar = 1043
	oidJSONB   = 3802
)

// textLike reports whether a masked string is a valid cell of type oid in
// format f (0 text, 1 binary).
func textLike(oid uint32, f int16) bool {
	switch oid {
	case oidName, oidText, oidBPChar, oidVarchar, oidJSON:
		return true
	case oidJSONB:
		return f == 0 // binary jsonb has a version byte
	}
	return false
}
