package audit

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"go.uber.org/zap"

	"github.com/dbfence/dbfence/audit/internal/sm3"
)

// tailInfo is what openDir learns from the end of a file.
type tailInfo struct {
	last      *Record  // last record that parses, nil if none
	lastMAC   [32]byte // its MAC
	validEnd  int64    // offset just after that record's newline
	debris    []byte   // bytes after validEnd
	debrisCut string   // "torn" (no complete line in debris) or "invalid"
}

// analyzeTail finds the last parseable record of data. Everything after it
// is debris: a crash can only leave an incomplete final line ("torn"); any
// complete but unparseable line there is "invalid" and Verify reports it.
func analyzeTail(data []byte) tailInfo { return analyzeTailWindow(data, true) }

// analyzeTailWindow is analyzeTail over data, the end of a file; whole says
// data is all of it. Otherwise a line that starts before data is not a
// candidate (last stays nil), so that a cut line is never taken for a
// record: the caller reads a larger window.
func analyzeTailWindow(data []byte, whole bool) tailInfo {
	var t tailInfo
	end := len(data)
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		end = i + 1
	} else {
		end = 0
	}
	for end > 0 {
		nl := bytes.LastIndexByte(data[:end-1], '\n')
		if nl < 0 && !whole {
			return tailInfo{} // the line may begin before the window
		}
		start := nl + 1
		line := data[start:end]
		if rec, err := ParseRecord(line); err == nil {
			if _, mac, err := SplitLine(line); err == nil {
				t.last, t.lastMAC, t.validEnd = rec, mac, int64(end)
				break
			}
		}
		end = start
	}
	t.debris = data[t.validEnd:]
	t.debrisCut = "torn"
	if bytes.IndexByte(t.debris, '\n') >= 0 {
		t.debrisCut = "invalid"
	}
	return t
}

// tailWindowSize is how much of a file's end Open reads first to find its
// last record: records are far shorter, so one read of the end usually
// does, whatever rotate_bytes is.
const tailWindowSize = 1 << 20

// readTail analyzes the end of file name without reading all of it: a
// window at the end, doubled until it holds a whole record or the whole
// file. It also returns the file's size and first line (for its first seq).
func (w *writer) readTail(name string) (t tailInfo, size int64, first []byte, err error) {
	f, err := w.fs.OpenFile(filepath.Join(w.cfg.Dir, name), os.O_RDONLY, 0)
	if err != nil {
		return t, 0, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return t, 0, nil, err
	}
	size = st.Size()
	if first, err = firstLine(f); err != nil {
		return t, size, nil, err
	}
	for win := w.cfg.tailWindow; ; win *= 2 {
		win = min(win, size)
		off := size - win
		buf := make([]byte, win)
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return t, size, first, err
		}
		if _, err := io.ReadFull(f, buf); err != nil {
			return t, size, first, fmt.Errorf("read %s: %w", name, err)
		}
		t = analyzeTailWindow(buf, off == 0)
		if t.last != nil || off == 0 {
			t.validEnd += off
			return t, size, first, nil
		}
	}
}

// openDir recovers the directory and writes audit_start:
//
//   - empty directory: the first file starts with a genesis anchor;
//   - newest file ends cleanly: the writer appends to it (restart
//     checkpoint), so the chain simply continues;
//   - newest file ends with a rotate checkpoint whose next file is missing
//     (crash during rotation): that file is created with a rotation anchor;
//   - newest file ends with debris (torn last line after a crash): the file
//     is left untouched and a new file starts with a restart anchor that
//     declares the debris (offset, length, SM3) and continues the chain from
//     the last complete record.
func (w *writer) openDir() error {
	dir := w.cfg.Dir
	if err := w.fs.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("audit: create dir: %w", err)
	}
	// Nothing is read or written before the lock is held: a second process
	// would otherwise append restart records to the first one's file.
	lock, err := w.lockDir()
	if err != nil {
		return err
	}
	w.lock = lock
	entries, err := w.fs.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("audit: read dir: %w", err)
	}
	files := listLogFiles(entries)
	now := w.now()
	start := &Event{Type: TypeAuditStart, Time: now, Detail: map[string]string{
		"mode": string(w.cfg.Mode), "pid": strconv.Itoa(pid)}}
	if len(files) == 0 {
		return w.startFile(fileName(now, 1), 1, now, Checkpoint{Reason: ReasonGenesis, Anchor: true}, start)
	}
	newest := files[len(files)-1]
	tail, size, first, err := w.readTail(newest.name)
	if err != nil {
		return fmt.Errorf("audit: read newest file: %w", err)
	}
	if tail.last == nil {
		// Nothing usable in the newest file (crash right after creating it):
		// the head is the last record of an earlier file.
		for i := len(files) - 2; i >= 0 && tail.last == nil; i-- {
			t, _, _, err := w.readTail(files[i].name)
			if err != nil {
				return fmt.Errorf("audit: read %s: %w", files[i].name, err)
			}
			tail.last, tail.lastMAC = t.last, t.lastMAC
		}
	}
	if tail.last != nil {
		w.state = chainState{seq: tail.last.Seq, mac: tail.lastMAC}
	}
	w.synced = w.state
	w.index, w.name = newest.index, newest.name
	shutdown := "unclean"
	if cp := tail.last; cp != nil && cp.Checkpoint != nil && cp.Checkpoint.Reason == ReasonClose {
		shutdown = "clean"
	}
	start.Detail["previous_shutdown"] = shutdown

	switch {
	case len(tail.debris) > 0 || tail.validEnd == 0:
		sum := sm3.Sum(tail.debris)
		d := &Discard{File: newest.name, ValidBytes: tail.validEnd, Bytes: int64(len(tail.debris)),
			SM3: hex.EncodeToString(sum[:]), Cause: tail.debrisCut}
		w.l.logger.Warn("audit: newest file has an incomplete tail; continuing in a new file",
			zap.String("file", newest.name), zap.Int64("valid_bytes", d.ValidBytes), zap.Int64("discarded_bytes", d.Bytes), zap.String("cause", d.Cause))
		rec := &Event{Type: TypeAuditRecover, Time: now, Reason: "incomplete tail after unclean shutdown",
			Detail: map[string]string{"file": d.File, "valid_bytes": strconv.FormatInt(d.ValidBytes, 10),
				"discarded_bytes": strconv.FormatInt(d.Bytes, 10), "cause": d.Cause}}
		next := fileName(now, newest.index+1)
		if cp := tail.last; cp != nil && cp.Checkpoint != nil && cp.Checkpoint.Reason == ReasonRotate && tail.validEnd > 0 {
			if nf, ok := parseFileName(cp.Checkpoint.NextFile); ok && nf.index == newest.index+1 {
				next = nf.name // keep the name the rotate checkpoint promised
			}
		}
		return w.startFile(next, newest.index+1, now,
			Checkpoint{Reason: ReasonRestart, Anchor: true, PrevFile: newest.name, Discard: d}, start, rec)
	case tail.last.Checkpoint != nil && tail.last.Checkpoint.Reason == ReasonRotate:
		next := tail.last.Checkpoint.NextFile
		nf, ok := parseFileName(next)
		if !ok || nf.index != newest.index+1 {
			return fmt.Errorf("audit: %s ends with a rotate checkpoint naming %q, which is not the next file name", newest.name, next)
		}
		return w.startFile(next, nf.index, now, Checkpoint{Reason: ReasonRotation, Anchor: true, PrevFile: newest.name}, start)
	}
	f, err := w.fs.OpenFile(filepath.Join(dir, newest.name), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("audit: reopen %s: %w", newest.name, err)
	}
	w.file, w.created, w.size, w.syncedSize = f, newest.created, size, size
	if line, _, ok := bytes.Cut(first, []byte{'\n'}); ok {
		if first, err := ParseRecord(line); err == nil {
			w.firstSeq = first.Seq
		}
	}
	w.buf, w.lines = w.buf[:0], w.lines[:0]
	err = w.frameCheckpoint(now, Checkpoint{Reason: ReasonRestart})
	w.frameOwn(start)
	if err == nil {
		err = w.writeBuf()
	}
	if err == nil {
		err = w.syncFile()
	}
	if err != nil {
		w.closeFile()
		return err
	}
	return nil
}
