package audit

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/tjfoc/gmsm/sm4"
)

// GCM parameters of literals_enc: 96-bit nonce, 128-bit tag.
const (
	gcmNonceSize = 12
	gcmTagSize   = 16
	gcmBlockSize = 16
	// gcmMaxPlain is the GCM limit on one plaintext, (2^32 - 2) blocks.
	gcmMaxPlain = (1<<32 - 2) * gcmBlockSize
)

// literalSealer encrypts literals with SM4-GCM (NIST SP 800-38D: random
// 96-bit nonce, 128-bit tag, no additional data). Its output is exactly what
// cipher.NewGCM over an SM4 block produces, and OpenLiterals decrypts it with
// that; TestSealerMatchesCipherGCM checks the two agree.
//
// It exists for speed on the session goroutine: for a non-AES block the
// standard library's GCM re-derives the hash key H (one SM4 block) and its
// GHASH table on every Seal and allocates five times. Here both are derived
// once per key, and nothing allocates. tjfoc's SM4 block keeps scratch
// buffers, so each goroutine borrows its own block (with the counter
// scratch) from the pool; the GHASH table is read-only and shared.
type literalSealer struct {
	ghash ghashKey
	pool  sync.Pool // of *sm4CTR
}

// sm4CTR is one goroutine's SM4 block and counter scratch.
type sm4CTR struct {
	block          *sm4.Sm4Cipher
	ctr, mask, tag [gcmBlockSize]byte
}

func newLiteralSealer(key []byte) (*literalSealer, error) {
	b, err := newSM4Block(key)
	if err != nil {
		return nil, err
	}
	s := &literalSealer{}
	var h [gcmBlockSize]byte
	b.Encrypt(h[:], h[:])
	s.ghash.init(&h)
	key = slices.Clone(key)
	s.pool.New = func() any {
		b, _ := newSM4Block(key) // key checked above
		return &sm4CTR{block: b}
	}
	s.pool.Put(&sm4CTR{block: b})
	return s, nil
}

func newSM4Block(key []byte) (*sm4.Sm4Cipher, error) {
	block, err := sm4.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("audit: SM4 key: %w", err)
	}
	b, ok := block.(*sm4.Sm4Cipher)
	if !ok {
		return nil, fmt.Errorf("audit: unexpected SM4 block type %T", block)
	}
	return b, nil
}

func newSM4GCM(key []byte) (cipher.AEAD, error) {
	block, err := sm4.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("audit: SM4 key: %w", err)
	}
	return cipher.NewGCM(block)
}

// appendSealed appends base64(nonce || SM4-GCM(JSON array of literals)) to
// dst. plain and sealed are scratch buffers, returned grown for reuse.
func (s *literalSealer) appendSealed(dst, plain, sealed []byte, literals []string) (out, plainOut, sealedOut []byte, err error) {
	plain = append(plain[:0], '[')
	for i, l := range literals {
		if i > 0 {
			plain = append(plain, ',')
		}
		plain = appendJSONString(plain, l)
	}
	plain = append(plain, ']')
	if uint64(len(plain)) > gcmMaxPlain {
		return dst, plain, sealed, errors.New("literals too large for GCM")
	}
	sealed = slices.Grow(sealed[:0], gcmNonceSize+len(plain)+gcmTagSize)[:gcmNonceSize]
	if _, err := rand.Read(sealed); err != nil {
		return dst, plain, sealed, err
	}
	sealed = s.seal(sealed, plain)
	return base64.StdEncoding.AppendEncode(dst, sealed), plain, sealed, nil
}

// seal appends the SM4-GCM ciphertext and tag of plain to nonce (12 bytes,
// the whole of its argument) and returns the result, like
// cipher.AEAD.Seal(nonce, nonce, plain, nil).
func (s *literalSealer) seal(nonce, plain []byte) []byte {
	c := s.pool.Get().(*sm4CTR)
	defer s.pool.Put(c)
	// J0 = nonce || 1 masks the tag; the data uses inc32(J0) onwards.
	copy(c.ctr[:], nonce[:gcmNonceSize])
	binary.BigEndian.PutUint32(c.ctr[gcmNonceSize:], 1)
	c.block.Encrypt(c.tag[:], c.ctr[:])
	out := append(nonce, plain...)
	ct := out[gcmNonceSize:]
	for i := 0; i < len(ct); i += gcmBlockSize {
		n := binary.BigEndian.Uint32(c.ctr[gcmNonceSize:])
		binary.BigEndian.PutUint32(c.ctr[gcmNonceSize:], n+1)
		c.block.Encrypt(c.mask[:], c.ctr[:])
		subtle.XORBytes(ct[i:], ct[i:], c.mask[:])
	}
	var y ghashElem
	s.ghash.update(&y, ct)
	// Length block: len(A) = 0 bits (no additional data), len(C) bits.
	y.lo ^= uint64(len(ct)) * 8
	s.ghash.mul(&y)
	var tag [gcmTagSize]byte
	binary.BigEndian.PutUint64(tag[:8], y.hi)
	binary.BigEndian.PutUint64(tag[8:], y.lo)
	subtle.XORBytes(tag[:], tag[:], c.tag[:])
	return append(out, tag[:]...)
}

// ghashElem is an element of GF(2^128) in GCM's bit order: hi holds bytes
// 0-7 of the block big-endian, so the most significant bit of hi is the
// coefficient of x^0 and the least significant bit of lo that of x^127.
type ghashElem struct{ hi, lo uint64 }

// ghashKey multiplies by the hash key H four bits at a time (Shoup's
// method): m[v] = v·H for every 4-bit v read in block order (the nibble's
// high bit is the lowest power of x).
type ghashKey struct {
	m [16]ghashElem
}

// ghashReduce[r] is what the four coefficients r (x^124..x^127, as the low
// nibble of lo) become after multiplying by x^4 and reducing modulo
// x^128 + x^7 + x^2 + x + 1; only hi is affected.
var ghashReduce = func() (t [16]uint64) {
	for r := range t {
		e := ghashElem{lo: uint64(r)}
		for range 4 {
			e = ghashMulX(e)
		}
		t[r] = e.hi // e.lo is 0: every bit of r was shifted out
	}
	return t
}()

// ghashMulX returns e·x.
func ghashMulX(e ghashElem) ghashElem {
	carry := e.lo & 1
	e.lo = e.lo>>1 | e.hi<<63
	e.hi >>= 1
	if carry != 0 {
		e.hi ^= 0xe1 << 56
	}
	return e
}

func (k *ghashKey) init(h *[gcmBlockSize]byte) {
	x := ghashElem{binary.BigEndian.Uint64(h[:8]), binary.BigEndian.Uint64(h[8:])}
	for bit := 8; bit > 0; bit >>= 1 { // nibble bits 8, 4, 2, 1 are x^0..x^3
		k.m[bit] = x
		x = ghashMulX(x)
	}
	for v := 1; v < 16; v++ {
		low := v & -v
		k.m[v] = ghashElem{k.m[low].hi ^ k.m[v^low].hi, k.m[low].lo ^ k.m[v^low].lo}
	}
}

// mul sets y = y·H.
func (k *ghashKey) mul(y *ghashElem) {
	var z ghashElem
	// Horner's scheme from the highest powers (the last nibble of the block)
	// down: z = z·x^4 + nibble·H.
	for _, word := range [2]uint64{y.lo, y.hi} {
		for range 16 {
			r := z.lo & 0xf
			z.lo = z.lo>>4 | z.hi<<60
			z.hi = z.hi>>4 ^ ghashReduce[r]
			t := &k.m[word&0xf]
			z.hi ^= t.hi
			z.lo ^= t.lo
			word >>= 4
		}
	}
	*y = z
}

// update absorbs data, zero-padded to whole blocks, into y.
func (k *ghashKey) update(y *ghashElem, data []byte) {
	for len(data) >= gcmBlockSize {
		y.hi ^= binary.BigEndian.Uint64(data[:8])
		y.lo ^= binary.BigEndian.Uint64(data[8:16])
		k.mul(y)
		data = data[gcmBlockSize:]
	}
	if len(data) > 0 {
		var last [gcmBlockSize]byte
		copy(last[:], data)
		y.hi ^= binary.BigEndian.Uint64(last[:8])
		y.lo ^= binary.BigEndian.Uint64(last[8:])
		k.mul(y)
	}
}

// OpenLiterals decrypts a literals_enc value with the 16-byte SM4 key.
func OpenLiterals(sm4Key []byte, enc string) ([]string, error) {
	aead, err := newSM4GCM(sm4Key)
	if err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("audit: literals_enc: %w", err)
	}
	if len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("audit: literals_enc too short")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
	if err != nil {
		return nil, errors.New("audit: literals_enc: wrong SM4 key or corrupted ciphertext")
	}
	var out []string
	if err := json.Unmarshal(plain, &out); err != nil {
		return nil, fmt.Errorf("audit: literals_enc plaintext: %w", err)
	}
	return out, nil
}
