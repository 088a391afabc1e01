package audit

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/tjfoc/gmsm/sm4"
)

// literalSealer encrypts literals with SM4-GCM. tjfoc's SM4 block keeps
// scratch buffers, so each goroutine borrows its own AEAD from the pool.
type literalSealer struct {
	pool sync.Pool // of cipher.AEAD
}

func newLiteralSealer(key []byte) (*literalSealer, error) {
	if _, err := newSM4GCM(key); err != nil {
		return nil, err
	}
	s := &literalSealer{}
	s.pool.New = func() any {
		aead, _ := newSM4GCM(key) // key checked above
		return aead
	}
	return s, nil
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
	aead := s.pool.Get().(cipher.AEAD)
	defer s.pool.Put(aead)
	plain = append(plain[:0], '[')
	for i, l := range literals {
		if i > 0 {
			plain = append(plain, ',')
		}
		plain = appendJSONString(plain, l)
	}
	plain = append(plain, ']')
	ns := aead.NonceSize()
	sealed = append(sealed[:0], make([]byte, ns)...)
	if _, err := rand.Read(sealed); err != nil {
		return dst, plain, sealed, err
	}
	sealed = aead.Seal(sealed, sealed, plain, nil)
	return base64.StdEncoding.AppendEncode(dst, sealed), plain, sealed, nil
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
