package audit

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/tjfoc/gmsm/sm2"
	"go.uber.org/zap"

	"github.com/dbfence/dbfence/audit/internal/sm3"
)

// chainState is the chain head after the last framed record.
type chainState struct {
	seq             uint64
	mac             [32]byte
	sinceCheckpoint int
}

// brokenFile remembers why the writer has no usable file and what the next
// anchor must say about the previous one.
type brokenFile struct {
	file       string // file whose tail is in doubt ("" if it ended cleanly)
	validBytes int64  // its durable good prefix
	nextName   string // name promised by a rotate checkpoint, if any
	cause      string
	since      time.Time
	lost       string // Lost cause when file was removed or replaced, else ""
	firstSeq   uint64 // first seq of file, for the Lost declaration
}

// lineRef locates one framed line in writer.buf for subscribers.
type lineRef struct {
	start, end int
	meta       recordMeta
}

// writer owns the open file and the chain. Only its goroutine touches it
// after Open returns.
type writer struct {
	l    *Log
	cfg  *Config
	fs   FS
	mac  *sm3.HMAC
	sign *sm2.PrivateKey

	sealScratch []byte // nonce || ciphertext || tag of the record being framed

	file     File
	name     string
	index    uint64
	created  time.Time
	size     int64  // bytes written to file
	firstSeq uint64 // seq of the file's first record, 0 if unknown
	lock     File   // the directory's lock file, held until the writer stops

	checkedAt time.Time // when checkFile last ran

	state      chainState // after the last framed record
	synced     chainState // after the last fsynced record
	syncedSize int64
	unsynced   int       // records written, not covered by any fsync yet
	unsyncedAt time.Time // when the oldest of them reached the writer
	batchAt    time.Time // when the first record of the current batch reached the writer

	// Buffered mode fsyncs in the background (syncLoop) so the writer keeps
	// framing and writing meanwhile; inflight is the fsync under way. The
	// writer joins it before any other fsync, rotation, close or rewind.
	syncReq  chan syncJob
	syncRes  chan error
	inflight *syncJob

	broken *brokenFile // set while no file is usable; see recover

	lastCheckpoint time.Time // when the last checkpoint was framed
	checkpointDue  bool      // the next commit adds a time-based checkpoint

	buf   []byte      // lines of the current write, reused
	lines []lineRef   // where each line of buf is, for subscribers
	batch []*pending  // records of the current write, reused
	timer *time.Timer // fsync, retry and checkpoint deadlines
	// lingerTimer paces buffered batches (see linger).
	lingerTimer *time.Timer
}

func newWriter(l *Log, keys *Keys) *writer {
	w := &writer{
		l:     l,
		cfg:   &l.cfg,
		fs:    l.cfg.FS,
		mac:   sm3.NewHMAC(keys.HMAC),
		sign:  keys.SM2,
		buf:   make([]byte, 0, 64<<10),
		timer: newStoppedTimer(),
	}
	if l.cfg.Mode == ModeBuffered {
		w.syncReq, w.syncRes = make(chan syncJob, 1), make(chan error, 1)
	}
	return w
}

// syncJob is one background fsync and the durable mark it establishes.
type syncJob struct {
	file    File
	state   chainState
	size    int64
	records int
}

// syncLoop runs the background fsyncs of buffered mode.
func (w *writer) syncLoop() {
	for job := range w.syncReq {
		w.syncRes <- w.timedSync(job.file)
	}
}

// timedSync fsyncs f and records how long it took.
func (w *writer) timedSync(f File) error {
	start := time.Now()
	err := f.Sync()
	w.l.fsyncSeconds.Observe(time.Since(start).Seconds())
	return err
}

// startBackgroundSync hands the records written so far to syncLoop.
func (w *writer) startBackgroundSync() {
	job := syncJob{file: w.file, state: w.state, size: w.size, records: w.unsynced}
	w.inflight, w.unsynced = &job, 0
	w.syncReq <- job
}

// finishSync applies the result of the in-flight fsync, waiting for it if
// block is set; without block it returns at once when it is still running.
// On failure its records are in doubt again (counted in unsynced).
func (w *writer) finishSync(block bool) error {
	if w.inflight == nil {
		return nil
	}
	var res error
	if block {
		res = <-w.syncRes
	} else {
		select {
		case res = <-w.syncRes:
		default:
			return nil
		}
	}
	job := w.inflight
	w.inflight = nil
	if res != nil {
		w.unsynced += job.records
		return fmt.Errorf("audit: fsync %s: %w", w.name, res)
	}
	w.l.stats.fsyncs.Add(1)
	w.synced, w.syncedSize = job.state, job.size
	return nil
}

func newStoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// retryInterval is how often a broken writer retries when no records arrive.
const retryInterval = time.Second

// fileCheckInterval is how often the writer checks that its file is still
// in the directory (Config.checkEvery overrides it in tests): two stat calls
// a second, whatever the record rate.
const fileCheckInterval = time.Second

// run is the writer goroutine: batch, frame, write, fsync, acknowledge.
func (w *writer) run() {
	defer close(w.l.done)
	defer w.unlockDir()
	if w.syncReq != nil {
		go w.syncLoop()
		defer close(w.syncReq)
	}
	for {
		select {
		case p := <-w.l.queue:
			w.batch = append(w.batch[:0], p)
			w.batchAt = time.Now()
			w.drain()
			if w.cfg.Mode == ModeBuffered {
				w.linger()
			}
			w.commit(w.batch)
		case <-w.timer.C:
			w.onTimer()
		case <-w.l.quit:
			w.shutdown()
			return
		}
		w.armTimer()
	}
}

// lingerMax bounds how long a buffered batch waits for company.
const lingerMax = 10 * time.Millisecond

// linger lets more buffered records join the batch before it is written:
// under load the writer then wakes, writes and (once FsyncInterval has
// passed) fsyncs once per linger window instead of once per record. Each
// write and each fsync costs the machine CPU that the sessions need, and on
// a virtual disk every I/O is dear: with the window at 2ms instead of the
// fsync interval, PostgreSQL point selects lost about 15% to audit instead
// of about 9% (bench/audit-cost.sh). A record waits at most
// min(FsyncInterval, lingerMax) to be written; its fsync starts right after
// (or once the one in flight ends), because the fsync deadline counts from
// when the batch began to gather.
func (w *writer) linger() {
	if len(w.batch) >= 4096 {
		return
	}
	d := min(lingerMax, w.cfg.FsyncInterval)
	if w.lingerTimer == nil {
		w.lingerTimer = time.NewTimer(d)
	} else {
		w.lingerTimer.Reset(d)
	}
	select {
	case <-w.lingerTimer.C:
	case <-w.l.quit:
		w.lingerTimer.Stop()
	}
	w.drain()
}

// drain adds queued records to the batch without blocking. In strict mode
// FsyncRecords caps the records one fsync acknowledges.
func (w *writer) drain() {
	limit := 4096
	if w.cfg.Mode == ModeStrict {
		limit = w.cfg.FsyncRecords
	}
	for len(w.batch) < limit {
		select {
		case p := <-w.l.queue:
			w.batch = append(w.batch, p)
		default:
			return
		}
	}
}

// armTimer schedules the earliest pending deadline: a retry while broken or
// with an unwritten drop summary, the fsync deadline of buffered records,
// and the time-based checkpoint.
func (w *writer) armTimer() {
	d := time.Duration(-1)
	earliest := func(c time.Duration) {
		if d < 0 || c < d {
			d = max(c, 0)
		}
	}
	if w.broken != nil || w.dropsPending() {
		earliest(retryInterval)
	}
	if w.unsynced > 0 {
		earliest(w.cfg.FsyncInterval - time.Since(w.unsyncedAt))
	}
	if w.inflight != nil {
		earliest(w.cfg.FsyncInterval)
	}
	if w.state.sinceCheckpoint > 0 && w.broken == nil {
		earliest(w.cfg.CheckpointInterval - time.Since(w.lastCheckpoint))
	}
	if w.broken == nil && w.file != nil {
		earliest(w.cfg.checkEvery - time.Since(w.checkedAt))
	}
	if d >= 0 {
		w.timer.Reset(d)
	}
}

func (w *writer) dropsPending() bool {
	return w.l.stats.pendingDropQueue.Load()+w.l.stats.pendingDropWrite.Load() > 0
}

func (w *writer) onTimer() {
	if w.fileCheckDue() {
		if err := w.checkFile(); err != nil {
			// Recover on the next record or retry tick, not at once, so
			// that health shows the loss for a while even on an idle log.
			w.fail(err, nil)
			return
		}
	}
	switch {
	case w.broken != nil || w.dropsPending():
		w.commit(nil) // recovers and writes the drop summary
	case w.state.sinceCheckpoint > 0 && time.Since(w.lastCheckpoint) >= w.cfg.CheckpointInterval:
		w.checkpointDue = true
		w.commit(nil)
	case w.unsynced > 0 || w.inflight != nil:
		if err := w.finishSync(true); err != nil {
			w.fail(err, nil)
		} else if w.unsynced > 0 {
			w.startBackgroundSync()
		}
	}
}

func (w *writer) now() time.Time { return w.cfg.Now() }

// frame appends one record line with the next seq and its MAC to w.buf.
func (w *writer) frame(body []byte) { w.frameSealing(body, -1, nil) }

// framePending frames a session's record, sealing its literals.
func (w *writer) framePending(p *pending) { w.frameSealing(p.body, p.litAt, p.plain) }

// frameSealing frames body; when litAt >= 0 it first inserts the sealed
// form of plain there (the literals_enc value the session left empty).
func (w *writer) frameSealing(body []byte, litAt int, plain []byte) {
	w.state.seq++
	start := len(w.buf)
	w.buf = append(w.buf, `{"seq":`...)
	w.buf = strconv.AppendUint(w.buf, w.state.seq, 10)
	w.buf = append(w.buf, ',')
	if litAt >= 0 {
		w.buf = append(w.buf, body[:litAt]...)
		w.buf, w.sealScratch = w.l.sealer.appendSealedPlain(w.buf, w.sealScratch, plain)
		body = body[litAt:]
	}
	w.buf = append(w.buf, body...)
	w.mac.Reset()
	w.mac.Write(w.state.mac[:])
	w.mac.Write(w.buf[start:])
	w.state.mac = w.mac.Sum32()
	w.buf = append(w.buf, `,"mac":"`...)
	w.buf = hex.AppendEncode(w.buf, w.state.mac[:])
	w.buf = append(w.buf, "\"}\n"...)
	w.state.sinceCheckpoint++
}

// frameOwn frames an event generated by the log itself.
func (w *writer) frameOwn(e *Event) {
	start := len(w.buf)
	body, _ := appendEventBody(nil, e, literalsDrop)
	w.frame(body)
	w.lines = append(w.lines, lineRef{start: start, end: len(w.buf), meta: recordMeta{typ: e.Type}})
}

// frameCheckpoint signs the current head and frames a checkpoint record.
func (w *writer) frameCheckpoint(now time.Time, cp Checkpoint) error {
	cp.HeadSeq = w.state.seq
	cp.HeadMAC = hex.EncodeToString(w.state.mac[:])
	cp.File = w.name
	timeText := now.Format(timeLayout)
	sig, err := w.sign.Sign(rand.Reader, checkpointMessage(w.state.seq+1, timeText, &cp), nil)
	if err != nil {
		return fmt.Errorf("audit: sign checkpoint: %w", err)
	}
	cp.Sig = base64.StdEncoding.EncodeToString(sig)
	start := len(w.buf)
	w.frame(appendCheckpointBody(nil, timeText, &cp))
	w.lines = append(w.lines, lineRef{start: start, end: len(w.buf), meta: recordMeta{typ: TypeCheckpoint}})
	w.state.sinceCheckpoint = 0
	w.lastCheckpoint = time.Now()
	return nil
}

// commit writes one batch (possibly empty: then only recovery and the drop
// summary) and acknowledges it.
func (w *writer) commit(batch []*pending) {
	now := w.now()
	if w.fileCheckDue() {
		if err := w.checkFile(); err != nil {
			w.fail(err, nil)
		}
	}
	if w.broken != nil {
		if err := w.recover(now); err != nil {
			w.l.setDegraded(now, err)
			w.failBatch(batch, err)
			return
		}
	}
	w.buf, w.lines = w.buf[:0], w.lines[:0]
	dq := w.l.stats.pendingDropQueue.Swap(0)
	dw := w.l.stats.pendingDropWrite.Swap(0)
	if dq+dw > 0 {
		w.frameOwn(&Event{Type: TypeAuditDropped, Time: now, Rows: int64(dq + dw),
			Reason: fmt.Sprintf("%d records dropped (buffered mode): %d queue full, %d write errors", dq+dw, dq, dw), Detail: map[string]string{
				"queue_full":  strconv.FormatUint(dq, 10),
				"write_error": strconv.FormatUint(dw, 10),
			}})
	}
	var err error
	for _, p := range batch {
		start := len(w.buf)
		w.framePending(p)
		w.lines = append(w.lines, lineRef{start: start, end: len(w.buf), meta: p.meta})
		if w.state.sinceCheckpoint >= w.cfg.CheckpointEvery && err == nil {
			err = w.frameCheckpoint(now, Checkpoint{Reason: ReasonPeriodic})
		}
	}
	if w.checkpointDue && w.state.sinceCheckpoint > 0 && err == nil {
		err = w.frameCheckpoint(now, Checkpoint{Reason: ReasonPeriodic})
	}
	w.checkpointDue = false
	rotateTo := ""
	if err == nil && (w.size+int64(len(w.buf)) >= w.cfg.RotateBytes || now.Sub(w.created) >= w.cfg.RotateAge) {
		rotateTo = fileName(now, w.index+1)
		w.frameOwn(&Event{Type: TypeAuditRotate, Time: now, Detail: map[string]string{"next_file": rotateTo}})
		err = w.frameCheckpoint(now, Checkpoint{Reason: ReasonRotate, NextFile: rotateTo})
	}
	n := len(w.lines)
	if n == 0 {
		return // a retry tick with nothing to write
	}
	if err == nil {
		err = w.writeBuf()
	}
	if err == nil {
		w.unsynced += n
		if w.unsynced == n {
			// Counted from when the batch began to gather, so that a batch
			// that lingered for the whole interval is fsynced at once.
			w.unsyncedAt = time.Now()
			if len(batch) > 0 && !w.batchAt.IsZero() {
				w.unsyncedAt = w.batchAt
			}
		}
		switch {
		case w.cfg.Mode == ModeStrict || rotateTo != "":
			err = w.syncFile()
			if err == nil && w.cfg.Mode == ModeStrict {
				// A strict acknowledgement means the record is in the
				// log: not in a file removed or replaced since the last
				// periodic check. Two stat calls beside an fsync.
				err = w.checkFile()
			}
		default:
			err = w.finishSync(false)
			if err == nil && w.inflight == nil && (w.unsynced >= w.cfg.FsyncRecords || time.Since(w.unsyncedAt) >= w.cfg.FsyncInterval) {
				w.startBackgroundSync()
			}
		}
	}
	if err != nil {
		w.l.stats.pendingDropQueue.Add(dq)
		w.l.stats.pendingDropWrite.Add(dw)
		w.fail(err, batch)
		return
	}
	for _, p := range batch {
		if p.done != nil && w.cfg.Mode == ModeStrict {
			p.done <- nil
		} else {
			w.l.putPending(p)
		}
	}
	w.publish()
	if rotateTo != "" {
		w.rotate(now, rotateTo)
	}
}

// writeBuf appends w.buf to the file.
func (w *writer) writeBuf() error {
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.file.Write(w.buf)
	w.size += int64(n)
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("audit: write %s: %w", w.name, err)
	}
	w.l.stats.records.Add(uint64(len(w.lines)))
	w.l.stats.bytes.Add(uint64(n))
	return nil
}

// syncFile fsyncs the file (after any background fsync) and moves the
// durable mark.
func (w *writer) syncFile() error {
	if err := w.finishSync(true); err != nil {
		return err
	}
	if err := w.timedSync(w.file); err != nil {
		return fmt.Errorf("audit: fsync %s: %w", w.name, err)
	}
	w.l.stats.fsyncs.Add(1)
	w.synced, w.syncedSize, w.unsynced = w.state, w.size, 0
	return nil
}

// fail handles a write or fsync error: everything after the durable mark is
// in doubt, so the file is abandoned and the chain rewinds to the durable
// head; the next anchor declares the doubtful bytes. Strict callers get the
// error; buffered records (this batch and those written but not yet
// fsynced) are counted as dropped and summarized later.
func (w *writer) fail(err error, batch []*pending) {
	now := w.now()
	w.finishSync(true) // its records are counted in unsynced if it failed too
	w.l.setDegraded(now, err)
	if w.cfg.Mode == ModeBuffered && w.unsynced > 0 {
		w.l.stats.droppedWrite.Add(uint64(w.unsynced))
		w.l.stats.pendingDropWrite.Add(uint64(w.unsynced))
	}
	w.broken = &brokenFile{file: w.name, validBytes: w.syncedSize, cause: err.Error(), since: now}
	if le := (*lostError)(nil); errors.As(err, &le) {
		w.broken.lost, w.broken.firstSeq = le.cause, w.firstSeq
	}
	w.state, w.unsynced = w.synced, 0
	w.closeFile()
	w.failBatch(batch, err)
}

func (w *writer) failBatch(batch []*pending, err error) {
	for _, p := range batch {
		if w.cfg.Mode == ModeStrict {
			p.done <- err
			continue
		}
		w.l.stats.droppedWrite.Add(1)
		w.l.stats.pendingDropWrite.Add(1)
		w.l.putPending(p)
	}
}

func (w *writer) closeFile() {
	if w.inflight != nil {
		// Never close under a running fsync; callers join first, this is a
		// safety net whose failure the next write would surface anyway.
		if err := w.finishSync(true); err != nil {
			w.l.logger.Warn("audit: fsync before close", zap.Error(err))
		}
	}
	if w.file != nil {
		if err := w.file.Close(); err != nil {
			w.l.logger.Warn("audit: close file", zap.String("file", w.name), zap.Error(err))
		}
		w.file = nil
	}
}

// rotate closes the current file (which ends with a rotate checkpoint
// naming next) and starts next.
func (w *writer) rotate(now time.Time, next string) {
	if err := w.checkFile(); err != nil {
		// The rotate checkpoint went to a lost file: the next file gets a
		// recovery anchor that declares the loss, not a rotation anchor.
		w.fail(err, nil)
		return
	}
	prev := w.name
	w.closeFile()
	err := w.startFile(next, w.index+1, now, Checkpoint{Reason: ReasonRotation, Anchor: true, PrevFile: prev})
	if err != nil {
		w.l.setDegraded(now, err)
		w.broken = &brokenFile{nextName: next, cause: err.Error(), since: now}
		return
	}
	w.applyRetention(now)
}

// recover starts a new file after a failure, declaring the doubtful tail of
// the abandoned file, or its loss when it was removed or replaced.
func (w *writer) recover(now time.Time) error {
	b := w.broken
	// The directory may have gone with the file: recreate it, and hold its
	// lock again before writing into it.
	if err := w.fs.MkdirAll(w.cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("audit: create dir: %w", err)
	}
	if err := w.relock(); err != nil {
		return err
	}
	name, reason := b.nextName, ReasonRotation
	if name == "" {
		name, reason = fileName(now, w.index+1), ReasonRecovery
	}
	cp := Checkpoint{Reason: reason, Anchor: true, PrevFile: w.name}
	rec := &Event{Type: TypeAuditRecover, Time: now,
		Reason: "audit log write failed and recovered", Detail: map[string]string{
			"error": b.cause, "failed_since": b.since.Format(timeLayout)}}
	switch {
	case b.lost != "":
		cp.Lost = &Lost{File: b.file, FirstSeq: b.firstSeq, Cause: b.lost}
		rec.Reason = fmt.Sprintf("audit file %s was lost (%s) while in use: records %s-%d are gone", b.file, b.lost, seqOrUnknown(b.firstSeq), w.state.seq)
		rec.Detail["file"], rec.Detail["lost"] = b.file, b.lost
		rec.Detail["first_seq"], rec.Detail["last_seq"] = seqOrUnknown(b.firstSeq), strconv.FormatUint(w.state.seq, 10)
	case b.file != "":
		cp.Discard = w.describeDebris(b.file, b.validBytes, b.cause)
	}
	err := w.startFile(name, w.index+1, now, cp, rec)
	if err != nil {
		return err
	}
	w.broken = nil
	w.l.setHealthy(now)
	return nil
}

func seqOrUnknown(seq uint64) string {
	if seq == 0 {
		return "?"
	}
	return strconv.FormatUint(seq, 10)
}

// lostError says the open file is no longer the file at its path.
type lostError struct{ dir, file, cause string }

func (e *lostError) Error() string {
	if e.cause == LostDirRemoved {
		return fmt.Sprintf("audit: directory %s was removed while %s was open: its records are lost", e.dir, e.file)
	}
	return fmt.Sprintf("audit: %s was %s while open: its records are lost", e.file, e.cause)
}

func (w *writer) fileCheckDue() bool {
	return w.broken == nil && w.file != nil && time.Since(w.checkedAt) >= w.cfg.checkEvery
}

// checkFile checks that the open file is still the file at its path.
// Otherwise a removed file or directory would go unnoticed until rotation:
// records would go to an unlinked inode, health would say ok, and a restart
// would start a new chain. A lost file is a failure of the current file
// (see fail), whose recovery anchor declares the loss.
func (w *writer) checkFile() error {
	w.checkedAt = time.Now()
	if w.file == nil {
		return nil
	}
	open, err := w.file.Stat()
	if err != nil {
		return fmt.Errorf("audit: stat %s: %w", w.name, err)
	}
	cur, err := w.fs.Stat(filepath.Join(w.cfg.Dir, w.name))
	switch {
	case err == nil && os.SameFile(open, cur):
		return nil
	case err == nil:
		return &lostError{dir: w.cfg.Dir, file: w.name, cause: LostReplaced}
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		cause := LostRemoved
		if d, derr := w.fs.Stat(w.cfg.Dir); derr != nil || !d.IsDir() {
			cause = LostDirRemoved
		}
		return &lostError{dir: w.cfg.Dir, file: w.name, cause: cause}
	default:
		// Cannot look (say EACCES on the directory): the file may be fine,
		// and writing to it is what the writer can still do.
		w.l.logger.Warn("audit: cannot check the current file", zap.String("file", w.name), zap.Error(err))
		return nil
	}
}

// describeDebris reads the bytes of file after validBytes.
func (w *writer) describeDebris(file string, validBytes int64, cause string) *Discard {
	d := &Discard{File: file, ValidBytes: validBytes, Bytes: -1, Cause: cause}
	f, err := w.fs.OpenFile(filepath.Join(w.cfg.Dir, file), os.O_RDONLY, 0)
	if err != nil {
		return d
	}
	defer f.Close()
	if _, err := f.Seek(validBytes, io.SeekStart); err != nil {
		return d
	}
	h := sm3.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return d
	}
	d.Bytes = n
	sum := h.Sum32()
	d.SM3 = hex.EncodeToString(sum[:])
	return d
}

// startFile creates name, writes its anchor and extra records, fsyncs the
// file and the directory. On failure the chain state is unchanged and the
// partial file is removed.
func (w *writer) startFile(name string, index uint64, now time.Time, anchor Checkpoint, extra ...*Event) error {
	path := filepath.Join(w.cfg.Dir, name)
	f, err := w.fs.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit: create %s: %w", name, err)
	}
	saved := w.state
	savedName, savedIndex, savedCreated, savedSize, savedSynced, savedFirst := w.name, w.index, w.created, w.size, w.syncedSize, w.firstSeq
	w.file, w.name, w.index, w.created, w.size, w.firstSeq = f, name, index, now, 0, w.state.seq+1
	w.buf, w.lines = w.buf[:0], w.lines[:0]
	err = w.frameCheckpoint(now, anchor)
	for _, e := range extra {
		w.frameOwn(e)
	}
	if err == nil {
		err = w.writeBuf()
	}
	if err == nil {
		err = w.syncFile()
	}
	if err == nil {
		if err = w.fs.SyncDir(w.cfg.Dir); err != nil {
			err = fmt.Errorf("audit: fsync directory: %w", err)
		}
	}
	if err != nil {
		w.state, w.synced = saved, saved
		w.closeFile()
		w.name, w.index, w.created, w.size, w.syncedSize, w.firstSeq = savedName, savedIndex, savedCreated, savedSize, savedSynced, savedFirst
		if rerr := w.fs.Remove(path); rerr != nil {
			w.l.logger.Error("audit: cannot remove failed file", zap.String("file", name), zap.Error(rerr))
		}
		return err
	}
	w.publish()
	return nil
}

// shutdown writes what is queued, then audit_stop and the close checkpoint.
func (w *writer) shutdown() {
	for {
		w.batch = w.batch[:0]
		w.drain()
		if len(w.batch) == 0 {
			break
		}
		w.commit(w.batch)
	}
	w.checkedAt = time.Time{} // never seal a lost file with the close checkpoint
	w.commit(nil)             // recovers if needed and writes any drop summary
	now := w.now()
	if w.broken != nil {
		w.l.closeErr = fmt.Errorf("audit: cannot write audit_stop: %s", w.broken.cause)
		return
	}
	w.buf, w.lines = w.buf[:0], w.lines[:0]
	w.frameOwn(&Event{Type: TypeAuditStop, Time: now})
	err := w.frameCheckpoint(now, Checkpoint{Reason: ReasonClose})
	if err == nil {
		err = w.writeBuf()
	}
	if err == nil {
		err = w.syncFile()
	}
	if err == nil {
		w.publish()
	}
	if cerr := w.file.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("audit: close %s: %w", w.name, cerr)
	}
	w.file = nil
	if err != nil {
		w.l.setDegraded(now, err)
		w.l.closeErr = err
	}
}
