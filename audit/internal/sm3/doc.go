// Package sm3 is SM3 (GB/T 32905-2016) and HMAC-SM3 for the audit log, with
// no allocation per message on the writer's hot path.
//
// The hashing is github.com/emmansun/gmsm/sm3, which has assembly for amd64
// and arm64: about 1.5 times the throughput of the portable Go compression
// function this package used to carry (BenchmarkHMAC432), and the HMAC of
// each record is most of the audit writer's CPU. github.com/tjfoc/gmsm/sm3
// copies the whole message on every Write and allocates on every Sum; the
// tests hold this package to tjfoc's results and to the standard's vectors.
//
// HMAC is crypto/hmac over that hash: it keeps the keyed pads' hash states
// and restores them on Reset, so a MAC costs only the message blocks and the
// outer block.
package sm3
