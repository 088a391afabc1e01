package sm3

import (
	"encoding/binary"
	"math/bits"
	"testing"
)

// blockStraight is the textbook round loop (eight-register shift per round),
// kept to check the unrolled block and to measure the gain side by side.
func blockStraight(h *[8]uint32, p []byte) {
	var w [68]uint32
	a, b, c, d, e, f, g, hh := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
	for len(p) >= BlockSize {
		for i := 0; i < 16; i++ {
			w[i] = binary.BigEndian.Uint32(p[4*i:])
		}
		for i := 16; i < 68; i++ {
			w[i] = p1(w[i-16]^w[i-9]^bits.RotateLeft32(w[i-3], 15)) ^ bits.RotateLeft32(w[i-13], 7) ^ w[i-6]
		}
		A, B, C, D, E, F, G, H := a, b, c, d, e, f, g, hh
		for i := 0; i < 64; i++ {
			a12 := bits.RotateLeft32(A, 12)
			ss1 := bits.RotateLeft32(a12+E+tj[i], 7)
			var ff, gg uint32
			if i < 16 {
				ff, gg = A^B^C, E^F^G
			} else {
				ff, gg = (A&B)|(A&C)|(B&C), (E&F)|(^E&G)
			}
			tt1 := ff + D + (ss1 ^ a12) + (w[i] ^ w[i+4])
			tt2 := gg + H + ss1 + w[i]
			D, C, B, A = C, bits.RotateLeft32(B, 9), A, tt1
			H, G, F, E = G, bits.RotateLeft32(F, 19), E, p0(tt2)
		}
		a, b, c, d, e, f, g, hh = a^A, b^B, c^C, d^D, e^E, f^F, g^G, hh^H
		p = p[BlockSize:]
	}
	h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7] = a, b, c, d, e, f, g, hh
}

func TestBlockMatchesStraight(t *testing.T) {
	msg := make([]byte, 64*5)
	for i := range msg {
		msg[i] = byte(i * 31)
	}
	x, y := iv, iv
	block(&x, msg)
	blockStraight(&y, msg)
	if x != y {
		t.Fatalf("unrolled %x != straight %x", x, y)
	}
}

// BenchmarkBlock compares the two compression functions in one run.
func BenchmarkBlock(b *testing.B) {
	msg := make([]byte, 64*8)
	for _, tc := range []struct {
		desc string
		fn   func(*[8]uint32, []byte)
	}{{"unrolled", block}, {"straight", blockStraight}} {
		b.Run(tc.desc, func(b *testing.B) {
			h := iv
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				tc.fn(&h, msg)
			}
		})
	}
}
