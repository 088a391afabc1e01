package mysql

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	gm "github.com/go-mysql-org/go-mysql/mysql"
)

// binaryToText renders a binary-protocol integer or date cell in the text
// form the text protocol would carry, so one typed masker serves both.
func binaryToText(t byte, flags uint16, cell []byte) ([]byte, bool) {
	unsigned := flags&gm.UNSIGNED_FLAG != 0
	switch t {
	case gm.MYSQL_TYPE_TINY, gm.MYSQL_TYPE_SHORT, gm.MYSQL_TYPE_YEAR, gm.MYSQL_TYPE_INT24,
		gm.MYSQL_TYPE_LONG, gm.MYSQL_TYPE_LONGLONG:
		u, s := readInt(cell, unsigned)
		if unsigned {
			return strconv.AppendUint(nil, u, 10), true
		}
		return strconv.AppendInt(nil, s, 10), true
	case gm.MYSQL_TYPE_DATE, gm.MYSQL_TYPE_DATETIME, gm.MYSQL_TYPE_TIMESTAMP, gm.MYSQL_TYPE_NEWDATE:
		n := int(cell[0])
		if n < 4 {
			return []byte("0000-00-00"), true
		}
		y := binary.LittleEndian.Uint16(cell[1:3])
		return fmt.Appendf(nil, "%04d-%02d-%02d", y, cell[3], cell[4]), true
	}
	return nil, false
}

// readInt decodes a little-endian integer cell of 1, 2, 4 or 8 bytes.
func readInt(cell []byte, unsigned bool) (uint64, int64) {
	switch len(cell) {
	case 1:
		if unsigned {
			return uint64(cell[0]), 0
		}
		return 0, int64(int8(cell[0]))
	case 2:
		v := binary.LittleEndian.Uint16(cell)
		if unsigned {
			return uint64(v), 0
		}
		return 0, int64(int16(v))
	case 4:
		v := binary.LittleEndian.Uint32(cell)
		if unsigned {
			return uint64(v), 0
		}
		return 0, int64(int32(v))
	}
	v := binary.LittleEndian.Uint64(cell)
	if unsigned {
		return v, 0
	}
	return 0, int64(v)
}

// textToBinary encodes a masked text value back into the binary form of
// type t; ok=false when it does not fit (the cell is then sent as NULL).
func textToBinary(t byte, flags uint16, text []byte) ([]byte, bool) {
	unsigned := flags&gm.UNSIGNED_FLAG != 0
	size := 0
	switch t {
	case gm.MYSQL_TYPE_TINY:
		size = 1
	case gm.MYSQL_TYPE_SHORT, gm.MYSQL_TYPE_YEAR:
		size = 2
	case gm.MYSQL_TYPE_INT24, gm.MYSQL_TYPE_LONG:
		size = 4
	case gm.MYSQL_TYPE_LONGLONG:
		size = 8
	case gm.MYSQL_TYPE_DATE, gm.MYSQL_TYPE_DATETIME, gm.MYSQL_TYPE_TIMESTAMP, gm.MYSQL_TYPE_NEWDATE:
		if len(text) < 10 || text[4] != '-' || text[7] != '-' {
			return nil, false
		}
		y, e1 := strconv.Atoi(string(text[0:4]))
		mo, e2 := strconv.Atoi(string(text[5:7]))
		d, e3 := strconv.Atoi(string(text[8:10]))
		if e1 != nil || e2 != nil || e3 != nil {
			return nil, false
		}
		return []byte{4, byte(y), byte(y >> 8), byte(mo), byte(d)}, true
	default:
		return nil, false
	}
	var buf [8]byte
	if unsigned {
		u, err := strconv.ParseUint(string(text), 10, size*8)
		if err != nil {
			return nil, false
		}
		binary.LittleEndian.PutUint64(buf[:], u)
	} else {
		v, err := strconv.ParseInt(string(text), 10, size*8)
		if err != nil {
			return nil, false
		}
		binary.LittleEndian.PutUint64(buf[:], uint64(v))
	}
	return append([]byte(nil), buf[:size]...), true
}

// executeParams decodes the parameter values of a COM_STMT_EXECUTE packet
// into text, for the audit log (which stores them encrypted). Parameters
// sent earlier with COM_STMT_SEND_LONG_DATA are recorded as "<long data>".
// A malformed packet yields what could be read: the server refuses it anyway.
func executeParams(pkt []byte, st *preparedStmt) []string {
	n := int(st.numParams)
	if n == 0 || len(pkt) < 10 {
		return nil
	}
	b := pkt[10:]
	bitmapLen := (n + 7) / 8
	if len(b) < bitmapLen+1 {
		return nil
	}
	nulls := b[:bitmapLen]
	bound := b[bitmapLen]
	b = b[bitmapLen+1:]
	if bound == 1 {
		if len(b) < 2*n {
			return nil
		}
		st.paramTypes = append(st.paramTypes[:0], b[:2*n]...)
		b = b[2*n:]
	}
	if len(st.paramTypes) != 2*n {
		return nil
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		switch {
		case nulls[i/8]&(1<<(i%8)) != 0:
			out = append(out, "NULL")
			continue
		case st.longData[uint16(i)]:
			out = append(out, "<long data>")
			continue
		}
		t, flags := st.paramTypes[2*i], uint16(0)
		if st.paramTypes[2*i+1]&0x80 != 0 {
			flags = gm.UNSIGNED_FLAG
		}
		k := binaryCellLen(t, b)
		if k < 0 {
			return append(out, "<malformed>")
		}
		cell := b[:k]
		b = b[k:]
		switch t {
		case gm.MYSQL_TYPE_FLOAT:
			out = append(out, strconv.FormatFloat(float64(math.Float32frombits(binary.LittleEndian.Uint32(cell))), 'g', -1, 32))
		case gm.MYSQL_TYPE_DOUBLE:
			out = append(out, strconv.FormatFloat(math.Float64frombits(binary.LittleEndian.Uint64(cell)), 'g', -1, 64))
		case gm.MYSQL_TYPE_NULL:
			out = append(out, "NULL")
		default:
			if txt, ok := binaryToText(t, flags, cell); ok {
				out = append(out, string(txt))
			} else if v, _, m := readLenEncString(cell); m > 0 {
				out = append(out, string(v))
			} else {
				out = append(out, "<unreadable>")
			}
		}
	}
	return out
}
