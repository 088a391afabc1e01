package mysql

import (
	"errors"
	"fmt"
	"strings"

	gm "github.com/go-mysql-org/go-mysql/mysql"
	"go.uber.org/zap"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules"
)

// columnInfo is the part of a column definition the proxy needs to treat a
// column's cells and to cross-check its origin.
type columnInfo struct {
	schema, orgTable, orgName string
	name                      string
	typ                       byte
	flags                     uint16
}

var errMalformedColumn = errors.New("malformed column definition")

// parseColumnDef decodes a ColumnDefinition41 packet.
func parseColumnDef(p []byte) (columnInfo, error) {
	var c columnInfo
	var fields [6][]byte // catalog, schema, table, org_table, name, org_name
	b := p
	for i := range fields {
		s, _, n := readLenEncString(b)
		if n == 0 {
			return c, errMalformedColumn
		}
		fields[i] = s
		b = b[n:]
	}
	// length of fixed fields (0x0c), charset(2), length(4), type(1), flags(2), decimals(1)
	if len(b) < 1+2+4+1+2+1 {
		return c, errMalformedColumn
	}
	c.schema = string(fields[1])
	c.orgTable = string(fields[3])
	c.name = string(fields[4])
	c.orgName = string(fields[5])
	c.typ = b[7]
	c.flags = uint16(b[8]) | uint16(b[9])<<8
	return c, nil
}

// isStringType reports whether cells of MySQL type t are character or byte
// strings on the wire in both protocols, so that a masked string is a valid value.
func isStringType(t byte) bool {
	switch t {
	case gm.MYSQL_TYPE_VARCHAR, gm.MYSQL_TYPE_VAR_STRING, gm.MYSQL_TYPE_STRING,
		gm.MYSQL_TYPE_TINY_BLOB, gm.MYSQL_TYPE_MEDIUM_BLOB, gm.MYSQL_TYPE_LONG_BLOB, gm.MYSQL_TYPE_BLOB,
		gm.MYSQL_TYPE_ENUM, gm.MYSQL_TYPE_SET, gm.MYSQL_TYPE_JSON:
		return true
	}
	return false
}

// resultState carries what one response relay needs across packets.
type resultState struct {
	plan   *rules.StatementVerdict
	binary bool
	stmt   *preparedStmt
	cols   []columnInfo
	// masked is true when at least one column has a masker.
	masked bool
	rows   int64
	// restricted withholds server error text (the role has rules).
	restricted bool
}

// checkOrigin compares the server's column metadata with the analyser's
// prediction. Only predicted origins are compared.
func checkOrigin(c columnInfo, p rules.ColumnPlan) bool {
	if p.OrgColumn != "" && !strings.EqualFold(p.OrgColumn, c.orgName) {
		return false
	}
	if p.OrgTable != "" && !strings.EqualFold(p.OrgTable, c.orgTable) {
		return false
	}
	if p.OrgDatabase != "" && c.schema != "" && !strings.EqualFold(p.OrgDatabase, c.schema) {
		return false
	}
	return true
}

// relayResult relays one result of the current command (OK, ERR, LOCAL
// INFILE request or result set) from backend to client, applying plan.
// It returns whether more results follow. When the proxy must abort the
// response (row cap, metadata mismatch), it sends its error to the client
// and drains the backend in discard mode; *aborted is then set and the
// caller keeps draining the remaining results without sending anything.
func (s *session) relayResult(rs *resultState, aborted *bool) (more bool, err error) {
	p, err := s.fromBackend()
	if err != nil {
		return false, err
	}
	emit := func(p []byte) error {
		if *aborted {
			return nil
		}
		return s.toClient(p)
	}
	switch p[0] {
	case hdrOK:
		info, ok := parseOK(p)
		if !ok {
			return false, backendError{errors.New("malformed OK packet")}
		}
		rs.rows = int64(info.affectedRows)
		return info.status&statusMoreResults != 0, emit(p)
	case hdrErr:
		return false, emit(s.serverError(p, rs.restricted))
	case hdrLocalInfile:
		if rs.plan != nil && rs.plan.LocalInfile != "" && string(p[1:]) == rs.plan.LocalInfile && !*aborted {
			return s.relayLocalInfile(p, rs)
		}
		return s.refuseLocalInfile(p, aborted)
	}
	ncols, _, n := readLenEnc(p)
	if n == 0 || n != len(p) || ncols == 0 || ncols > 4096 {
		return false, backendError{fmt.Errorf("unexpected response packet 0x%02x", p[0])}
	}
	// Column definitions are decoded only when cells will be masked; plain
	// results (text or binary) are relayed without looking at them.
	needCols := rs.plan != nil && rs.plan.Columns != nil
	if rs.plan != nil && rs.plan.Columns != nil && int(ncols) != len(rs.plan.Columns) {
		s.abort(aborted, fault.New(fault.ResultMismatch,
			"dbfence: the server returned %d columns where %d were expected; result refused", ncols, len(rs.plan.Columns)))
		needCols = false
	}
	// With a plan, the column count and definitions are held back until every
	// column's origin is checked: a refused result sends nothing but the error.
	hold := rs.plan != nil && rs.plan.Columns != nil
	s.held = s.held[:0]
	s.heldLens = s.heldLens[:0]
	pass := func(p []byte) error {
		if hold {
			s.held = append(s.held, p...)
			s.heldLens = append(s.heldLens, len(p))
			return nil
		}
		return emit(p)
	}
	if err := pass(p); err != nil {
		return false, err
	}
	rs.cols = rs.cols[:0]
	for i := 0; i < int(ncols); i++ {
		p, err := s.fromBackend()
		if err != nil {
			return false, err
		}
		if needCols && !*aborted {
			c, err := parseColumnDef(p)
			if err != nil {
				return false, backendError{err}
			}
			if hold {
				cp := rs.plan.Columns[i]
				if !checkOrigin(c, cp) {
					s.log.Warn("result metadata disagrees with the analysis; result refused",
						zap.Int("column", i+1), zap.String("org_table", c.orgTable), zap.String("org_name", c.orgName),
						zap.String("want_table", cp.OrgTable), zap.String("want_column", cp.OrgColumn))
					s.abort(aborted, fault.New(fault.ResultMismatch,
						"dbfence: result column %d does not come from what the statement was analysed to read; result refused", i+1))
				}
				if cp.Masker != nil {
					rs.masked = true
				}
			}
			rs.cols = append(rs.cols, c)
		}
		if err := pass(p); err != nil {
			return false, err
		}
	}
	if rs.stmt != nil && !*aborted {
		rs.stmt.cols = append(rs.stmt.cols[:0], rs.cols...)
	}
	p, err = s.fromBackend()
	if err != nil {
		return false, err
	}
	if !isEOFPacket(p) {
		return false, backendError{errors.New("missing EOF after column definitions")}
	}
	if hold && !*aborted {
		off := 0
		for _, n := range s.heldLens {
			if err := s.toClient(s.held[off : off+n]); err != nil {
				return false, err
			}
			off += n
		}
	}
	if err := emit(p); err != nil {
		return false, err
	}
	if rs.binary && eofStatus(p)&statusCursorExists != 0 {
		// The rows stay on the server until COM_STMT_FETCH.
		if rs.stmt != nil {
			rs.stmt.cursorOpen = true
			rs.stmt.rowsSent = 0
		}
		return eofStatus(p)&statusMoreResults != 0, nil
	}
	return s.relayRows(rs, aborted)
}

// relayRows relays rows until the result set's EOF or ERR.
func (s *session) relayRows(rs *resultState, aborted *bool) (more bool, err error) {
	var rowCap int64
	var budget *rules.Budget
	if rs.plan != nil && !rs.plan.Monitor {
		rowCap = rs.plan.RowCap
		if s.e.cfg.Budgets != nil {
			budget = rs.plan.Budget
		}
	}
	counted := rs.rows
	if rs.stmt != nil && rs.stmt.cursorOpen {
		counted = rs.stmt.rowsSent
	}
	for {
		p, err := s.fromBackend()
		if err != nil {
			return false, err
		}
		if isEOFPacket(p) {
			if rs.stmt != nil && rs.stmt.cursorOpen {
				rs.stmt.rowsSent = counted
			}
			return eofStatus(p)&statusMoreResults != 0, s.emitIf(aborted, p)
		}
		if p[0] == hdrErr {
			return false, s.emitIf(aborted, s.serverError(p, rs.restricted))
		}
		if *aborted {
			continue
		}
		counted++
		rs.rows++
		if budget != nil && !s.e.cfg.Budgets.Take(s.rs.User, 1, budget.Rows, budget.Window) {
			s.abort(aborted, fault.New(fault.RowCapExceeded,
				"dbfence: your budget of %d classified rows per %s is used up; an approval is needed for more", budget.Rows, budget.Window))
			s.killBackendQuery()
			continue
		}
		if rowCap > 0 && counted > rowCap {
			s.abort(aborted, fault.New(fault.RowCapExceeded,
				"dbfence: result exceeds the row cap of %d rows for your role; an approval is needed for larger results", rowCap))
			s.killBackendQuery()
			continue
		}
		if !rs.masked {
			s.e.m.rowsPlain.Inc()
			if err := s.toClient(p); err != nil {
				return false, err
			}
			continue
		}
		var row []byte
		if rs.binary {
			row, err = s.maskBinaryRow(p, rs)
		} else {
			row, err = s.maskTextRow(p, rs)
		}
		if err != nil {
			s.abort(aborted, fault.Wrap(fault.ResultMismatch, err, "dbfence: a result row could not be decoded for masking; result refused"))
			continue
		}
		s.e.m.rowsMasked.Inc()
		if err := s.toClient(row); err != nil {
			return false, err
		}
	}
}

func (s *session) emitIf(aborted *bool, p []byte) error {
	if *aborted {
		return nil
	}
	return s.toClient(p)
}

// abort sends the proxy's error in place of the rest of the response; from
// now on the backend's packets are read and dropped.
func (s *session) abort(aborted *bool, fe *fault.Error) {
	if *aborted {
		return
	}
	*aborted = true
	s.e.m.proxyError(fe.Kind.String())
	s.cellBuf = appendErr(s.cellBuf[:0], fe)
	_ = s.client.writePacket(s.cellBuf)
}

// relayLocalInfile relays the server's request for the file the client's own
// LOAD DATA LOCAL statement named, then the file's contents from the client
// (up to the empty packet that ends them), then the server's answer.
func (s *session) relayLocalInfile(req []byte, rs *resultState) (bool, error) {
	if err := s.toClient(req); err != nil {
		return false, err
	}
	if err := s.flushClient(); err != nil {
		return false, err
	}
	for {
		p, err := s.fromClient()
		if err != nil {
			return false, err
		}
		if err := s.toBackend(p); err != nil {
			return false, err
		}
		if len(p) == 0 {
			break
		}
	}
	if err := s.flushBackend(); err != nil {
		return false, err
	}
	p, err := s.fromBackend()
	if err != nil {
		return false, err
	}
	if p[0] == hdrErr {
		return false, s.toClient(s.serverError(p, rs.restricted))
	}
	info, ok := parseOK(p)
	if !ok {
		return false, backendError{errors.New("malformed answer to LOAD DATA LOCAL")}
	}
	rs.rows = int64(info.affectedRows)
	return info.status&statusMoreResults != 0, s.toClient(p)
}

// refuseLocalInfile answers a server's LOCAL INFILE request for a file the
// client's statement did not name (a malicious or confused server, or a
// statement the rules did not allow to read a client file): the server gets
// an empty file, the client gets an error.
func (s *session) refuseLocalInfile(req []byte, aborted *bool) (bool, error) {
	name := string(req[1:])
	if err := s.toBackend(nil); err != nil {
		return false, err
	}
	if err := s.flushBackend(); err != nil {
		return false, err
	}
	p, err := s.fromBackend()
	if err != nil {
		return false, err
	}
	more := false
	if p[0] == hdrOK {
		info, _ := parseOK(p)
		more = info.status&statusMoreResults != 0
	}
	s.log.Warn("server requested a local file the client did not ask for; refused", zap.String("file", name))
	s.abort(aborted, fault.New(fault.LocalInfileRefused, "dbfence: LOAD DATA LOCAL INFILE is not allowed through the proxy"))
	return more, nil
}

// maskTextRow rebuilds a text-protocol row with masked cells.
func (s *session) maskTextRow(p []byte, rs *resultState) ([]byte, error) {
	out := s.rowBuf[:0]
	b := p
	for i := range rs.cols {
		v, isNull, n := readLenEncString(b)
		if n == 0 {
			return nil, errors.New("malformed text row")
		}
		b = b[n:]
		m := rs.plan.Columns[i].Masker
		if isNull || m == nil {
			out = append(out, p[len(p)-len(b)-n:len(p)-len(b)]...)
			continue
		}
		masked, ok := s.maskCell(m, v, rs.cols[i].typ)
		if !ok {
			out = append(out, 0xfb)
			continue
		}
		out = appendLenEncString(out, masked)
	}
	if len(b) != 0 {
		return nil, errors.New("text row longer than its columns")
	}
	s.rowBuf = out
	return out, nil
}

// maskCell masks one cell value of MySQL type typ (text form).
func (s *session) maskCell(m rules.Masker, v []byte, typ byte) ([]byte, bool) {
	if isStringType(typ) {
		s.cellBuf = s.inResultCharset(m).Mask(s.cellBuf[:0], v)
		return s.cellBuf, true
	}
	if s.e.cfg.MaskTyped == nil {
		return nil, false
	}
	out, ok := s.e.cfg.MaskTyped(m, s.cellBuf[:0], v, typ)
	if ok {
		s.cellBuf = out
	}
	return out, ok
}

// binaryCellLen returns the encoded length of a binary-protocol cell of type
// t at b, or -1 when b is too short.
func binaryCellLen(t byte, b []byte) int {
	switch t {
	case gm.MYSQL_TYPE_NULL:
		return 0
	case gm.MYSQL_TYPE_TINY:
		return fixed(b, 1)
	case gm.MYSQL_TYPE_SHORT, gm.MYSQL_TYPE_YEAR:
		return fixed(b, 2)
	case gm.MYSQL_TYPE_INT24, gm.MYSQL_TYPE_LONG, gm.MYSQL_TYPE_FLOAT:
		return fixed(b, 4)
	case gm.MYSQL_TYPE_LONGLONG, gm.MYSQL_TYPE_DOUBLE:
		return fixed(b, 8)
	case gm.MYSQL_TYPE_DATE, gm.MYSQL_TYPE_DATETIME, gm.MYSQL_TYPE_TIMESTAMP, gm.MYSQL_TYPE_TIME,
		gm.MYSQL_TYPE_DATETIME2, gm.MYSQL_TYPE_TIMESTAMP2, gm.MYSQL_TYPE_TIME2, gm.MYSQL_TYPE_NEWDATE:
		if len(b) < 1 {
			return -1
		}
		return fixed(b, 1+int(b[0]))
	}
	_, _, n := readLenEncString(b)
	if n == 0 {
		return -1
	}
	return n
}

func fixed(b []byte, n int) int {
	if len(b) < n {
		return -1
	}
	return n
}

// maskBinaryRow rebuilds a binary-protocol row with masked cells. String
// cells are masked as text; other masked cells take the typed treatment when
// it yields a value of the same binary type, and are sent as NULL otherwise.
func (s *session) maskBinaryRow(p []byte, rs *resultState) ([]byte, error) {
	ncols := len(rs.cols)
	bitmapLen := (ncols + 7 + 2) / 8
	if len(p) < 1+bitmapLen || p[0] != hdrOK {
		return nil, errors.New("malformed binary row")
	}
	out := append(s.rowBuf[:0], p[:1+bitmapLen]...)
	bitmap := out[1 : 1+bitmapLen]
	b := p[1+bitmapLen:]
	for i := 0; i < ncols; i++ {
		bit := i + 2
		if p[1+bit/8]&(1<<(bit%8)) != 0 {
			continue // NULL: no bytes
		}
		t := rs.cols[i].typ
		n := binaryCellLen(t, b)
		if n < 0 {
			return nil, errors.New("binary row shorter than its columns")
		}
		cell := b[:n]
		b = b[n:]
		var m rules.Masker
		if rs.plan != nil && rs.plan.Columns != nil {
			m = rs.plan.Columns[i].Masker
		}
		if m == nil {
			out = append(out, cell...)
			continue
		}
		if isStringType(t) {
			v, _, _ := readLenEncString(cell)
			s.cellBuf = s.inResultCharset(m).Mask(s.cellBuf[:0], v)
			out = appendLenEncString(out, s.cellBuf)
			continue
		}
		if enc, ok := s.maskBinaryTyped(m, t, rs.cols[i].flags, cell); ok {
			out = append(out, enc...)
			continue
		}
		bitmap[bit/8] |= 1 << (bit % 8)
	}
	if len(b) != 0 {
		return nil, errors.New("binary row longer than its columns")
	}
	s.rowBuf = out
	return out, nil
}

// maskBinaryTyped masks a non-string binary cell through its text form.
func (s *session) maskBinaryTyped(m rules.Masker, t byte, flags uint16, cell []byte) ([]byte, bool) {
	if s.e.cfg.MaskTyped == nil {
		return nil, false
	}
	text, ok := binaryToText(t, flags, cell)
	if !ok {
		return nil, false
	}
	masked, ok := s.e.cfg.MaskTyped(m, nil, text, t)
	if !ok {
		return nil, false
	}
	return textToBinary(t, flags, masked)
}

// errorsWithoutValues are server errors whose text names only identifiers
// or the client's own statement, never a stored value; their text is kept
// for restricted roles. Every other server error text is withheld from them:
// conversion, truncation, duplicate-key and XPath errors quote stored values
// (bypass class 8).
var errorsWithoutValues = map[uint16]bool{
	1044: true, 1045: true, 1046: true, 1049: true, 1054: true, 1064: true, 1142: true, 1143: true,
	1146: true, 1205: true, 1213: true, 1317: true, 1227: true, 1370: true, 1305: true, 1109: true,
}

// serverError returns the backend's ERR packet, or for a restricted role one
// with the same code and SQLSTATE whose text is withheld.
func (s *session) serverError(p []byte, restricted bool) []byte {
	code := errCode(p)
	if !restricted || errorsWithoutValues[code] || len(p) < 9 || p[3] != '#' {
		return p
	}
	s.e.m.proxyError("server_error_redacted")
	out := append(s.cellBuf[:0], p[:9]...)
	out = fmt.Appendf(out, "dbfence: the server reported error %d; its text is withheld from your role because it can quote stored values", code)
	s.cellBuf = out
	return out
}

// utf8Compatible are result character sets whose text maskers read directly
// (UTF-8, or single-byte sets in which every byte is one character).
var utf8Compatible = map[string]bool{"": true, "utf8": true, "utf8mb3": true, "utf8mb4": true, "ascii": true, "binary": true, "latin1": true}

// inResultCharset returns m adapted to the session's result character set:
// string cells in gbk or gb18030 are decoded, masked per character and
// encoded back (Config.MaskerForCharset). A set no adapter handles gets
// every byte redacted: a cell is never returned half-understood.
func (s *session) inResultCharset(m rules.Masker) rules.Masker {
	if utf8Compatible[s.resultCharset] {
		return m
	}
	if a, ok := s.charsetMaskers[m]; ok {
		return a
	}
	var a rules.Masker = redactBytes{}
	if s.e.cfg.MaskerForCharset != nil {
		if cm, err := s.e.cfg.MaskerForCharset(m, s.resultCharset); err == nil {
			a = cm
		} else {
			s.log.Warn("no masker for the result character set; masked cells are fully redacted",
				zap.String("charset", s.resultCharset), zap.Error(err))
		}
	}
	if s.charsetMaskers == nil {
		s.charsetMaskers = map[rules.Masker]rules.Masker{}
	}
	s.charsetMaskers[m] = a
	return a
}

// redactBytes replaces every byte with '*'.
type redactBytes struct{}

func (redactBytes) Mask(dst, src []byte) []byte {
	for range src {
		dst = append(dst, '*')
	}
	return dst
}
