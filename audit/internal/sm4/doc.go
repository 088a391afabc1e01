// Package sm4 is an allocation-free SM4 block cipher (GB/T 32907-2016) for
// the audit writer's hot path: literalSealer encrypts every record's
// literals with SM4-GCM on the session goroutine.
//
// github.com/tjfoc/gmsm/sm4 is correct but slow for this use: it keeps its
// state in slices on the cipher, so a block is not safe for concurrent use
// (the audit package had to pool one per goroutine), and its rounds go
// through memory. Here the round keys are expanded once into arrays, the
// state stays in registers, and each round's S-box and linear transform are
// four lookups in T-tables built at init from the S-box. A Cipher is
// read-only after NewCipher and safe for concurrent use.
//
// A block is 32 rounds, each waiting on the previous round's table lookups,
// so latency sets the cost of Encrypt (about three quarters of tjfoc's).
// EncryptBlocks, for counter modes, interleaves up to three independent
// blocks, which costs about half as much again as one.
//
// The tables (4 KiB, like the audit package's 8-bit GHASH table) are
// indexed by key- and data-dependent bytes, as tjfoc's S-box is: a process
// sharing the CPU's caches could learn about the key by timing. The audit
// key protects literals at rest, and the proxy should run on a host that
// does not run untrusted code; constant-time SM4 would need bitsliced or
// AES-NI-based code.
//
// tjfoc/gmsm stays the reference: the tests check this package against it
// and the standard's test vectors, and BenchmarkEncrypt and BenchmarkEncryptBlocks compare the two.
package sm4
