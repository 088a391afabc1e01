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

	"github.com/dbfence/dbfence/audit/internal/sm4"
	tjsm4 "github.com/tjfoc/gmsm/sm4"
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
// GHASH table on every Seal and allocates five times, and tjfoc's SM4 block
// is slow and keeps scratch buffers. Here the SM4 key schedule, H and the
// GHASH table are derived once per key, all read-only, so one sealer serves
// every goroutine; the counter blocks live on the stack and nothing
// allocates.
type literalSealer struct {
	block *sm4.Cipher
	ghash ghashKey
}

func newLiteralSealer(key []byte) (*literalSealer, error) {
	b, err := sm4.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("audit: SM4 key: %w", err)
	}
	s := &literalSealer{block: b}
	var h [gcmBlockSize]byte
	b.Encrypt(h[:], h[:])
	s.ghash.init(&h)
	return s, nil
}

// newSM4GCM is the reference construction, cipher.NewGCM over tjfoc's SM4,
// that OpenLiterals decrypts with; it shares no code with literalSealer.
func newSM4GCM(key []byte) (cipher.AEAD, error) {
	block, err := tjsm4.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("audit: SM4 key: %w", err)
	}
	return cipher.NewGCM(block)
}

// appendLiteralsPlain appends the plaintext that literals_enc seals, the
// JSON array of the literals, to dst. Sessions build it; the writer seals it.
func appendLiteralsPlain(dst []byte, literals []string) ([]byte, error) {
	start := len(dst)
	dst = append(dst, '[')
	for i, l := range literals {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, l)
	}
	dst = append(dst, ']')
	if uint64(len(dst)-start) > gcmMaxPlain {
		return dst, errors.New("literals too large for GCM")
	}
	return dst, nil
}

// appendSealedPlain appends base64(nonce || SM4-GCM(plain)) to dst with a
// fresh random nonce. sealed is scratch, returned grown for reuse. plain
// must be at most gcmMaxPlain bytes (appendLiteralsPlain checks).
func (s *literalSealer) appendSealedPlain(dst, sealed, plain []byte) (out, sealedOut []byte) {
	sealed = slices.Grow(sealed[:0], gcmNonceSize+len(plain)+gcmTagSize)[:gcmNonceSize]
	// crypto/rand.Read never fails: it fills the buffer or crashes the
	// program (Go 1.24 and later).
	_, _ = rand.Read(sealed)
	sealed = s.seal(sealed, plain)
	return base64.StdEncoding.AppendEncode(dst, sealed), sealed
}

// sealChunk is how many counter blocks seal encrypts per EncryptBlocks call
// (which works in threes): the tag mask and the keystream of up to 128 bytes
// of plaintext at once.
const sealChunk = 9

// seal appends the SM4-GCM ciphertext and tag of plain to nonce (12 bytes,
// the whole of its argument) and returns the result, like
// cipher.AEAD.Seal(nonce, nonce, plain, nil).
func (s *literalSealer) seal(nonce, plain []byte) []byte {
	out := append(nonce, plain...)
	ct := out[gcmNonceSize:]
	// Counter block i is nonce || i+1 (J0, then inc32 onwards): block 0
	// masks the tag, block i >= 1 is the keystream of ct[16(i-1):]. The
	// blocks are independent, so they go through EncryptBlocks a chunk at a
	// time, which interleaves them.
	var ctrs, keys [sealChunk * gcmBlockSize]byte
	var tagMask [gcmBlockSize]byte
	blocks := 1 + (len(ct)+gcmBlockSize-1)/gcmBlockSize // at most 2^32 - 1 (gcmMaxPlain)
	for first := 0; first < blocks; first += sealChunk {
		n := min(blocks-first, sealChunk)
		for j := range n {
			c := ctrs[j*gcmBlockSize:]
			copy(c, nonce[:gcmNonceSize])
			binary.BigEndian.PutUint32(c[gcmNonceSize:], uint32(first+j+1))
		}
		stream := keys[:n*gcmBlockSize]
		s.block.EncryptBlocks(stream, ctrs[:n*gcmBlockSize])
		at := (first - 1) * gcmBlockSize
		if first == 0 {
			copy(tagMask[:], stream)
			stream, at = stream[gcmBlockSize:], 0
		}
		subtle.XORBytes(ct[at:], ct[at:], stream) // the last chunk may overhang ct
	}
	var y ghashElem
	s.ghash.update(&y, ct)
	// Length block: len(A) = 0 bits (no additional data), len(C) bits.
	y.lo ^= uint64(len(ct)) * 8
	s.ghash.mul(&y)
	var tag [gcmTagSize]byte
	binary.BigEndian.PutUint64(tag[:8], y.hi)
	binary.BigEndian.PutUint64(tag[8:], y.lo)
	subtle.XORBytes(tag[:], tag[:], tagMask[:])
	return append(out, tag[:]...)
}

// ghashElem is an element of GF(2^128) in GCM's bit order: hi holds bytes
// 0-7 of the block big-endian, so the most significant bit of hi is the
// coefficient of x^0 and the least significant bit of lo that of x^127.
type ghashElem struct{ hi, lo uint64 }

// ghashKey multiplies by the hash key H eight bits at a time (Shoup's
// method), 16 steps per block: m[v] = v·H for every byte v read in block
// order (the byte's high bit is the lowest power of x). The table is 4 KiB
// per key; halving the steps of a 4-bit table is worth that on the hot path.
type ghashKey struct {
	m [256]ghashElem
}

// ghashReduce[r] is what the eight coefficients r (x^120..x^127, as the low
// byte of lo) become after multiplying by x^8 and reducing modulo
// x^128 + x^7 + x^2 + x + 1; only hi is affected.
var ghashReduce = func() (t [256]uint64) {
	for r := range t {
		e := ghashElem{lo: uint64(r)}
		for range 8 {
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
	for bit := 0x80; bit > 0; bit >>= 1 { // byte bits 0x80 .. 0x01 are x^0..x^7
		k.m[bit] = x
		x = ghashMulX(x)
	}
	for v := 1; v < len(k.m); v++ {
		low := v & -v
		k.m[v] = ghashElem{k.m[low].hi ^ k.m[v^low].hi, k.m[low].lo ^ k.m[v^low].lo}
	}
}

// mul sets y = y·H.
func (k *ghashKey) mul(y *ghashElem) {
	var z ghashElem
	// Horner's scheme from the highest powers (the last byte of the block)
	// down: z = z·x^8 + byte·H.
	for _, word := range [2]uint64{y.lo, y.hi} {
		for range 8 {
			r := byte(z.lo)
			z.lo = z.lo>>8 | z.hi<<56
			z.hi = z.hi>>8 ^ ghashReduce[r]
			t := &k.m[byte(word)]
			z.hi ^= t.hi
			z.lo ^= t.lo
			word >>= 8
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
