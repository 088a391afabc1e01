package mysql

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
)

// maxFrame is the largest payload of one wire frame. A logical packet of
// maxFrame bytes or more is split into frames of maxFrame bytes followed by a
// shorter (possibly empty) last frame.
const maxFrame = 1<<24 - 1

// flushThreshold is how much a packetConn buffers before writing to the
// socket. Responses smaller than this leave in a single write.
const flushThreshold = 32 << 10

// errPacketTooLarge is returned by readPacket when a logical packet exceeds
// the connection's limit; the connection is then unusable.
var errPacketTooLarge = errors.New("packet exceeds the configured maximum size")

// errSequence is returned when a frame arrives with an unexpected sequence id.
var errSequence = errors.New("packet out of order")

// packetConn reads and writes MySQL packets on one connection.
//
// Reads: readPacket returns the payload of one logical packet (continuation
// frames joined). The returned slice is valid until the next readPacket call.
// Writes: writePacket appends frames to an internal buffer, flushed to the
// socket when it grows past flushThreshold or on flush. A packetConn is used
// by one goroutine at a time.
type packetConn struct {
	conn net.Conn
	r    *bufio.Reader
	// rbuf holds the last packet read; reused across reads.
	rbuf []byte
	// wbuf holds frames not yet written to the socket.
	wbuf []byte
	// hdr receives frame headers (a field, so reading one does not allocate).
	hdr [4]byte
	// seq is the sequence id of the next frame to read or write.
	seq uint8
	// maxPacket bounds logical packets read; 0 means no bound.
	maxPacket int
	// bytesIn and bytesOut count payload bytes, for metrics and audit.
	bytesIn, bytesOut uint64
}

func newPacketConn(c net.Conn, maxPacket int) *packetConn {
	return &packetConn{
		conn:      c,
		r:         bufio.NewReaderSize(c, 8<<10),
		wbuf:      make([]byte, 0, 4096),
		maxPacket: maxPacket,
	}
}

// upgrade wraps the connection (for TLS) and returns the wrapped one. Bytes
// already read ahead into the buffer (a TLS ClientHello sent right after the
// SSLRequest) are handed to the wrapper first. Nothing may be pending in the
// write buffer.
func (p *packetConn) upgrade(wrap func(net.Conn) net.Conn) net.Conn {
	c := wrap(&bufferedConn{Conn: p.conn, r: p.r})
	p.conn = c
	p.r = bufio.NewReaderSize(c, p.r.Size())
	return c
}

// bufferedConn reads through a bufio.Reader that may hold read-ahead bytes.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// readPacket reads one logical packet. It checks the sequence id of every
// frame against p.seq and advances p.seq past the packet.
func (p *packetConn) readPacket() ([]byte, error) {
	p.rbuf = p.rbuf[:0]
	hdr := p.hdr[:]
	for {
		if _, err := io.ReadFull(p.r, hdr); err != nil {
			return nil, err
		}
		n := int(uint32(hdr[0]) | uint32(hdr[1])<<8 | uint32(hdr[2])<<16)
		if hdr[3] != p.seq {
			return nil, fmt.Errorf("%w: got sequence id %d, want %d", errSequence, hdr[3], p.seq)
		}
		p.seq++
		if p.maxPacket > 0 && len(p.rbuf)+n > p.maxPacket {
			// Read the rest of the packet so the peer is not reset mid-write
			// and sees the error; then the caller ends the connection.
			p.discardPacket(n)
			return nil, errPacketTooLarge
		}
		// The buffer grows as the frame's bytes arrive, not by what its
		// header claims: a peer that announces 16 MiB and sends little
		// costs little.
		for left := n; left > 0; {
			chunk := min(left, max(readChunk, len(p.rbuf)))
			start := len(p.rbuf)
			p.rbuf = grow(p.rbuf, chunk)
			if _, err := io.ReadFull(p.r, p.rbuf[start:start+chunk]); err != nil {
				return nil, err
			}
			left -= chunk
		}
		p.bytesIn += uint64(n)
		if n < maxFrame {
			break
		}
	}
	// A packet that once needed a very large buffer does not pin it forever.
	if cap(p.rbuf) > 4<<20 && len(p.rbuf) < 1<<20 {
		out := append([]byte(nil), p.rbuf...)
		p.rbuf = nil
		return out, nil
	}
	return p.rbuf, nil
}

// readChunk is the least a packet's buffer grows by while its bytes arrive.
const readChunk = 64 << 10

// maxHandshakePacket bounds a client's packets until it has authenticated.
const maxHandshakePacket = 256 << 10

// maxDiscard bounds how much of an oversized packet is read and dropped.
const maxDiscard = 256 << 20

// discardPacket drops the remaining frames of a packet whose current frame
// has n payload bytes, up to maxDiscard bytes.
func (p *packetConn) discardPacket(n int) {
	total := 0
	hdr := p.hdr[:]
	for {
		if _, err := p.r.Discard(n); err != nil {
			return
		}
		total += n
		if n < maxFrame || total > maxDiscard {
			return
		}
		if _, err := io.ReadFull(p.r, hdr); err != nil {
			return
		}
		n = int(uint32(hdr[0]) | uint32(hdr[1])<<8 | uint32(hdr[2])<<16)
		p.seq++
	}
}

// grow extends b by n bytes, reallocating if needed.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, 2*cap(b)+n)
	copy(nb, b)
	return nb
}

// writePacket buffers payload as one logical packet starting at p.seq.
func (p *packetConn) writePacket(payload []byte) error {
	for {
		n := len(payload)
		if n > maxFrame {
			n = maxFrame
		}
		p.wbuf = append(p.wbuf, byte(n), byte(n>>8), byte(n>>16), p.seq)
		p.wbuf = append(p.wbuf, payload[:n]...)
		p.seq++
		p.bytesOut += uint64(n)
		payload = payload[n:]
		if len(p.wbuf) >= flushThreshold {
			if err := p.flush(); err != nil {
				return err
			}
		}
		if n < maxFrame {
			return nil
		}
	}
}

// flush writes buffered frames to the socket.
func (p *packetConn) flush() error {
	if len(p.wbuf) == 0 {
		return nil
	}
	_, err := p.conn.Write(p.wbuf)
	if cap(p.wbuf) > 4<<20 {
		p.wbuf = make([]byte, 0, flushThreshold+4096)
	} else {
		p.wbuf = p.wbuf[:0]
	}
	return err
}

// Length-encoded integers and strings (protocol basics).

// readLenEnc decodes a length-encoded integer at b[0:]. It returns the value,
// whether it was the NULL marker (0xFB), and the bytes used; n == 0 means b is
// too short or starts with an invalid marker.
func readLenEnc(b []byte) (v uint64, isNull bool, n int) {
	if len(b) == 0 {
		return 0, false, 0
	}
	switch b[0] {
	case 0xfb:
		return 0, true, 1
	case 0xfc:
		if len(b) < 3 {
			return 0, false, 0
		}
		return uint64(b[1]) | uint64(b[2])<<8, false, 3
	case 0xfd:
		if len(b) < 4 {
			return 0, false, 0
		}
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, false, 4
	case 0xfe:
		if len(b) < 9 {
			return 0, false, 0
		}
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16 | uint64(b[4])<<24 |
			uint64(b[5])<<32 | uint64(b[6])<<40 | uint64(b[7])<<48 | uint64(b[8])<<56, false, 9
	case 0xff:
		return 0, false, 0
	}
	return uint64(b[0]), false, 1
}

// appendLenEnc appends v as a length-encoded integer.
func appendLenEnc(b []byte, v uint64) []byte {
	switch {
	case v < 251:
		return append(b, byte(v))
	case v < 1<<16:
		return append(b, 0xfc, byte(v), byte(v>>8))
	case v < 1<<24:
		return append(b, 0xfd, byte(v), byte(v>>8), byte(v>>16))
	}
	return append(b, 0xfe, byte(v), byte(v>>8), byte(v>>16), byte(v>>24),
		byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}

// readLenEncString decodes a length-encoded string at b[0:]; n == 0 means malformed.
func readLenEncString(b []byte) (s []byte, isNull bool, n int) {
	v, isNull, k := readLenEnc(b)
	if k == 0 || isNull {
		return nil, isNull, k
	}
	if uint64(len(b)-k) < v {
		return nil, false, 0
	}
	return b[k : k+int(v)], false, k + int(v)
}

func appendLenEncString(b, s []byte) []byte {
	b = appendLenEnc(b, uint64(len(s)))
	return append(b, s...)
}

// readNulString returns the bytes before the first NUL and the bytes used
// including the NUL; n == 0 means no NUL was found.
func readNulString(b []byte) (s []byte, n int) {
	for i, c := range b {
		if c == 0 {
			return b[:i], i + 1
		}
	}
	return nil, 0
}
