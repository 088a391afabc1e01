package audit

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// TestSealerMatchesCipherGCM checks the sealer's own GCM against
// cipher.NewGCM over tjfoc's SM4 (which OpenLiterals uses): same nonce and
// plaintext, same bytes, for every length up to 300 (empty, partial and
// whole blocks, and the sealer's 128-byte counter chunks) and a few large
// ones, under several keys.
func TestSealerMatchesCipherGCM(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	lengths := []int{4095, 4096, 4097, 65536 + 7}
	for n := 0; n <= 300; n++ {
		lengths = append(lengths, n)
	}
	for k := range 6 {
		key := make([]byte, 16)
		if k > 0 {
			rand.Read(key)
		}
		s, err := newLiteralSealer(key)
		if err != nil {
			t.Fatal(err)
		}
		aead, err := newSM4GCM(key)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range lengths {
			plain := make([]byte, n)
			for i := range plain {
				plain[i] = byte(rng.Uint32())
			}
			nonce := make([]byte, gcmNonceSize, gcmNonceSize+n+gcmTagSize)
			for i := range nonce {
				nonce[i] = byte(rng.Uint32())
			}
			if k == 1 && n == 3 {
				clear(nonce) // all-zero nonce
			}
			if k == 2 && n == 5 {
				for i := range nonce { // all-ones nonce
					nonce[i] = 0xff
				}
			}
			want := aead.Seal(slices.Clone(nonce), nonce, plain, nil)
			got := s.seal(nonce, plain)
			if !bytes.Equal(got, want) {
				t.Fatalf("key %d, %d bytes: sealer\n%x\ncipher.NewGCM\n%x", k, n, got, want)
			}
		}
	}
}

// TestSealedLiteralsRoundTrip seals literal lists with appendSealed, reusing
// the scratch buffers as Record does, and opens them with OpenLiterals.
func TestSealedLiteralsRoundTrip(t *testing.T) {
	key := testKeys(t).SM4
	s, err := newLiteralSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	var out, plain, sealed []byte
	seen := map[string]bool{}
	for _, lits := range [][]string{
		{"5021"}, {"11010519491231002X", "张三", "a\"b\\c\n\t\x01"}, {""}, {string(bytes.Repeat([]byte("x"), 5000))}, {"5021"},
		{}, nil, {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30"},
	} {
		out, plain, sealed, err = s.appendSealed(out[:0], plain, sealed, lits)
		if err != nil {
			t.Fatal(err)
		}
		enc := string(out)
		if seen[enc] {
			t.Fatalf("the same literals sealed twice gave the same bytes (nonce reuse?)")
		}
		seen[enc] = true
		if bytes.Contains(out, []byte("5021")) {
			t.Fatalf("literal in clear in %s", out)
		}
		got, err := OpenLiterals(key, enc)
		if err != nil {
			t.Fatalf("OpenLiterals: %v", err)
		}
		if !slices.Equal(got, lits) {
			t.Fatalf("round trip: got %q want %q", got, lits)
		}
		raw, _ := base64.StdEncoding.DecodeString(enc)
		raw[len(raw)-1] ^= 1
		if _, err := OpenLiterals(key, base64.StdEncoding.EncodeToString(raw)); err == nil {
			t.Fatal("a modified tag still opened")
		}
	}
}

// TestSealerConcurrent seals from several goroutines with one sealer, which
// keeps no per-call state; run with -race. (The tjfoc reference is not safe
// for concurrent use, so each goroutine has its own.)
func TestSealerConcurrent(t *testing.T) {
	key := testKeys(t).SM4
	s, err := newLiteralSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		aead, err := newSM4GCM(key)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			rng := mrand.New(mrand.NewPCG(uint64(g), 7))
			for range 200 {
				plain := make([]byte, rng.IntN(70))
				nonce := make([]byte, gcmNonceSize, gcmNonceSize+len(plain)+gcmTagSize)
				for i := range nonce {
					nonce[i] = byte(rng.Uint32())
				}
				want := aead.Seal(slices.Clone(nonce), nonce, plain, nil)
				if got := s.seal(nonce, plain); !bytes.Equal(got, want) {
					errs <- fmt.Errorf("goroutine %d, %d bytes: sealer %x, cipher.NewGCM %x", g, len(plain), got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// appendSealed is what a session and the writer do together:
// base64(nonce || SM4-GCM(JSON array of literals)) appended to dst. plain
// and sealed are scratch buffers, returned grown for reuse.
func (s *literalSealer) appendSealed(dst, plain, sealed []byte, literals []string) (out, plainOut, sealedOut []byte, err error) {
	plain, err = appendLiteralsPlain(plain[:0], literals)
	if err != nil {
		return dst, plain, sealed, err
	}
	out, sealed = s.appendSealedPlain(dst, sealed, plain)
	return out, plain, sealed, nil
}
