package sm4

import (
	"bytes"
	"crypto/cipher"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"testing"

	tjsm4 "github.com/tjfoc/gmsm/sm4"
)

var _ cipher.Block = (*Cipher)(nil)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStandardVectors checks the examples of GB/T 32907-2016 appendix A.
func TestStandardVectors(t *testing.T) {
	key := mustHex(t, "0123456789abcdeffedcba9876543210")
	c, err := NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	// Example 1: the plaintext is the key, encrypted once.
	buf := bytes.Clone(key)
	c.Encrypt(buf, buf)
	if want := mustHex(t, "681edf34d206965e86b3e94f536e4246"); !bytes.Equal(buf, want) {
		t.Fatalf("example 1: got %x want %x", buf, want)
	}
	c.Decrypt(buf, buf)
	if !bytes.Equal(buf, key) {
		t.Fatalf("example 1 decrypted: got %x want %x", buf, key)
	}

	// Example 2: the plaintext encrypted 1,000,000 times (~0.1 s).
	copy(buf, key)
	for range 1_000_000 {
		c.Encrypt(buf, buf)
	}
	if want := mustHex(t, "595298c7c6fd271f0402f804c33d3f66"); !bytes.Equal(buf, want) {
		t.Fatalf("example 2: got %x want %x", buf, want)
	}
}

func TestKeySize(t *testing.T) {
	for _, n := range []int{0, 15, 17, 24, 32} {
		_, err := NewCipher(make([]byte, n))
		if err == nil {
			t.Fatalf("NewCipher accepted a %d-byte key", n)
		}
		if want := fmt.Sprintf("sm4: invalid key size %d (want 16 bytes)", n); err.Error() != want {
			t.Fatalf("error %q, want %q", err, want)
		}
	}
}

// TestAgainstReference compares both directions with tjfoc/gmsm for random
// keys and blocks, in place and between separate buffers.
func TestAgainstReference(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(3, 4))
	key := make([]byte, KeySize)
	for range 500 {
		fill(rng, key)
		c, err := NewCipher(key)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := tjsm4.NewCipher(key)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			var src, got, want [BlockSize]byte
			fill(rng, src[:])
			ref.Encrypt(want[:], src[:])
			c.Encrypt(got[:], src[:])
			if got != want {
				t.Fatalf("key %x block %x: Encrypt %x, tjfoc %x", key, src, got, want)
			}
			in := src
			c.Encrypt(in[:], in[:])
			if in != want {
				t.Fatalf("key %x block %x: in-place Encrypt %x, tjfoc %x", key, src, in, want)
			}
			ref.Decrypt(want[:], src[:])
			c.Decrypt(got[:], src[:])
			if got != want {
				t.Fatalf("key %x block %x: Decrypt %x, tjfoc %x", key, src, got, want)
			}
		}
	}
}

// TestEncryptBlocks compares EncryptBlocks for 0 to 9 blocks, between
// separate buffers and in place, with tjfoc/gmsm one block at a time.
func TestEncryptBlocks(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(5, 6))
	key := make([]byte, KeySize)
	for range 50 {
		fill(rng, key)
		c, err := NewCipher(key)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := tjsm4.NewCipher(key)
		for n := 0; n <= 9; n++ {
			src := make([]byte, n*BlockSize)
			fill(rng, src)
			want := make([]byte, len(src))
			for i := 0; i < len(src); i += BlockSize {
				ref.Encrypt(want[i:], src[i:])
			}
			got := make([]byte, len(src)+1) // longer dst is fine; the extra byte stays
			got[len(src)] = 0xaa
			c.EncryptBlocks(got, src)
			if !bytes.Equal(got[:len(src)], want) || got[len(src)] != 0xaa {
				t.Fatalf("key %x, %d blocks: got %x want %x", key, n, got, want)
			}
			c.EncryptBlocks(src, src)
			if !bytes.Equal(src, want) {
				t.Fatalf("key %x, %d blocks in place: got %x want %x", key, n, src, want)
			}
		}
	}
}

func TestEncryptBlocksPanics(t *testing.T) {
	c, _ := NewCipher(make([]byte, KeySize))
	for _, tc := range []struct {
		desc     string
		dst, src int
	}{
		{desc: "partial block", dst: 32, src: 17},
		{desc: "short dst", dst: 31, src: 32},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.desc)
				}
			}()
			c.EncryptBlocks(make([]byte, tc.dst), make([]byte, tc.src))
		}()
	}
}

func fill(rng *mrand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

func TestNoAllocs(t *testing.T) {
	c, _ := NewCipher(make([]byte, KeySize))
	var b [BlockSize]byte
	var bs [3 * BlockSize]byte
	if n := testing.AllocsPerRun(100, func() {
		c.Encrypt(b[:], b[:])
		c.Decrypt(b[:], b[:])
		c.EncryptBlocks(bs[:], bs[:])
	}); n != 0 {
		t.Fatalf("%v allocations per block", n)
	}
}

func FuzzAgainstReference(f *testing.F) {
	f.Add(make([]byte, KeySize), make([]byte, BlockSize))
	f.Add([]byte("0123456789abcdef"), []byte("fedcba9876543210"))
	f.Add([]byte("0123456789abcdef"), make([]byte, 3*BlockSize+5))
	f.Fuzz(func(t *testing.T, key, data []byte) {
		c, err := NewCipher(key)
		if len(key) != KeySize {
			if err == nil {
				t.Fatalf("NewCipher accepted a %d-byte key", len(key))
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		ref, err := tjsm4.NewCipher(key)
		if err != nil {
			t.Fatal(err)
		}
		// Encrypt and Decrypt on the first block, EncryptBlocks on all whole
		// blocks.
		whole := data[:len(data)/BlockSize*BlockSize]
		if len(whole) > 0 {
			var got, want [BlockSize]byte
			ref.Encrypt(want[:], whole)
			c.Encrypt(got[:], whole)
			if got != want {
				t.Fatalf("Encrypt %x, tjfoc %x", got, want)
			}
			ref.Decrypt(want[:], whole)
			c.Decrypt(got[:], whole)
			if got != want {
				t.Fatalf("Decrypt %x, tjfoc %x", got, want)
			}
		}
		want := make([]byte, len(whole))
		for i := 0; i < len(whole); i += BlockSize {
			ref.Encrypt(want[i:], whole[i:])
		}
		got := make([]byte, len(whole))
		c.EncryptBlocks(got, whole)
		if !bytes.Equal(got, want) {
			t.Fatalf("EncryptBlocks %x, tjfoc %x", got, want)
		}
	})
}

// BenchmarkEncrypt is one block here and with tjfoc/gmsm, in one run.
func BenchmarkEncrypt(b *testing.B) {
	key := make([]byte, KeySize)
	var buf [BlockSize]byte
	b.Run("audit-sm4", func(b *testing.B) {
		c, _ := NewCipher(key)
		b.ReportAllocs()
		b.SetBytes(BlockSize)
		for b.Loop() {
			c.Encrypt(buf[:], buf[:])
		}
	})
	b.Run("tjfoc-gmsm", func(b *testing.B) {
		c, _ := tjsm4.NewCipher(key)
		b.ReportAllocs()
		b.SetBytes(BlockSize)
		for b.Loop() {
			c.Encrypt(buf[:], buf[:])
		}
	})
}

// BenchmarkEncryptBlocks is the three counter blocks of a typical sealed
// record (tag mask and two data blocks) with EncryptBlocks, with Encrypt one
// at a time, and with tjfoc/gmsm one at a time.
func BenchmarkEncryptBlocks(b *testing.B) {
	key := make([]byte, KeySize)
	var src, dst [3 * BlockSize]byte
	b.Run("audit-sm4-blocks", func(b *testing.B) {
		c, _ := NewCipher(key)
		b.ReportAllocs()
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			c.EncryptBlocks(dst[:], src[:])
		}
	})
	b.Run("audit-sm4-single", func(b *testing.B) {
		c, _ := NewCipher(key)
		b.ReportAllocs()
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			for i := 0; i < len(src); i += BlockSize {
				c.Encrypt(dst[i:], src[i:])
			}
		}
	})
	b.Run("tjfoc-gmsm", func(b *testing.B) {
		c, _ := tjsm4.NewCipher(key)
		b.ReportAllocs()
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			for i := 0; i < len(src); i += BlockSize {
				c.Encrypt(dst[i:], src[i:])
			}
		}
	})
}

// BenchmarkNewCipher is the key schedule, paid once per sealer.
func BenchmarkNewCipher(b *testing.B) {
	key := make([]byte, KeySize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewCipher(key); err != nil {
			b.Fatal(err)
		}
	}
}
