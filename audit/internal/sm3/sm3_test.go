package sm3

import (
	"bytes"
	"crypto/hmac"
	"encoding/hex"
	"testing"

	tjsm3 "github.com/tjfoc/gmsm/sm3"
)

func TestSumVectors(t *testing.T) {
	tests := []struct {
		desc, in, want string
	}{
		{desc: "GB/T 32905 example 1", in: "abc", want: "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"},
		{desc: "GB/T 32905 example 2", in: "abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd", want: "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"},
		{desc: "empty", in: "", want: "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got := Sum([]byte(tc.in))
			if hex.EncodeToString(got[:]) != tc.want {
				t.Fatalf("Sum(%q) = %x, want %s", tc.in, got, tc.want)
			}
		})
	}
}

// TestAgainstReference compares every length up to a few blocks, written in
// uneven pieces, with tjfoc/gmsm, and HMAC with crypto/hmac over tjfoc/gmsm.
func TestAgainstReference(t *testing.T) {
	msg := make([]byte, 300)
	for i := range msg {
		msg[i] = byte(i*7 + 3)
	}
	for n := 0; n <= len(msg); n++ {
		want := tjsm3.Sm3Sum(msg[:n])
		d := New()
		for off := 0; off < n; {
			step := min(1+off%13, n-off)
			d.Write(msg[off : off+step])
			off += step
		}
		if got := d.Sum32(); !bytes.Equal(got[:], want) {
			t.Fatalf("len %d: got %x want %x", n, got, want)
		}
		for _, keyLen := range []int{0, 16, 32, 64, 100} {
			key := msg[:keyLen]
			ref := hmac.New(tjsm3.New, key)
			ref.Write(msg[:n])
			m := NewHMAC(key)
			m.Write(msg[:n])
			got := m.Sum32()
			if !bytes.Equal(got[:], ref.Sum(nil)) {
				t.Fatalf("hmac len %d key %d mismatch", n, keyLen)
			}
			m.Reset()
			m.Write(msg[:n])
			if again := m.Sum32(); again != got {
				t.Fatalf("hmac after Reset differs")
			}
		}
	}
}

// BenchmarkHMAC432 is one record's MAC (32-byte previous MAC + 400-byte
// line), here and with crypto/hmac over tjfoc/gmsm, in one run. (The
// portable Go compression this package had before measured 2189 ns.)
func BenchmarkHMAC432(b *testing.B) {
	buf := make([]byte, 432)
	b.Run("audit-sm3", func(b *testing.B) {
		b.ReportAllocs()
		m := NewHMAC(make([]byte, 32))
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			m.Reset()
			m.Write(buf)
			_ = m.Sum32()
		}
	})
	b.Run("tjfoc-gmsm", func(b *testing.B) {
		b.ReportAllocs()
		m := hmac.New(tjsm3.New, make([]byte, 32))
		out := make([]byte, 0, Size)
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			m.Reset()
			m.Write(buf)
			out = m.Sum(out[:0])
		}
	})
}

func BenchmarkWrite4K(b *testing.B) {
	b.ReportAllocs()
	d := New()
	buf := make([]byte, 4096)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		d.Write(buf)
	}
}
