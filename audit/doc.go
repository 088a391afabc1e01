// Package audit owns dbfence's tamper-evident audit trail: the event model,
// the append-only writer with group commit, the HMAC-SM3 record chain and
// SM2-signed checkpoints, rotation and retention, recovery after crashes and
// I/O errors, verification, reading/following, and live subscriptions.
// It is a leaf: it imports nothing else from dbfence. The CLI is in auditcmd.
//
// # Files
//
// A log directory holds JSON Lines files named
//
//	audit-<UTC creation time YYYYMMDDTHHMMSSZ>-<index, 6+ digits>.jsonl
//
// created 0600 with O_APPEND|O_EXCL. The index grows by one per file for the
// life of the directory, so a missing index means a missing file. A file is
// started at Open (empty directory or crash recovery), at rotation (size
// RotateBytes or age RotateAge, checked when records are written) and after a
// write error.
//
// One process writes a directory at a time: Open takes flock(LOCK_EX|LOCK_NB)
// on audit.lock (0600, holding the holder's pid) before it reads or writes
// anything, and the writer keeps it until Close. A second Open fails with
// ErrDirInUse instead of appending restart records with duplicate seqs to
// the live file. The kernel drops the lock when its holder dies.
//
// # Records
//
// Each line is one JSON object; the writer emits members in a fixed order:
//
//	{"seq":N, <event members: "type","time",...>, "mac":"<64 hex>"}\n
//
// seq starts at 1 and increases by one across all files. Event members are
// those of Event (snake_case, empty ones omitted); literals are written as
// literals_enc = base64(12-byte nonce || SM4-GCM(JSON array)) when an SM4 key
// is configured, in plaintext only with PlaintextLiterals, otherwise dropped
// and counted in literals_dropped.
//
// # Chain
//
//	mac[i] = HMAC-SM3(K, mac[i-1] || prefix[i])     mac[0] = 32 zero bytes
//
// where prefix[i] is the exact bytes of line i before `,"mac":"` (so the MAC
// does not depend on re-encoding JSON) and mac values are the raw 32 bytes.
// Without K an attacker who can write the files cannot produce a valid chain
// after a change, insertion, deletion or reordering.
//
// # Checkpoints
//
// A checkpoint is a record of type "checkpoint" whose payload names the chain
// head it covers (head_seq, head_mac: the record just before it) and is signed
// with SM2 (tjfoc/gmsm, default user id) over the text built by
// checkpointMessage: version tag, own seq, time, reason, anchor flag, head,
// file names and any discard declaration. Verification needs only the public
// key. Checkpoints are written every CheckpointEvery records or, if records
// were written, after CheckpointInterval without one (periodic), as the
// last record of a file before rotation (rotate, naming next_file), as the
// last record on Close (close, preceded by audit_stop), after a restart into
// the same file (restart) and as the first record of every file (anchor).
//
// An anchor links its file to the previous one: prev_file, and head_seq /
// head_mac equal to the last good record of the chain. Reasons: genesis (first
// file ever, head 0), rotation, restart, recovery. Because every file starts
// with an anchor, the oldest remaining file still verifies after retention
// deleted its predecessors.
//
// # Durability (group commit)
//
// One writer goroutine owns the file. Record encodes the event in the
// caller's goroutine and queues it, the literals as a plaintext JSON array;
// the writer drains the queue into a batch, seals each record's literals
// (SM4-GCM, where its tables stay in cache across the batch), frames each
// record (seq, MAC), writes the batch with one write(2), and:
//
//   - strict: fsyncs, then releases the callers; at most FsyncRecords records
//     share one fsync. Records arriving during an fsync form the next batch.
//   - buffered: lets a batch gather for up to FsyncInterval (at most 10ms)
//     before writing it, so that under load there is one write and one
//     fsync per interval; fsyncs once FsyncRecords records or FsyncInterval
//     have accumulated, in a helper goroutine so the writer keeps writing
//     during the fsync (one fsync in flight at a time). A full queue drops the
//     record, counts it, and the writer writes an audit_dropped record with
//     the counts as soon as it can.
//
// # Failures and recovery
//
// When a write, fsync or file creation fails, everything after the last
// successful fsync is in doubt: the writer abandons the file, rewinds the
// chain to the last durable record, marks Health degraded and logs the
// error. Strict callers get the error (nothing they were told is durable is
// lost); buffered records in doubt are counted as dropped and summarized. On
// the next batch (or every second) the writer starts a new file whose
// recovery anchor declares the abandoned bytes (discard: file, valid_bytes,
// byte count and SM3), followed by audit_recover; health returns to ok.
//
// Once a second (and at rotation and Close, and in strict mode after every
// fsync, before the callers are released) the writer checks that its open
// file is still the file at its path: a strict acknowledgement never
// covers a record written to a file no longer in the directory. When the file or the whole directory
// was removed or replaced, records would otherwise go to an unlinked inode
// until rotation and a restart would begin a new chain at seq 1. The writer
// treats it as a failure of the file (degraded, the error logged, strict
// callers refused until it can write again), recreates the directory and
// retakes its lock if they went, and starts a new file whose recovery
// anchor declares the loss (lost: file, first_seq, cause; the last seq is
// the anchor's head), followed by audit_recover.
//
// On Open after a crash the newest file may end with a torn line. The writer
// does not refuse to start (that would stop the proxy and the audit trail)
// and does not truncate (the bytes are evidence). It leaves the file as is and
// starts a new file whose restart anchor declares the bytes after the last
// complete record as discarded, then writes audit_start and audit_recover.
// Verify accepts declared torn bytes if they still hash to the declared SM3;
// it reports complete-but-invalid lines declared this way as a problem, so
// the mechanism cannot launder tampering. A newest file that ends cleanly is
// reopened for appending (restart checkpoint); one that ends with a rotate
// checkpoint gets its promised successor.
//
// # Retention
//
// After each rotation and at Open, files whose successor was created more
// than Retention ago (default and minimum 180 days) are deleted, oldest first,
// never the current file. Before deleting, the writer writes and fsyncs a
// retention_delete record (objects = the file names, detail.through_file,
// detail.through_seq); Verify accepts a log whose oldest file starts after
// seq 1 only if such a record matches that file's anchor.
//
// # Verification
//
// Verify reads the files in index order and reports, with file, line and
// seq: bad lines, seq gaps (deletion), seq going backwards (insertion,
// reordering), MAC mismatches (modification), anchors that do not continue the
// previous file (truncation, deleted middle files), index gaps, a rotate
// checkpoint naming a missing file (deleted newest file), oldest files missing
// without a retention record, torn tails not declared by a later anchor,
// modified debris, and bad signatures. A missing file that the next anchor
// declares lost is reported once, as lost_file, with what happened and the
// seqs that went with it. With only the public key it checks the
// structure and signatures and says that record contents were not verified.
//
// What it cannot see: deletion of the newest complete records of a log that
// is still running (or crashed) — nothing after them remains to notice. Use
// VerifyOptions.ExpectClosed on a stopped log, and export checkpoints
// elsewhere (e.g. syslog or Kafka) to pin the head of a running one.
//
// # Reading and forwarding
//
// Reader iterates records across files with a Filter and Since, and follows
// new records across rotations. Log.Subscribe delivers new lines in process
// without ever blocking the writer (slow subscribers lose lines, counted);
// Log.StreamHandler serves them as NDJSON over HTTP to bearer-token clients.
// SyslogForwarder follows the files (not the queue) and sends each record as
// an RFC 5424 message over TCP or TLS; when the collector is down it waits
// and catches up from the files, so it can neither slow the writer nor lose
// a local record.
//
// KafkaForwarder (Config.Kafka; github.com/twmb/franz-go) follows the files
// the same way and produces each record to one topic: the value is the JSON
// line exactly as written, the key is the session_id (none for records
// without one), so a session's records share a partition and stay in
// order, and the headers dbfence-seq and dbfence-type repeat the seq and
// type. The producer is idempotent with acks=all. The cursor file (default
// <dir>/kafka.cursor) advances only over acknowledged records, at most
// every second while records flow, whenever the forwarder has caught up,
// and on Close. While the brokers are down or refuse records it retries
// with a doubling backoff, logging one warning when they go and one info
// when they are back, then catches up from the cursor, also after a
// restart. Delivery is at least once: records acknowledged after the last
// cursor save are sent again after a crash, and records of a failed batch
// that other partitions had accepted are sent again; consumers deduplicate
// by seq. A record Kafka refuses as too large (over about 1 MB) is skipped,
// logged and counted (KafkaStats.Rejected); it stays in the local log.
//
// # Metrics
//
// With Config.Registerer the log exports dbfence_audit_*: records, bytes,
// fsyncs, write errors and the drops of buffered mode (counters), the
// queue depth and health (gauges), and fsync_duration_seconds, a histogram
// of every fsync of an audit file. On a virtual disk the fsyncs are much of
// what audit costs, and their duration is strict mode's latency.
//
// # Concurrency
//
// Record, Subscribe, Health and Stats may be called from any goroutine.
// Record encodes in the caller and never touches the file; the writer
// goroutine alone owns the file, the chain state, the HMAC and the sealing
// of literals. Close must be
// called once; Record after Close returns ErrClosed.
package audit
