package mysql

import (
	"io"
	"net"
	"testing"
	"time"

	gm "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/dbfence/dbfence/rules"
)

// rowStream is a backend that sends one result set of n identical rows,
// framed with correct sequence ids, generated lazily into a reused buffer.
type rowStream struct {
	buf  []byte // generated, not yet read: buf[off:]
	off  int
	seq  byte
	row  []byte
	left int
	done bool
}

func (r *rowStream) frame(payload []byte) {
	r.buf = append(r.buf, byte(len(payload)), byte(len(payload)>>8), byte(len(payload)>>16), r.seq)
	r.buf = append(r.buf, payload...)
	r.seq++
}

func (r *rowStream) Read(p []byte) (int, error) {
	if r.off == len(r.buf) {
		r.buf, r.off = r.buf[:0], 0
	}
	for len(r.buf)-r.off < len(p) && !r.done {
		if r.left == 0 {
			r.frame([]byte{hdrEOF, 0, 0, 2, 0})
			r.done = true
			break
		}
		r.frame(r.row)
		r.left--
	}
	if r.off == len(r.buf) {
		return 0, io.EOF
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}

// memConn is a net.Conn reading from r and discarding writes.
type memConn struct{ r io.Reader }

func (c memConn) Read(p []byte) (int, error)     { return c.r.Read(p) }
func (memConn) Write(p []byte) (int, error)      { return len(p), nil }
func (memConn) Close() error                     { return nil }
func (memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (memConn) SetDeadline(time.Time) error      { return nil }
func (memConn) SetReadDeadline(time.Time) error  { return nil }
func (memConn) SetWriteDeadline(time.Time) error { return nil }

// benchRows relays b.N rows of a people row (id, name, id_card, phone,
// address) through relayRows, with or without masked columns.
func benchRows(b *testing.B, masked bool) {
	var row []byte
	for _, v := range []string{"4711", "欧阳娜娜", "11010519491231002X", "13812345678", "四川省成都市武侯区人民南路四段12号"} {
		row = appendLenEncString(row, []byte(v))
	}
	src := &rowStream{row: row, left: b.N, seq: 1}
	s := &session{e: NewEngine(Config{Gate: passGate{}})}
	s.backend = newPacketConn(memConn{src}, 0)
	s.backend.seq = 1
	s.client = newPacketConn(memConn{}, 0)
	plan := &rules.StatementVerdict{}
	rs := &resultState{plan: plan}
	if masked {
		plan.Columns = make([]rules.ColumnPlan, 5)
		plan.Columns[1].Masker, plan.Columns[2].Masker = starMasker{}, starMasker{}
		rs.masked = true
		for i := 0; i < 5; i++ {
			rs.cols = append(rs.cols, columnInfo{typ: gm.MYSQL_TYPE_VAR_STRING})
		}
	}
	aborted := false
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := s.relayRows(rs, &aborted); err != nil || aborted {
		b.Fatal(err, aborted)
	}
	if rs.rows != int64(b.N) {
		b.Fatalf("relayed %d rows, want %d", rs.rows, b.N)
	}
}

// BenchmarkRelayRowPlain: a row with no masked column is forwarded without
// being decoded (budget ≤ 100 ns/row, 0 allocs).
func BenchmarkRelayRowPlain(b *testing.B) { benchRows(b, false) }

// BenchmarkRelayRowMasked: a row with two masked string columns is decoded
// and rebuilt (budget ≤ 1 µs/row).
func BenchmarkRelayRowMasked(b *testing.B) { benchRows(b, true) }
