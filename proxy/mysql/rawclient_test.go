package mysql

import (
	"encoding/binary"
	"fmt"
	"net"
	"testing"
	"time"
	"unicode/utf8"

	gm "github.com/go-mysql-org/go-mysql/mysql"
)

// rawClient speaks the client side of the protocol by hand, for commands no
// driver at hand sends (COM_CHANGE_USER, cursors, replication, garbage).
type rawClient struct {
	t    testing.TB
	conn net.Conn
	pc   *packetConn
}

const rawClientCaps = gm.CLIENT_LONG_PASSWORD | gm.CLIENT_PROTOCOL_41 | gm.CLIENT_SECURE_CONNECTION |
	gm.CLIENT_PLUGIN_AUTH | gm.CLIENT_TRANSACTIONS | gm.CLIENT_MULTI_STATEMENTS | gm.CLIENT_MULTI_RESULTS |
	gm.CLIENT_PS_MULTI_RESULTS | gm.CLIENT_CONNECT_WITH_DB | gm.CLIENT_LOCAL_FILES

func dialRaw(t testing.TB, addr, user, pass, db string) (*rawClient, []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { c.Close() })
	rc := &rawClient{t: t, conn: c, pc: newPacketConn(c, 0)}
	greet, err := rc.pc.readPacket()
	if err != nil {
		t.Fatal(err)
	}
	hs, err := parseServerHandshake(append([]byte(nil), greet...))
	if err != nil {
		t.Fatal(err)
	}
	resp := make([]byte, 32)
	binary.LittleEndian.PutUint32(resp, rawClientCaps)
	binary.LittleEndian.PutUint32(resp[4:], 1<<24)
	resp[8] = 45 // utf8mb4_general_ci
	resp = append(resp, user...)
	resp = append(resp, 0)
	auth := gm.CalcPassword(hs.scramble, []byte(pass))
	resp = append(resp, byte(len(auth)))
	resp = append(resp, auth...)
	resp = append(resp, db...)
	resp = append(resp, 0)
	resp = append(resp, "mysql_native_password"...)
	resp = append(resp, 0)
	if err := rc.pc.writePacket(resp); err != nil || rc.pc.flush() != nil {
		t.Fatal(err)
	}
	return rc, rc.finishAuth(pass)
}

// finishAuth answers auth switches with mysql_native_password and returns
// the final OK or ERR packet.
func (rc *rawClient) finishAuth(pass string) []byte {
	for {
		p, err := rc.pc.readPacket()
		if err != nil {
			rc.t.Fatal(err)
		}
		if p[0] != hdrEOF {
			return append([]byte(nil), p...)
		}
		_, n := readNulString(p[1:])
		scramble := p[1+n:]
		if len(scramble) > 0 && scramble[len(scramble)-1] == 0 {
			scramble = scramble[:len(scramble)-1]
		}
		if err := rc.pc.writePacket(gm.CalcPassword(scramble, []byte(pass))); err != nil || rc.pc.flush() != nil {
			rc.t.Fatal(err)
		}
	}
}

// command sends one command packet (sequence 0).
func (rc *rawClient) command(payload []byte) {
	rc.pc.seq = 0
	if err := rc.pc.writePacket(payload); err != nil || rc.pc.flush() != nil {
		rc.t.Fatal(err)
	}
}

// read returns the next packet (a copy).
func (rc *rawClient) read() []byte {
	p, err := rc.pc.readPacket()
	if err != nil {
		rc.t.Fatalf("read: %v", err)
	}
	return append([]byte(nil), p...)
}

// query runs a text query and returns its rows as strings ("NULL" for NULL)
// or the error code.
func (rc *rawClient) query(sql string) ([][]string, uint16) {
	rc.command(append([]byte{gm.COM_QUERY}, sql...))
	return rc.readTextResult()
}

func (rc *rawClient) readTextResult() ([][]string, uint16) {
	p := rc.read()
	switch p[0] {
	case hdrErr:
		return nil, errCode(p)
	case hdrOK:
		return nil, 0
	}
	n, _, _ := readLenEnc(p)
	for i := 0; i <= int(n); i++ {
		rc.read()
	}
	var rows [][]string
	for {
		p := rc.read()
		if isEOFPacket(p) {
			return rows, 0
		}
		if p[0] == hdrErr {
			return rows, errCode(p)
		}
		var row []string
		for b := p; len(b) > 0; {
			v, isNull, k := readLenEncString(b)
			if isNull {
				row = append(row, "NULL")
			} else {
				row = append(row, string(v))
			}
			b = b[k:]
		}
		rows = append(rows, row)
	}
}

// prepare prepares sql and returns the statement id and column count.
func (rc *rawClient) prepare(sql string) (uint32, int) {
	rc.command(append([]byte{gm.COM_STMT_PREPARE}, sql...))
	p := rc.read()
	if p[0] != hdrOK {
		rc.t.Fatalf("prepare %q failed: %d %s", sql, errCode(p), p[9:])
	}
	id := binary.LittleEndian.Uint32(p[1:5])
	cols := int(binary.LittleEndian.Uint16(p[5:7]))
	params := int(binary.LittleEndian.Uint16(p[7:9]))
	for _, n := range []int{params, cols} {
		if n > 0 {
			for i := 0; i <= n; i++ {
				rc.read()
			}
		}
	}
	return id, cols
}

// binaryRows reads binary rows until EOF and decodes string and integer cells.
func (rc *rawClient) binaryRows(types []byte) (rows [][]string, status uint16, code uint16) {
	for {
		p := rc.read()
		if isEOFPacket(p) {
			return rows, eofStatus(p), 0
		}
		if p[0] == hdrErr {
			return rows, 0, errCode(p)
		}
		bitmapLen := (len(types) + 7 + 2) / 8
		b := p[1+bitmapLen:]
		var row []string
		for i, t := range types {
			bit := i + 2
			if p[1+bit/8]&(1<<(bit%8)) != 0 {
				row = append(row, "NULL")
				continue
			}
			n := binaryCellLen(t, b)
			cell := b[:n]
			b = b[n:]
			if isStringType(t) {
				v, _, _ := readLenEncString(cell)
				row = append(row, string(v))
			} else if txt, ok := binaryToText(t, 0, cell); ok {
				row = append(row, string(txt))
			} else {
				row = append(row, fmt.Sprintf("%x", cell))
			}
		}
		rows = append(rows, row)
	}
}

// starMasker replaces every character with '*', as the simplest masker.
type starMasker struct{}

func (starMasker) Mask(dst, src []byte) []byte {
	for n := utf8.RuneCount(src); n > 0; n-- {
		dst = append(dst, '*')
	}
	return dst
}
