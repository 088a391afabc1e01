package mysql

import (
	"github.com/dbfence/dbfence/fault"
)

// Packet headers (first payload byte) that the proxy tells apart.
const (
	hdrOK          = 0x00
	hdrMoreData    = 0x01
	hdrLocalInfile = 0xfb
	hdrEOF         = 0xfe
	hdrErr         = 0xff
)

// Server status flags the proxy reads.
const (
	statusMoreResults  = 0x0008
	statusCursorExists = 0x0040
	statusLastRowSent  = 0x0080
)

// appendErr appends the payload of an ERR packet for a proxy error.
func appendErr(b []byte, e *fault.Error) []byte {
	code, state := e.Kind.MySQL()
	b = append(b, hdrErr, byte(code), byte(code>>8), '#')
	b = append(b, state...)
	return append(b, e.Message...)
}

// isEOFPacket reports whether payload is an EOF packet (as opposed to a row
// starting with a 0xFE length prefix, which is at least 9 bytes long).
func isEOFPacket(payload []byte) bool {
	return len(payload) > 0 && payload[0] == hdrEOF && len(payload) < 9
}

// eofStatus returns the status flags of an EOF packet.
func eofStatus(payload []byte) uint16 {
	if len(payload) < 5 {
		return 0
	}
	return uint16(payload[3]) | uint16(payload[4])<<8
}

// okInfo holds the fields of an OK packet the proxy uses.
type okInfo struct {
	affectedRows uint64
	lastInsertID uint64
	status       uint16
	warnings     uint16
}

// parseOK decodes an OK packet; ok == false means malformed.
func parseOK(payload []byte) (info okInfo, ok bool) {
	if len(payload) < 1 || (payload[0] != hdrOK && payload[0] != hdrEOF) {
		return info, false
	}
	b := payload[1:]
	v, _, n := readLenEnc(b)
	if n == 0 {
		return info, false
	}
	info.affectedRows = v
	b = b[n:]
	if v, _, n = readLenEnc(b); n == 0 {
		return info, false
	}
	info.lastInsertID = v
	b = b[n:]
	if len(b) >= 4 {
		info.status = uint16(b[0]) | uint16(b[1])<<8
		info.warnings = uint16(b[2]) | uint16(b[3])<<8
	}
	return info, true
}

// errCode returns the error code of an ERR packet.
func errCode(payload []byte) uint16 {
	if len(payload) < 3 {
		return 0
	}
	return uint16(payload[1]) | uint16(payload[2])<<8
}
