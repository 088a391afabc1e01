package postgres

import (
	"bytes"
	"encoding/binary"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/dbfence/dbfence/rules"
)

func TestDecodeBind(t *testing.T) {
	enc := func(m *pgproto3.Bind) []byte {
		b, err := m.Encode(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b[5:]
	}
	tests := []struct {
		desc    string
		body    []byte
		ok      bool
		formats []int16
	}{
		{"no parameters, all text", enc(&pgproto3.Bind{}), true, nil},
		{"named, with NULL and values, binary results",
			enc(&pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "s", ParameterFormatCodes: []int16{1},
				Parameters: [][]byte{nil, []byte("abc")}, ResultFormatCodes: []int16{1, 0}}), true, []int16{1, 0}},
		{"truncated", enc(&pgproto3.Bind{ResultFormatCodes: []int16{1}})[:5], false, nil},
		{"invalid format code", []byte{0, 0, 0, 1, 0, 7, 0, 0, 0, 0}, false, nil},
		{"negative value length other than -1", []byte{0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 0, 0}, false, nil},
		{"bytes after the result formats", append(enc(&pgproto3.Bind{}), 0), false, nil},
	}
	for _, tc := range tests {
		m, ok := decodeBind(tc.body)
		if ok != tc.ok || (ok && !slices.Equal(m.resultFormats, tc.formats)) {
			t.Errorf("%s: ok=%v formats=%v", tc.desc, ok, m.resultFormats)
		}
	}
}

func TestDecodeRowDescription(t *testing.T) {
	rd := &pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{
		{Name: []byte("id"), TableOID: 16384, TableAttributeNumber: 1, DataTypeOID: 23, DataTypeSize: 4, TypeModifier: -1, Format: 1},
		{Name: []byte("name"), TableOID: 16384, TableAttributeNumber: 2, DataTypeOID: 25, DataTypeSize: -1, TypeModifier: -1},
	}}
	b, _ := rd.Encode(nil)
	tests := []struct {
		desc string
		body []byte
		ok   bool
		n    int
	}{
		{"two fields", b[5:], true, 2},
		{"truncated", b[5 : len(b)-1], false, 0},
		{"negative count", []byte{0xff, 0xff}, false, 0},
		{"invalid format", append(b[5:len(b)-2:len(b)-2], 0, 2), false, 0},
	}
	for _, tc := range tests {
		cols, ok := decodeRowDescription(nil, tc.body)
		if ok != tc.ok || (ok && len(cols) != tc.n) {
			t.Errorf("%s: ok=%v cols=%v", tc.desc, ok, cols)
		}
		if ok && (cols[0].typeOID != 23 || cols[0].format != 1 || cols[1].tableOID != 16384 || cols[1].attnum != 2) {
			t.Errorf("%s: decoded %+v", tc.desc, cols)
		}
	}
}

func TestMaskRow(t *testing.T) {
	s := &session{e: NewEngine(Config{})}
	row := func(vals ...[]byte) []byte {
		dr := &pgproto3.DataRow{Values: vals}
		b, _ := dr.Encode(nil)
		return b[5:]
	}
	plan := []rules.ColumnPlan{{}, {Masker: starMasker{}}, {Masker: starMasker{}}}
	tests := []struct {
		desc string
		cols []column
		in   []byte
		want [][]byte
		ok   bool
	}{
		{"text masked, int masked to NULL", []column{{typeOID: 23}, {typeOID: 25}, {typeOID: 20}},
			row([]byte("1"), []byte("张三"), []byte("13812345678")), [][]byte{[]byte("1"), []byte("**"), nil}, true},
		{"binary varchar masked as text", []column{{typeOID: 23, format: 1}, {typeOID: 1043, format: 1}, {typeOID: 1042, format: 1}},
			row([]byte{0, 0, 0, 1}, []byte("abc"), []byte("xy  ")), [][]byte{{0, 0, 0, 1}, []byte("***"), []byte("****")}, true},
		{"binary jsonb is not text", []column{{typeOID: 23}, {typeOID: 3802, format: 1}, {typeOID: 25}},
			row([]byte("1"), []byte("\x01{}"), nil), [][]byte{[]byte("1"), nil, nil}, true},
		{"column count differs from the description", []column{{typeOID: 23}, {typeOID: 25}, {typeOID: 25}},
			row([]byte("1"), []byte("x")), nil, false},
		{"truncated cell", []column{{typeOID: 23}, {typeOID: 25}, {typeOID: 25}},
			row([]byte("1"), []byte("x"), []byte("yy"))[:14], nil, false},
	}
	for _, tc := range tests {
		out, ok := s.maskRow(tc.in, plan, tc.cols)
		if ok != tc.ok {
			t.Errorf("%s: ok=%v", tc.desc, ok)
			continue
		}
		if !ok {
			continue
		}
		var dr pgproto3.DataRow
		if err := dr.Decode(out); err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		if len(dr.Values) != len(tc.want) {
			t.Fatalf("%s: %q", tc.desc, dr.Values)
		}
		for i := range tc.want {
			if !bytes.Equal(dr.Values[i], tc.want[i]) || (dr.Values[i] == nil) != (tc.want[i] == nil) {
				t.Errorf("%s: cell %d = %q, want %q", tc.desc, i, dr.Values[i], tc.want[i])
			}
		}
	}
}

func TestRestoreUnwindsChainedFailures(t *testing.T) {
	// Parse x=A (backend has x=P already, so it fails), then Parse x=B
	// (skipped): the map must end at P, what the backend holds.
	s := &session{e: NewEngine(Config{}), stmts: map[string]*stmtState{}}
	p, a, b := &stmtState{}, &stmtState{}, &stmtState{}
	s.stmts["x"] = p
	push := func(st *stmtState) {
		prev, had := s.stmts["x"]
		s.stmts["x"] = st
		s.queue = append(s.queue, pending{kind: pendParse, name: "x", stmt: st, prevStmt: prev, hadPrev: had})
	}
	push(a)
	push(b)
	for s.queued() > 0 {
		s.skipHead()
	}
	if s.stmts["x"] != p {
		t.Fatalf("statement x maps to %p, want the backend's %p", s.stmts["x"], p)
	}
	// Close then a failed Parse of the same name: the entry is absent.
	s.queue = append(s.queue[:0], pending{kind: pendClose, target: 'S', name: "x", prevStmt: p, hadPrev: true})
	delete(s.stmts, "x")
	s.pop() // the Close succeeded
	push(a)
	s.skipHead()
	if _, ok := s.stmts["x"]; ok {
		t.Fatal("a failed Parse after Close left an entry")
	}
}

func FuzzDecoders(f *testing.F) {
	for _, m := range []pgproto3.FrontendMessage{
		&pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "s", Parameters: [][]byte{nil, []byte("x")}, ResultFormatCodes: []int16{1}},
		&pgproto3.Parse{Name: "s", Query: "SELECT $1", ParameterOIDs: []uint32{23}},
		&pgproto3.Execute{Portal: "p", MaxRows: 10},
		&pgproto3.Describe{ObjectType: 'S', Name: "s"},
		&pgproto3.Query{String: "SELECT 1"},
	} {
		b, _ := m.Encode(nil)
		f.Add(b[5:])
	}
	rd, _ := (&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("a"), DataTypeOID: 25}}}).Encode(nil)
	f.Add(rd[5:])
	f.Fuzz(func(t *testing.T, b []byte) {
		if bm, ok := decodeBind(b); ok {
			if lits := appendBindLiterals(nil, &bm); len(lits) != bm.numParams {
				t.Fatalf("Bind of %d parameters gave %d literals", bm.numParams, len(lits))
			}
		}
		if p, ok := decodeParse(b); ok && len(p.rest) < 2 {
			t.Fatalf("Parse accepted without parameter count: %q", b)
		}
		decodeExecute(b)
		decodeTarget(b)
		decodeQuery(b)
		if cols, ok := decodeRowDescription(nil, b); ok {
			s := &session{e: NewEngine(Config{})}
			plan := make([]rules.ColumnPlan, len(cols))
			for i := range plan {
				plan[i].Masker = starMasker{}
			}
			s.maskRow(b, plan, cols)
		}
		errorFields(b)
		decodeParameterStatus(b)
		if len(b) >= 4 {
			out, _ := filterMechanisms(b)
			var a pgproto3.AuthenticationSASL
			_ = a.Decode(out)
		}
	})
}

func FuzzDataRowMasking(f *testing.F) {
	dr, _ := (&pgproto3.DataRow{Values: [][]byte{[]byte("1"), nil, []byte("张三")}}).Encode(nil)
	f.Add(dr[5:], uint32(25), int16(0))
	f.Add(dr[5:], uint32(20), int16(1))
	f.Fuzz(func(t *testing.T, body []byte, oid uint32, format int16) {
		s := &session{e: NewEngine(Config{})}
		cols := []column{{typeOID: 23}, {typeOID: oid, format: format & 1}, {typeOID: oid, format: format & 1}}
		plan := []rules.ColumnPlan{{}, {Masker: starMasker{}}, {Masker: starMasker{}}}
		out, ok := s.maskRow(body, plan, cols)
		if !ok {
			return
		}
		var in, got pgproto3.DataRow
		if err := in.Decode(body); err != nil {
			t.Fatalf("accepted a row pgproto3 rejects: %v", err)
		}
		if err := got.Decode(out); err != nil || len(got.Values) != 3 {
			t.Fatalf("rebuilt row invalid: %v", err)
		}
		if !bytes.Equal(got.Values[0], in.Values[0]) {
			t.Fatal("unmasked cell changed")
		}
		for i := 1; i < 3; i++ {
			if in.Values[i] != nil && !textLike(oid, format&1) && got.Values[i] != nil {
				t.Fatalf("masked non-text cell %d not NULL", i)
			}
			if in.Values[i] != nil && len(in.Values[i]) > 0 && bytes.Equal(got.Values[i], in.Values[i]) && !bytes.Equal(in.Values[i], bytes.Repeat([]byte("*"), len(in.Values[i]))) {
				t.Fatalf("masked cell %d unchanged", i)
			}
		}
	})
}

func FuzzStartupPacket(f *testing.F) {
	sm, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "u", "database": "d", "replication": "true"}}).Encode(nil)
	f.Add(sm)
	f.Add([]byte{0, 0, 0, 8, 4, 210, 22, 47})
	f.Add([]byte{0, 0, 0, 16, 4, 210, 22, 46, 0, 0, 0, 1, 0, 0, 0, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		code, rest, raw, err := readStartupPacket(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(raw) < 8 || len(raw) > maxStartupLen || int(binary.BigEndian.Uint32(raw)) != len(raw) {
			t.Fatalf("bad packet accepted: %d bytes", len(raw))
		}
		if code == codeProtocol30 {
			if sm, err := parseStartupParams(rest); err == nil {
				_ = checkStartupParams(sm)
			}
		}
	})
}

// FuzzClientStream feeds arbitrary bytes as a client's message stream to a
// session whose backend is a sink: the session must answer or end, never panic.
func FuzzClientStream(f *testing.F) {
	q, _ := (&pgproto3.Query{String: "SELECT 1"}).Encode(nil)
	f.Add(q)
	var pipe []byte
	for _, m := range []pgproto3.FrontendMessage{&pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Bind{}, &pgproto3.Execute{}} {
		pipe, _ = m.Encode(pipe)
	}
	f.Add(pipe)
	f.Add([]byte{'F', 0, 0, 0, 4, 'z', 0, 0, 0, 4})
	f.Fuzz(func(t *testing.T, stream []byte) {
		e := NewEngine(Config{Gate: passGate{}, MaxMessage: 1 << 16})
		cc, peer := net.Pipe()
		bc, sink := net.Pipe()
		go func() { // the client: write the stream and hang up
			_, _ = peer.Write(stream)
			peer.Close()
		}()
		go func() { // ... reading everything meanwhile
			buf := make([]byte, 4096)
			for {
				if _, err := peer.Read(buf); err != nil {
					return
				}
			}
		}()
		go func() { // the backend: read everything, then close
			buf := make([]byte, 4096)
			for {
				if _, err := sink.Read(buf); err != nil {
					return
				}
			}
		}()
		s := &session{e: e, clientConn: cc, backendConn: bc, stmts: map[string]*stmtState{}, portals: map[string]*portalState{}, txStatus: 'I'}
		s.ps = &proxyTestSession
		s.log = e.cfg.Log
		s.client = newMsgConn(cc, e.cfg.MaxMessage)
		s.backend = newMsgConn(bc, e.cfg.MaxBackendMessage)
		// The sink never answers: a drain of a long pipeline ends on this deadline.
		_ = bc.SetReadDeadline(time.Now().Add(time.Second))
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				typ, body, err := s.client.readMessage()
				if err != nil {
					return
				}
				if typ == msgSync || typ == msgQuery || typ == msgFlush {
					return // would wait for the backend's answer
				}
				if keep, err := s.dispatch(typ, body); err != nil || !keep {
					return
				}
				_ = s.backend.flush()
			}
		}()
		<-done
		cc.Close()
		bc.Close()
		peer.Close()
		sink.Close()
	})
}

func TestBindLiterals(t *testing.T) {
	for _, tc := range []struct {
		desc    string
		formats []int16
		params  [][]byte
		want    []string
	}{
		{"no parameters", nil, nil, nil},
		{"all text by default", nil, [][]byte{[]byte("42"), []byte("O'Brien")}, []string{"42", "O'Brien"}},
		{"NULL", nil, [][]byte{nil, []byte("")}, []string{"NULL", ""}},
		{"one code for all", []int16{1}, [][]byte{{0, 0, 0, 7}, {0xff}}, []string{`\x00000007`, `\xff`}},
		{"a code per parameter", []int16{0, 1, 0}, [][]byte{[]byte("a"), {0xab, 0x01}, nil}, []string{"a", `\xab01`, "NULL"}},
		{"fewer codes than parameters: text", []int16{1, 1}, [][]byte{{1}, {2}, []byte("z")}, []string{`\x01`, `\x02`, "z"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			msg, err := (&pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "s",
				ParameterFormatCodes: tc.formats, Parameters: tc.params, ResultFormatCodes: []int16{1}}).Encode(nil)
			if err != nil {
				t.Fatal(err)
			}
			bm, ok := decodeBind(msg[5:])
			if !ok {
				t.Fatalf("Bind not decoded: %q", msg)
			}
			got := appendBindLiterals([]string{"parse-literal"}, &bm)
			if want := append([]string{"parse-literal"}, tc.want...); !slices.Equal(got, want) {
				t.Errorf("literals %q, want %q", got, want)
			}
			if !slices.Equal(bm.resultFormats, []int16{1}) || string(bm.portal) != "p" || string(bm.stmt) != "s" {
				t.Errorf("decoded %+v", bm)
			}
		})
	}
}

func TestServerVersionNum(t *testing.T) {
	for in, want := range map[string]uint32{
		"15.20 (Debian 15.20-0+deb12u1)": 150020,
		"16.4":                           160004,
		"17beta1":                        170000,
		"18devel":                        180000,
		"9.6.24":                         90624,
		"10.23":                          100023,
		"":                               0,
		"devel":                          0,
		".15":                            0,
		"99999999999999.1":               0,
	} {
		if got := serverVersionNum(in); got != want {
			t.Errorf("serverVersionNum(%q) = %d, want %d", in, got, want)
		}
	}
}
