package masking

import (
	"crypto/cipher"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/tjfoc/gmsm/sm3"
	"github.com/tjfoc/gmsm/sm4"
)

// minKeyLen is the shortest key accepted for pseudonym and sm4_token.
const minKeyLen = 16

// parseKey interprets the key parameter: "hex:<hex digits>", "env:<NAME>"
// (the environment variable holds the key, itself possibly "hex:..."), or the
// raw string. Keys shorter than 16 bytes are refused.
func parseKey(spec string) ([]byte, error) {
	if name, ok := strings.CutPrefix(spec, "env:"); ok {
		v, set := os.LookupEnv(name)
		if !set {
			return nil, fmt.Errorf("environment variable %s is not set", name)
		}
		spec = v
	}
	key := []byte(spec)
	if h, ok := strings.CutPrefix(spec, "hex:"); ok {
		var err error
		if key, err = hex.DecodeString(h); err != nil {
			return nil, fmt.Errorf("bad hex key: %v", err)
		}
	}
	if len(key) < minKeyLen {
		return nil, fmt.Errorf("key has %d bytes, want at least %d", len(key), minKeyLen)
	}
	return key, nil
}

func (p *paramReader) keyParam() []byte {
	spec, ok := p.params["key"]
	p.used["key"] = true
	if !ok {
		p.fail("key", "", "required")
		return nil
	}
	key, err := parseKey(spec)
	if err != nil {
		// Never echo the key itself in the error.
		p.fail("key", "<redacted>", err.Error())
	}
	return key
}

// hmacPool recycles HMAC-SM3 states for one key; hmac.New allocates.
type hmacPool struct {
	pool sync.Pool
}

func newHMACPool(key []byte) *hmacPool {
	k := append([]byte(nil), key...)
	return &hmacPool{pool: sync.Pool{New: func() any { return hmac.New(sm3.New, k) }}}
}

// sum appends HMAC-SM3(key, parts...) to dst.
func (h *hmacPool) sum(dst []byte, parts ...[]byte) []byte {
	mac := h.pool.Get().(hash.Hash)
	mac.Reset()
	for _, p := range parts {
		mac.Write(p)
	}
	dst = mac.Sum(dst)
	h.pool.Put(mac)
	return dst
}

// pseudonymMasker replaces a value with a keyed HMAC-SM3 of it: equal inputs
// give equal outputs under one key (joins and counts still work), and without
// the key the input cannot be recovered or confirmed by guessing. format=hex
// gives `length` hex characters (default 16); format=digits gives as many
// decimal digits as the input has characters.
type pseudonymMasker struct {
	mac    *hmacPool
	digits bool
	length int
}

func newPseudonymMasker(p *paramReader) (Masker, error) {
	key := p.keyParam()
	format := p.choiceParam("format", "hex", "hex", "digits")
	length := p.intParam("length", 16, 1, 64)
	if p.err != nil {
		return nil, p.err
	}
	return &pseudonymMasker{mac: newHMACPool(key), digits: format == "digits", length: length}, nil
}

// Mask implements Masker.
func (m *pseudonymMasker) Mask(dst, src []byte) []byte {
	if m.digits {
		return m.appendDigits(dst, src, utf8.RuneCount(src))
	}
	var buf [32]byte
	sum := m.mac.sum(buf[:0], src)
	var hexBuf [64]byte
	hex.Encode(hexBuf[:], sum)
	return append(dst, hexBuf[:m.length]...)
}

// appendDigits appends n pseudo-random decimal digits derived from
// HMAC-SM3(key, src || counter), rejecting bytes ≥ 250 to avoid bias.
func (m *pseudonymMasker) appendDigits(dst, src []byte, n int) []byte {
	var buf [32]byte
	for counter := 0; n > 0; counter++ {
		ctr := [4]byte{byte(counter >> 24), byte(counter >> 16), byte(counter >> 8), byte(counter)}
		for _, b := range m.mac.sum(buf[:0], src, ctr[:]) {
			if n == 0 {
				break
			}
			if b < 250 {
				dst = append(dst, '0'+b%10)
				n--
			}
		}
	}
	return dst
}

// maskTyped: String/Binary as Mask; Integer gets digits-only output with one
// digit fewer than the input (first digit non-zero), so it is smaller in
// magnitude and fits the column's integer type; other types are NULL.
func (m *pseudonymMasker) maskTyped(dst, src []byte, t ValueType) ([]byte, bool) {
	switch t {
	case String, Binary:
		return m.Mask(dst, src), true
	case Integer:
		n := 0
		for _, c := range src {
			if isDigit(c) {
				n++
			}
		}
		if n <= 1 {
			return append(dst, '0'), true
		}
		start := len(dst)
		dst = m.appendDigits(dst, src, n-1)
		if dst[start] == '0' {
			dst[start] = '1'
		}
		return dst, true
	}
	return dst, false
}

// TokenPrefix starts every sm4_token output.
const TokenPrefix = "sm4:"

// sm4TokenMasker encrypts a value with SM4 in a deterministic, authenticated
// construction (SIV style): iv = HMAC-SM3(macKey, plaintext)[:16],
// ciphertext = SM4-CTR(encKey, iv, plaintext); token = "sm4:" +
// base64url(iv || ciphertext). Equal inputs give equal tokens; Unmask with
// the same key recovers the input and verifies it.
type sm4TokenMasker struct {
	keys tokenKeys
}

type tokenKeys struct {
	mac    *hmacPool
	blocks *sync.Pool // of cipher.Block: gmsm's SM4 keeps scratch state per block
}

func deriveTokenKeys(key []byte) tokenKeys {
	root := newHMACPool(key)
	encKey := root.sum(nil, []byte("dbfence/sm4_token/enc"))[:sm4.BlockSize]
	macKey := root.sum(nil, []byte("dbfence/sm4_token/mac"))
	return tokenKeys{
		mac: newHMACPool(macKey),
		blocks: &sync.Pool{New: func() any {
			b, err := sm4.NewCipher(encKey)
			if err != nil {
				panic(err) // unreachable: encKey has the SM4 block size
			}
			return b
		}},
	}
}

func newSM4TokenMasker(p *paramReader) (Masker, error) {
	key := p.keyParam()
	if p.err != nil {
		return nil, p.err
	}
	return &sm4TokenMasker{keys: deriveTokenKeys(key)}, nil
}

// Mask implements Masker.
func (m *sm4TokenMasker) Mask(dst, src []byte) []byte {
	raw := make([]byte, sm4.BlockSize+len(src))
	var sum [32]byte
	iv := m.keys.mac.sum(sum[:0], src)[:sm4.BlockSize]
	copy(raw, iv)
	m.keys.ctr(raw[sm4.BlockSize:], src, iv)
	dst = append(dst, TokenPrefix...)
	return base64.RawURLEncoding.AppendEncode(dst, raw)
}

func (k tokenKeys) ctr(out, in, iv []byte) {
	block := k.blocks.Get().(cipher.Block)
	cipher.NewCTR(block, iv).XORKeyStream(out, in)
	k.blocks.Put(block)
}

// maskTyped: tokens are text; any other type gets NULL.
func (m *sm4TokenMasker) maskTyped(dst, src []byte, t ValueType) ([]byte, bool) {
	if t == String || t == Binary {
		return m.Mask(dst, src), true
	}
	return dst, false
}

// ErrBadToken is returned by Unmask for a token that is malformed or was not
// produced under the given key.
var ErrBadToken = errors.New("masking: not an sm4_token produced under this key")

// Unmask reverses an sm4_token: key is the same key parameter the policy
// used ("hex:...", "env:NAME" or raw). It returns ErrBadToken when the token
// does not verify.
func Unmask(token []byte, key string) ([]byte, error) {
	k, err := parseKey(key)
	if err != nil {
		return nil, fmt.Errorf("masking: unmask: %v", err)
	}
	body, ok := strings.CutPrefix(string(token), TokenPrefix)
	if !ok {
		return nil, ErrBadToken
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body) // strict: one token per plaintext
	if err != nil || len(raw) < sm4.BlockSize {
		return nil, ErrBadToken
	}
	keys := deriveTokenKeys(k)
	iv := raw[:sm4.BlockSize]
	plain := make([]byte, len(raw)-sm4.BlockSize)
	keys.ctr(plain, raw[sm4.BlockSize:], iv)
	if !hmac.Equal(keys.mac.sum(nil, plain)[:sm4.BlockSize], iv) {
		return nil, ErrBadToken
	}
	return plain, nil
}
