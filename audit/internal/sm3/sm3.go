package sm3

import (
	"encoding/binary"
	"math/bits"
)

// Size is the length of an SM3 digest in bytes.
const Size = 32

// BlockSize is the SM3 block size in bytes.
const BlockSize = 64

var iv = [8]uint32{0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e}

// Digest is a running SM3 hash. The zero value is not ready: call Reset or
// use New. It is not safe for concurrent use; copy it to fork the state.
type Digest struct {
	h   [8]uint32
	buf [BlockSize]byte
	n   int    // bytes buffered in buf
	len uint64 // total bytes written
}

// New returns a reset Digest.
func New() Digest {
	var d Digest
	d.Reset()
	return d
}

// Reset returns d to the initial state.
func (d *Digest) Reset() {
	d.h = iv
	d.n = 0
	d.len = 0
}

// Write adds p to the hash. It never fails; the signature matches io.Writer.
func (d *Digest) Write(p []byte) (int, error) {
	n := len(p)
	d.len += uint64(n)
	if d.n > 0 {
		c := copy(d.buf[d.n:], p)
		d.n += c
		p = p[c:]
		if d.n < BlockSize {
			return n, nil
		}
		block(&d.h, d.buf[:])
		d.n = 0
	}
	if len(p) >= BlockSize {
		full := len(p) &^ (BlockSize - 1)
		block(&d.h, p[:full])
		p = p[full:]
	}
	d.n = copy(d.buf[:], p)
	return n, nil
}

// Sum appends the digest of everything written so far to dst without
// changing d.
func (d *Digest) Sum(dst []byte) []byte {
	s := *d
	var out [Size]byte
	s.finish(&out)
	return append(dst, out[:]...)
}

// Sum32 returns the digest of everything written so far without changing d.
func (d *Digest) Sum32() [Size]byte {
	s := *d
	var out [Size]byte
	s.finish(&out)
	return out
}

func (d *Digest) finish(out *[Size]byte) {
	bitLen := d.len << 3
	var pad [BlockSize + 8]byte
	pad[0] = 0x80
	padLen := BlockSize - int((d.len+8)%BlockSize) // room for 0x80.. and the 8-byte length
	if padLen <= 0 {
		padLen += BlockSize
	}
	binary.BigEndian.PutUint64(pad[padLen:], bitLen)
	d.Write(pad[:padLen+8])
	for i, v := range d.h {
		binary.BigEndian.PutUint32(out[i*4:], v)
	}
}

// Sum returns the SM3 digest of data.
func Sum(data []byte) [Size]byte {
	d := New()
	d.Write(data)
	return d.Sum32()
}

var tj [64]uint32

func init() {
	for i := 0; i < 16; i++ {
		tj[i] = bits.RotateLeft32(0x79cc4519, i)
	}
	for i := 16; i < 64; i++ {
		tj[i] = bits.RotateLeft32(0x7a879d8a, i%32)
	}
}

func p0(x uint32) uint32 { return x ^ bits.RotateLeft32(x, 9) ^ bits.RotateLeft32(x, 17) }
func p1(x uint32) uint32 { return x ^ bits.RotateLeft32(x, 15) ^ bits.RotateLeft32(x, 23) }

// block compresses len(p)/64 blocks of p into hh. Rounds are unrolled by
// four with rotating variable roles instead of shifting eight registers.
func block(h *[8]uint32, p []byte) {
	var w [68]uint32
	for len(p) >= BlockSize {
		for i := 0; i < 16; i++ {
			w[i] = binary.BigEndian.Uint32(p[4*i:])
		}
		for i := 16; i < 68; i++ {
			w[i] = p1(w[i-16]^w[i-9]^bits.RotateLeft32(w[i-3], 15)) ^ bits.RotateLeft32(w[i-13], 7) ^ w[i-6]
		}
		a, b, c, d, e, f, g, hh := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
		var a12, ss1, tt1, tt2 uint32
		for j := 0; j < 16; j += 4 {
			a12 = bits.RotateLeft32(a, 12)
			ss1 = bits.RotateLeft32(a12+e+tj[j+0], 7)
			tt1 = (a ^ b ^ c) + d + (ss1 ^ a12) + (w[j+0] ^ w[j+0+4])
			tt2 = (e ^ f ^ g) + hh + ss1 + w[j+0]
			b = bits.RotateLeft32(b, 9)
			f = bits.RotateLeft32(f, 19)
			d = tt1
			hh = p0(tt2)
			a12 = bits.RotateLeft32(d, 12)
			ss1 = bits.RotateLeft32(a12+hh+tj[j+1], 7)
			tt1 = (d ^ a ^ b) + c + (ss1 ^ a12) + (w[j+1] ^ w[j+1+4])
			tt2 = (hh ^ e ^ f) + g + ss1 + w[j+1]
			a = bits.RotateLeft32(a, 9)
			e = bits.RotateLeft32(e, 19)
			c = tt1
			g = p0(tt2)
			a12 = bits.RotateLeft32(c, 12)
			ss1 = bits.RotateLeft32(a12+g+tj[j+2], 7)
			tt1 = (c ^ d ^ a) + b + (ss1 ^ a12) + (w[j+2] ^ w[j+2+4])
			tt2 = (g ^ hh ^ e) + f + ss1 + w[j+2]
			d = bits.RotateLeft32(d, 9)
			hh = bits.RotateLeft32(hh, 19)
			b = tt1
			f = p0(tt2)
			a12 = bits.RotateLeft32(b, 12)
			ss1 = bits.RotateLeft32(a12+f+tj[j+3], 7)
			tt1 = (b ^ c ^ d) + a + (ss1 ^ a12) + (w[j+3] ^ w[j+3+4])
			tt2 = (f ^ g ^ hh) + e + ss1 + w[j+3]
			c = bits.RotateLeft32(c, 9)
			g = bits.RotateLeft32(g, 19)
			a = tt1
			e = p0(tt2)
		}
		for j := 16; j < 64; j += 4 {
			a12 = bits.RotateLeft32(a, 12)
			ss1 = bits.RotateLeft32(a12+e+tj[j+0], 7)
			tt1 = ((a & b) | (a & c) | (b & c)) + d + (ss1 ^ a12) + (w[j+0] ^ w[j+0+4])
			tt2 = ((e & f) | (^e & g)) + hh + ss1 + w[j+0]
			b = bits.RotateLeft32(b, 9)
			f = bits.RotateLeft32(f, 19)
			d = tt1
			hh = p0(tt2)
			a12 = bits.RotateLeft32(d, 12)
			ss1 = bits.RotateLeft32(a12+hh+tj[j+1], 7)
			tt1 = ((d & a) | (d & b) | (a & b)) + c + (ss1 ^ a12) + (w[j+1] ^ w[j+1+4])
			tt2 = ((hh & e) | (^hh & f)) + g + ss1 + w[j+1]
			a = bits.RotateLeft32(a, 9)
			e = bits.RotateLeft32(e, 19)
			c = tt1
			g = p0(tt2)
			a12 = bits.RotateLeft32(c, 12)
			ss1 = bits.RotateLeft32(a12+g+tj[j+2], 7)
			tt1 = ((c & d) | (c & a) | (d & a)) + b + (ss1 ^ a12) + (w[j+2] ^ w[j+2+4])
			tt2 = ((g & hh) | (^g & e)) + f + ss1 + w[j+2]
			d = bits.RotateLeft32(d, 9)
			hh = bits.RotateLeft32(hh, 19)
			b = tt1
			f = p0(tt2)
			a12 = bits.RotateLeft32(b, 12)
			ss1 = bits.RotateLeft32(a12+f+tj[j+3], 7)
			tt1 = ((b & c) | (b & d) | (c & d)) + a + (ss1 ^ a12) + (w[j+3] ^ w[j+3+4])
			tt2 = ((f & g) | (^f & hh)) + e + ss1 + w[j+3]
			c = bits.RotateLeft32(c, 9)
			g = bits.RotateLeft32(g, 19)
			a = tt1
			e = p0(tt2)
		}
		h[0] ^= a
		h[1] ^= b
		h[2] ^= c
		h[3] ^= d
		h[4] ^= e
		h[5] ^= f
		h[6] ^= g
		h[7] ^= hh
		p = p[BlockSize:]
	}
}

// HMAC is HMAC-SM3 (RFC 2104 construction) with the keyed pads hashed once at
// construction, so each MAC costs only the message blocks plus one outer
// block. Copying an HMAC is cheap and yields an independent MAC with the same
// key; a single value is not safe for concurrent use.
type HMAC struct {
	inner, outer Digest // states after absorbing key^ipad and key^opad
	cur          Digest // running inner hash of the current message
}

// NewHMAC returns an HMAC-SM3 keyed with key.
func NewHMAC(key []byte) *HMAC {
	var k [BlockSize]byte
	if len(key) > BlockSize {
		s := Sum(key)
		copy(k[:], s[:])
	} else {
		copy(k[:], key)
	}
	var ipad, opad [BlockSize]byte
	for i := range k {
		ipad[i] = k[i] ^ 0x36
		opad[i] = k[i] ^ 0x5c
	}
	m := &HMAC{inner: New(), outer: New()}
	m.inner.Write(ipad[:])
	m.outer.Write(opad[:])
	m.cur = m.inner
	return m
}

// Reset starts a new message.
func (m *HMAC) Reset() { m.cur = m.inner }

// Write adds p to the current message. It never fails.
func (m *HMAC) Write(p []byte) (int, error) { return m.cur.Write(p) }

// Sum32 returns the MAC of the current message without changing it.
func (m *HMAC) Sum32() [Size]byte {
	in := m.cur.Sum32()
	o := m.outer
	o.Write(in[:])
	return o.Sum32()
}
