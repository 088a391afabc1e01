package sm4

import (
	"encoding/binary"
	"math/bits"
	"strconv"
)

// BlockSize is the SM4 block size in bytes.
const BlockSize = 16

// KeySize is the SM4 key size in bytes.
const KeySize = 16

// Cipher is SM4 with an expanded key. It implements crypto/cipher.Block and is
// safe for concurrent use.
type Cipher struct {
	enc, dec [32]uint32 // round keys in encryption and in decryption order
}

// KeySizeError is returned by NewCipher for a key that is not 16 bytes.
type KeySizeError int

func (k KeySizeError) Error() string {
	return "sm4: invalid key size " + strconv.Itoa(int(k)) + " (want 16 bytes)"
}

// NewCipher expands a 16-byte key.
func NewCipher(key []byte) (*Cipher, error) {
	if len(key) != KeySize {
		return nil, KeySizeError(len(key))
	}
	c := new(Cipher)
	var k [4]uint32
	for i := range k {
		k[i] = binary.BigEndian.Uint32(key[4*i:]) ^ fk[i]
	}
	for i := range c.enc {
		x := tau(k[1] ^ k[2] ^ k[3] ^ ck[i])
		// The key schedule's linear transform L' differs from the rounds' L,
		// so it does not use the T-tables; it runs once per key.
		rk := k[0] ^ x ^ bits.RotateLeft32(x, 13) ^ bits.RotateLeft32(x, 23)
		c.enc[i] = rk
		c.dec[len(c.dec)-1-i] = rk
		k[0], k[1], k[2], k[3] = k[1], k[2], k[3], rk
	}
	return c, nil
}

// BlockSize returns BlockSize.
func (c *Cipher) BlockSize() int { return BlockSize }

// Encrypt encrypts the first block of src into dst. dst and src may overlap
// entirely or not at all.
func (c *Cipher) Encrypt(dst, src []byte) {
	if len(src) < BlockSize || len(dst) < BlockSize {
		panic("sm4: input or output not a full block")
	}
	crypt(&tt, &c.enc, dst, src)
}

// Decrypt decrypts the first block of src into dst. dst and src may overlap
// entirely or not at all.
func (c *Cipher) Decrypt(dst, src []byte) {
	if len(src) < BlockSize || len(dst) < BlockSize {
		panic("sm4: input or output not a full block")
	}
	crypt(&tt, &c.dec, dst, src)
}

// EncryptBlocks encrypts each of the len(src)/BlockSize blocks of src into
// the same place in dst, as Encrypt would one at a time (ECB); it is the
// building block for counter modes. len(src) must be a multiple of
// BlockSize and dst at least as long. dst and src may overlap entirely or not
// at all.
//
// Each round waits on the previous round's table lookups, so Encrypt is
// bound by their latency and the CPU barely overlaps consecutive calls. Here
// up to three blocks go through interleaved rounds, at about half the cost
// per block. (Four at a time runs out of registers and gains nothing more
// per block.)
func (c *Cipher) EncryptBlocks(dst, src []byte) {
	if len(src)%BlockSize != 0 || len(dst) < len(src) {
		panic("sm4: input not whole blocks or output too short")
	}
	for len(src) >= 3*BlockSize {
		crypt3(&tt, &c.enc, dst, src)
		dst, src = dst[3*BlockSize:], src[3*BlockSize:]
	}
	switch len(src) {
	case 2 * BlockSize:
		crypt2(&tt, &c.enc, dst, src)
	case BlockSize:
		crypt(&tt, &c.enc, dst, src)
	}
}

// crypt runs the 32 rounds on the block src[:16] with round keys rk;
// decryption is the same with the keys reversed. The T-tables come in as an
// argument so that the compiler addresses all four from one base register
// instead of materializing each global's address.
func crypt(tab *[4][256]uint32, rk *[32]uint32, dst, src []byte) {
	x0, x1, x2, x3 := load(src)
	u := x1 ^ x2 ^ x3 ^ rk[0]
	// Four rounds per iteration keep the words in fixed variables.
	for i := 0; i < len(rk); i += 4 {
		x0, u = round(tab, u, x0, x2, x3, rk[i+1])
		x1, u = round(tab, u, x1, x3, x0, rk[i+2])
		x2, u = round(tab, u, x2, x0, x1, rk[i+3])
		x3, u = round(tab, u, x3, x1, x2, rk[(i+4)&31]) // u unused after the last round
	}
	store(dst, x0, x1, x2, x3)
}

// crypt2 is crypt on the blocks a and b of src[:32], round by round.
func crypt2(tab *[4][256]uint32, rk *[32]uint32, dst, src []byte) {
	a0, a1, a2, a3 := load(src)
	b0, b1, b2, b3 := load(src[BlockSize:])
	ua := a1 ^ a2 ^ a3 ^ rk[0]
	ub := b1 ^ b2 ^ b3 ^ rk[0]
	for i := 0; i < len(rk); i += 4 {
		k := rk[i+1]
		a0, ua = round(tab, ua, a0, a2, a3, k)
		b0, ub = round(tab, ub, b0, b2, b3, k)
		k = rk[i+2]
		a1, ua = round(tab, ua, a1, a3, a0, k)
		b1, ub = round(tab, ub, b1, b3, b0, k)
		k = rk[i+3]
		a2, ua = round(tab, ua, a2, a0, a1, k)
		b2, ub = round(tab, ub, b2, b0, b1, k)
		k = rk[(i+4)&31]
		a3, ua = round(tab, ua, a3, a1, a2, k)
		b3, ub = round(tab, ub, b3, b1, b2, k)
	}
	store(dst, a0, a1, a2, a3)
	store(dst[BlockSize:], b0, b1, b2, b3)
}

// crypt3 is crypt on the blocks a, b and c of src[:48], round by round.
func crypt3(tab *[4][256]uint32, rk *[32]uint32, dst, src []byte) {
	a0, a1, a2, a3 := load(src)
	b0, b1, b2, b3 := load(src[BlockSize:])
	c0, c1, c2, c3 := load(src[2*BlockSize:])
	ua := a1 ^ a2 ^ a3 ^ rk[0]
	ub := b1 ^ b2 ^ b3 ^ rk[0]
	uc := c1 ^ c2 ^ c3 ^ rk[0]
	for i := 0; i < len(rk); i += 4 {
		k := rk[i+1]
		a0, ua = round(tab, ua, a0, a2, a3, k)
		b0, ub = round(tab, ub, b0, b2, b3, k)
		c0, uc = round(tab, uc, c0, c2, c3, k)
		k = rk[i+2]
		a1, ua = round(tab, ua, a1, a3, a0, k)
		b1, ub = round(tab, ub, b1, b3, b0, k)
		c1, uc = round(tab, uc, c1, c3, c0, k)
		k = rk[i+3]
		a2, ua = round(tab, ua, a2, a0, a1, k)
		b2, ub = round(tab, ub, b2, b0, b1, k)
		c2, uc = round(tab, uc, c2, c0, c1, k)
		k = rk[(i+4)&31]
		a3, ua = round(tab, ua, a3, a1, a2, k)
		b3, ub = round(tab, ub, b3, b1, b2, k)
		c3, uc = round(tab, uc, c3, c1, c2, k)
	}
	store(dst, a0, a1, a2, a3)
	store(dst[BlockSize:], b0, b1, b2, b3)
	store(dst[2*BlockSize:], c0, c1, c2, c3)
}

// round is one round on one block. u is the round input, the XOR of the
// three words before x and the round key; round returns the new x, x ^ T(u),
// and the next round's input: the new x XORed with the other two words it
// needs, y and z, and the next round key k.
//
// The rounds form a chain of dependent table lookups, so the XOR order
// matters: x ^ y ^ z ^ k is formed while the lookups are in flight, leaving
// one XOR between them and the next round's lookups.
func round(tab *[4][256]uint32, u, x, y, z, k uint32) (xNew, uNext uint32) {
	v := t(tab, u)
	return x ^ v, x ^ y ^ z ^ k ^ v
}

// load reads the block b[:16] as four big-endian words.
func load(b []byte) (x0, x1, x2, x3 uint32) {
	_ = b[BlockSize-1]
	return binary.BigEndian.Uint32(b[0:]), binary.BigEndian.Uint32(b[4:]),
		binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint32(b[12:])
}

// store writes the last four words of the rounds to b[:16] in reverse
// order, which is the final transformation R.
func store(b []byte, x0, x1, x2, x3 uint32) {
	_ = b[BlockSize-1]
	binary.BigEndian.PutUint32(b[0:], x3)
	binary.BigEndian.PutUint32(b[4:], x2)
	binary.BigEndian.PutUint32(b[8:], x1)
	binary.BigEndian.PutUint32(b[12:], x0)
}

// t is the round's mixer-substitution T(x) = L(τ(x)) with
// L(b) = b ^ b<<<2 ^ b<<<10 ^ b<<<18 ^ b<<<24. L is linear and τ works
// byte by byte, so T is the XOR of one table entry per input byte.
func t(tab *[4][256]uint32, x uint32) uint32 {
	// Paired so the four lookups are combined in two levels of XOR.
	return (tab[0][x>>24] ^ tab[1][byte(x>>16)]) ^ (tab[2][byte(x>>8)] ^ tab[3][byte(x)])
}

// tau is the S-box applied to each byte of x.
func tau(x uint32) uint32 {
	return uint32(sbox[x>>24])<<24 | uint32(sbox[byte(x>>16)])<<16 |
		uint32(sbox[byte(x>>8)])<<8 | uint32(sbox[byte(x)])
}

// tt holds the T-tables: tt[n][a] = L(S(a) in byte n of the word, byte 0 the
// most significant). One array, so a single base register addresses all four.
var tt [4][256]uint32

func init() {
	for a, s := range sbox {
		b := uint32(s) << 24
		v := b ^ bits.RotateLeft32(b, 2) ^ bits.RotateLeft32(b, 10) ^ bits.RotateLeft32(b, 18) ^ bits.RotateLeft32(b, 24)
		// L commutes with rotation, so the other bytes' tables are rotations.
		for n := range tt {
			tt[n][a] = bits.RotateLeft32(v, -8*n)
		}
	}
}

// Key schedule constants FK and CK of the standard.
var fk = [4]uint32{0xa3b1bac6, 0x56aa3350, 0x677d9197, 0xb27022dc}

var ck = [32]uint32{
	0x00070e15, 0x1c232a31, 0x383f464d, 0x545b6269,
	0x70777e85, 0x8c939aa1, 0xa8afb6bd, 0xc4cbd2d9,
	0xe0e7eef5, 0xfc030a11, 0x181f262d, 0x343b4249,
	0x50575e65, 0x6c737a81, 0x888f969d, 0xa4abb2b9,
	0xc0c7ced5, 0xdce3eaf1, 0xf8ff060d, 0x141b2229,
	0x30373e45, 0x4c535a61, 0x686f767d, 0x848b9299,
	0xa0a7aeb5, 0xbcc3cad1, 0xd8dfe6ed, 0xf4fb0209,
	0x10171e25, 0x2c333a41, 0x484f565d, 0x646b7279,
}

// sbox is the standard's S-box.
var sbox = [256]byte{
	0xd6, 0x90, 0xe9, 0xfe, 0xcc, 0xe1, 0x3d, 0xb7, 0x16, 0xb6, 0x14, 0xc2, 0x28, 0xfb, 0x2c, 0x05,
	0x2b, 0x67, 0x9a, 0x76, 0x2a, 0xbe, 0x04, 0xc3, 0xaa, 0x44, 0x13, 0x26, 0x49, 0x86, 0x06, 0x99,
	0x9c, 0x42, 0x50, 0xf4, 0x91, 0xef, 0x98, 0x7a, 0x33, 0x54, 0x0b, 0x43, 0xed, 0xcf, 0xac, 0x62,
	0xe4, 0xb3, 0x1c, 0xa9, 0xc9, 0x08, 0xe8, 0x95, 0x80, 0xdf, 0x94, 0xfa, 0x75, 0x8f, 0x3f, 0xa6,
	0x47, 0x07, 0xa7, 0xfc, 0xf3, 0x73, 0x17, 0xba, 0x83, 0x59, 0x3c, 0x19, 0xe6, 0x85, 0x4f, 0xa8,
	0x68, 0x6b, 0x81, 0xb2, 0x71, 0x64, 0xda, 0x8b, 0xf8, 0xeb, 0x0f, 0x4b, 0x70, 0x56, 0x9d, 0x35,
	0x1e, 0x24, 0x0e, 0x5e, 0x63, 0x58, 0xd1, 0xa2, 0x25, 0x22, 0x7c, 0x3b, 0x01, 0x21, 0x78, 0x87,
	0xd4, 0x00, 0x46, 0x57, 0x9f, 0xd3, 0x27, 0x52, 0x4c, 0x36, 0x02, 0xe7, 0xa0, 0xc4, 0xc8, 0x9e,
	0xea, 0xbf, 0x8a, 0xd2, 0x40, 0xc7, 0x38, 0xb5, 0xa3, 0xf7, 0xf2, 0xce, 0xf9, 0x61, 0x15, 0xa1,
	0xe0, 0xae, 0x5d, 0xa4, 0x9b, 0x34, 0x1a, 0x55, 0xad, 0x93, 0x32, 0x30, 0xf5, 0x8c, 0xb1, 0xe3,
	0x1d, 0xf6, 0xe2, 0x2e, 0x82, 0x66, 0xca, 0x60, 0xc0, 0x29, 0x23, 0xab, 0x0d, 0x53, 0x4e, 0x6f,
	0xd5, 0xdb, 0x37, 0x45, 0xde, 0xfd, 0x8e, 0x2f, 0x03, 0xff, 0x6a, 0x72, 0x6d, 0x6c, 0x5b, 0x51,
	0x8d, 0x1b, 0xaf, 0x92, 0xbb, 0xdd, 0xbc, 0x7f, 0x11, 0xd9, 0x5c, 0x41, 0x1f, 0x10, 0x5a, 0xd8,
	0x0a, 0xc1, 0x31, 0x88, 0xa5, 0xcd, 0x7b, 0xbd, 0x2d, 0x74, 0xd0, 0x12, 0xb8, 0xe5, 0xb4, 0xb0,
	0x89, 0x69, 0x97, 0x4a, 0x0c, 0x96, 0x77, 0x7e, 0x65, 0xb9, 0xf1, 0x09, 0xc5, 0x6e, 0xc6, 0x84,
	0x18, 0xf0, 0x7d, 0xec, 0x3a, 0xdc, 0x4d, 0x20, 0x79, 0xee, 0x5f, 0x3e, 0xd7, 0xcb, 0x39, 0x48,
}
