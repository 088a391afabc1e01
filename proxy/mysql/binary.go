package mysql

import (
	"encoding/binary"
	"fmt"
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
