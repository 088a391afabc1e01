// Package auditcmd is the "audit" command of the dbfence binary: verify a
// log directory, tail or show records, and generate keys. The main binary
// calls Main with the arguments after "audit"; everything it prints goes to
// the given writers, so it is tested in-process.
//
//	audit verify DIR [--key-file F] [--pubkey F] [--expect-closed] [--json]
//	audit tail   [--dir DIR] [-f] [-n N] [--user U] [--decision D] [--type T] [--session S] [--since T] [--json]
//	audit show   [--dir DIR] [--user U] ... [--since T] [--decrypt --sm4-key-file F]
//	audit keygen --out DIR
//
// Exit status: 0 success, 1 verification failed, 2 usage or I/O error.
package auditcmd
