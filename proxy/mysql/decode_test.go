package mysql

import (
	"bytes"
	"net"
	"strings"
	"testing"

	gm "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/dbfence/dbfence/rules"
)

func TestVersionNumber(t *testing.T) {
	tests := []struct {
		desc    string
		in      string
		num     uint32
		mariaDB bool
	}{
		{"MariaDB with replication prefix", "5.5.5-10.11.19-MariaDB-0+deb12u1", 101119, true},
		{"MariaDB without prefix", "11.4.2-MariaDB", 110402, true},
		{"MySQL 8", "8.0.36", 80036, false},
		{"MySQL with suffix", "5.7.44-log", 50744, false},
		{"garbage", "not a version", 0, false},
	}
	for _, tc := range tests {
		n, m := versionNumber(tc.in)
		if n != tc.num || m != tc.mariaDB {
			t.Errorf("%s: got %d %v", tc.desc, n, m)
		}
	}
}

func TestLenEncRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 250, 251, 1<<16 - 1, 1 << 16, 1<<24 - 1, 1 << 24, 1<<64 - 1} {
		b := appendLenEnc(nil, v)
		got, isNull, n := readLenEnc(b)
		if got != v || isNull || n != len(b) {
			t.Errorf("%d: got %d %v %d/%d", v, got, isNull, n, len(b))
		}
	}
}

func TestPacketFramingSplitsAt16MiB(t *testing.T) {
	for _, size := range []int{0, 1, maxFrame - 1, maxFrame, maxFrame + 1, 2 * maxFrame} {
		a, b := net.Pipe()
		w := newPacketConn(a, 0)
		r := newPacketConn(b, 0)
		payload := bytes.Repeat([]byte{0xfe}, size)
		go func() { _ = w.writePacket(payload); _ = w.flush(); a.Close() }()
		got, err := r.readPacket()
		if err != nil || !bytes.Equal(got, payload) {
			t.Fatalf("size %d: got %d bytes, %v", size, len(got), err)
		}
		if w.seq != r.seq {
			t.Fatalf("size %d: writer seq %d, reader seq %d", size, w.seq, r.seq)
		}
		b.Close()
	}
}

// TestPacketBufferGrowsWithTheBytes: a frame header that claims 16 MiB
// followed by a few bytes and a close costs a small buffer, not 16 MiB.
func TestPacketBufferGrowsWithTheBytes(t *testing.T) {
	a, b := net.Pipe()
	r := newPacketConn(b, 0)
	go func() {
		n := maxFrame - 1
		_, _ = a.Write(append([]byte{byte(n), byte(n >> 8), byte(n >> 16), 0}, bytes.Repeat([]byte{1}, 1000)...))
		a.Close()
	}()
	if _, err := r.readPacket(); err == nil {
		t.Fatal("a truncated frame was read")
	}
	if c := cap(r.rbuf); c > 1<<20 {
		t.Fatalf("buffer of %d bytes for 1,000 bytes received", c)
	}
}

// The fuzzers feed hostile bytes to every decoder of peer input: none may
// panic, and whatever they accept must be internally consistent.

func FuzzParseServerHandshake(f *testing.F) {
	f.Add([]byte("\x0a5.5.5-10.11.19-MariaDB\x00\x01\x00\x00\x00abcdefgh\x00\xff\xf7\x2d\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00ijklmnopqrst\x00mysql_native_password\x00"))
	f.Fuzz(func(t *testing.T, p []byte) {
		h, err := parseServerHandshake(p)
		if err != nil {
			return
		}
		out, offered := h.rewriteForClient(true)
		if len(out) != len(p) || offered&strippedCaps != 0 {
			t.Fatalf("rewrite changed length or kept stripped capabilities")
		}
	})
}

func FuzzParseClientResponse(f *testing.F) {
	f.Add(append(append(make([]byte, 32), "root\x00\x14"...), bytes.Repeat([]byte{1}, 20)...))
	f.Add([]byte{0x8d, 0xa2, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := parseClientResponse(p)
		if err != nil {
			return
		}
		if len(p) >= sslRequestLen {
			out := r.rewriteForBackend(^uint32(0), false)
			if len(out) != len(p) {
				t.Fatal("rewrite changed length")
			}
		}
	})
}

func FuzzParseChangeUser(f *testing.F) {
	f.Add([]byte("\x11bob\x00\x14aaaaaaaaaaaaaaaaaaaa db\x00\x2d\x00mysql_native_password\x00"), uint32(gm.CLIENT_SECURE_CONNECTION|gm.CLIENT_PLUGIN_AUTH))
	f.Fuzz(func(t *testing.T, p []byte, caps uint32) {
		_, _ = parseChangeUser(p, caps)
	})
}

func FuzzParseColumnDef(f *testing.F) {
	f.Add([]byte("\x03def\x02db\x01t\x01t\x01c\x01c\x0c\x2d\x00\x40\x00\x00\x00\xfd\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, p []byte) {
		_, _ = parseColumnDef(p)
	})
}

// FuzzMaskRows feeds arbitrary rows to the text and binary maskers: they
// either reject the row or produce one with the same number of cells.
func FuzzMaskRows(f *testing.F) {
	f.Add([]byte("\x011\x06\xe5\xbc\xa0\xe4\xb8\x89"), []byte{gm.MYSQL_TYPE_LONG, gm.MYSQL_TYPE_VAR_STRING})
	f.Add([]byte("\x00\x00\x01\x00\x00\x00\x02ab"), []byte{gm.MYSQL_TYPE_LONG, gm.MYSQL_TYPE_VAR_STRING})
	f.Fuzz(func(t *testing.T, row []byte, types []byte) {
		if len(types) == 0 || len(types) > 64 {
			return
		}
		s := &session{e: NewEngine(Config{Gate: passGate{}})}
		rs := &resultState{plan: &rules.StatementVerdict{}, masked: true}
		for i, typ := range types {
			rs.cols = append(rs.cols, columnInfo{typ: typ})
			cp := rules.ColumnPlan{}
			if i%2 == 1 {
				cp.Masker = starMasker{}
			}
			rs.plan.Columns = append(rs.plan.Columns, cp)
		}
		if out, err := s.maskTextRow(row, rs); err == nil {
			n := 0
			for b := out; len(b) > 0; n++ {
				_, _, k := readLenEncString(b)
				if k == 0 {
					t.Fatalf("masked text row is malformed: %x", out)
				}
				b = b[k:]
			}
			if n != len(types) {
				t.Fatalf("masked text row has %d cells, want %d", n, len(types))
			}
		}
		_, _ = s.maskBinaryRow(row, rs)
	})
}

func TestExecuteParamsForAudit(t *testing.T) {
	st := &preparedStmt{numParams: 4}
	pkt := []byte{gm.COM_STMT_EXECUTE, 1, 0, 0, 0, 0, 1, 0, 0, 0}
	pkt = append(pkt, 0b0000_0100, 1) // null bitmap: param 3 is NULL; types bound
	pkt = append(pkt, gm.MYSQL_TYPE_LONGLONG, 0, gm.MYSQL_TYPE_VAR_STRING, 0, gm.MYSQL_TYPE_NULL, 0, gm.MYSQL_TYPE_DOUBLE, 0)
	pkt = append(pkt, 42, 0, 0, 0, 0, 0, 0, 0)
	pkt = appendLenEncString(pkt, []byte("110105194912310021"))
	pkt = append(pkt, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f) // 1.5
	got := executeParams(pkt, st)
	want := []string{"42", "110105194912310021", "NULL", "1.5"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q want %q", got, want)
	}
	// A later execution without bound types reuses them; long data is named.
	st.longData = map[uint16]bool{1: true}
	pkt2 := []byte{gm.COM_STMT_EXECUTE, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0b0000_0100, 0}
	pkt2 = append(pkt2, 7, 0, 0, 0, 0, 0, 0, 0)
	pkt2 = append(pkt2, 0, 0, 0, 0, 0, 0, 0, 0x40) // 2
	got = executeParams(pkt2, st)
	if strings.Join(got, "|") != "7|<long data>|NULL|2" {
		t.Fatalf("got %q", got)
	}
}

func FuzzExecuteParams(f *testing.F) {
	f.Add([]byte{gm.COM_STMT_EXECUTE, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0}, uint16(1))
	f.Fuzz(func(t *testing.T, pkt []byte, n uint16) {
		_ = executeParams(pkt, &preparedStmt{numParams: n % 64})
	})
}
