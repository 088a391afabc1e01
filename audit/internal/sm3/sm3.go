package sm3

import (
	"crypto/hmac"
	"hash"

	gmsm3 "github.com/emmansun/gmsm/sm3"
)

// Size is the length of an SM3 digest in bytes.
const Size = gmsm3.Size

// BlockSize is the SM3 block size in bytes.
const BlockSize = gmsm3.BlockSize

// Sum returns the SM3 digest of data.
func Sum(data []byte) [Size]byte { return gmsm3.Sum(data) }

// Digest is a running SM3 hash. It is not safe for concurrent use.
type Digest struct {
	h   hash.Hash
	out [Size]byte
}

// New returns a Digest of the empty message.
func New() *Digest { return &Digest{h: gmsm3.New()} }

// Write adds p to the hash. It never fails; the signature matches io.Writer.
func (d *Digest) Write(p []byte) (int, error) { return d.h.Write(p) }

// Sum32 returns the digest of everything written so far without changing d.
func (d *Digest) Sum32() [Size]byte {
	d.h.Sum(d.out[:0])
	return d.out
}

// HMAC is HMAC-SM3 (RFC 2104). A value is not safe for concurrent use.
type HMAC struct {
	h   hash.Hash
	out [Size]byte
}

// NewHMAC returns an HMAC-SM3 keyed with key.
func NewHMAC(key []byte) *HMAC { return &HMAC{h: hmac.New(gmsm3.New, key)} }

// Reset starts a new message.
func (m *HMAC) Reset() { m.h.Reset() }

// Write adds p to the current message. It never fails.
func (m *HMAC) Write(p []byte) (int, error) { return m.h.Write(p) }

// Sum32 returns the MAC of the current message without changing it.
func (m *HMAC) Sum32() [Size]byte {
	m.h.Sum(m.out[:0])
	return m.out
}
