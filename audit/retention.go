package audit

import (
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.uber.org/zap"
)

// applyRetention deletes the oldest files whose successor was created more
// than Retention ago (a file's last record is no later than its successor's
// creation). It first writes and fsyncs a retention_delete record naming the
// files and the last seq they held, so Verify can tell retention from
// deletion; the oldest remaining file starts with an anchor, so the chain
// still verifies. The current file is never deleted.
func (w *writer) applyRetention(now time.Time) {
	entries, err := w.fs.ReadDir(w.cfg.Dir)
	if err != nil {
		w.l.logger.Error("audit: retention: read dir", zap.Error(err))
		return
	}
	files := listLogFiles(entries)
	var doomed []logFile
	for i := 0; i+1 < len(files) && files[i].name != w.name; i++ {
		if now.Sub(files[i+1].created) <= w.cfg.Retention {
			break
		}
		doomed = append(doomed, files[i])
	}
	if len(doomed) == 0 {
		return
	}
	last := doomed[len(doomed)-1]
	// The successor's anchor holds the last seq of the last doomed file.
	succ := files[len(doomed)]
	firstLine, err := w.readFirstLine(succ.name)
	if err != nil {
		w.l.logger.Error("audit: retention: read successor", zap.String("file", succ.name), zap.Error(err))
		return
	}
	anchor, err := ParseRecord(firstLine)
	if err != nil || anchor.Checkpoint == nil || !anchor.Checkpoint.Anchor || anchor.Checkpoint.PrevFile != last.name {
		w.l.logger.Error("audit: retention: successor does not start with an anchor to the last expired file; keeping files",
			zap.String("file", succ.name))
		return
	}
	names := make([]string, len(doomed))
	for i, f := range doomed {
		names[i] = f.name
	}
	w.buf, w.lines = w.buf[:0], w.lines[:0]
	w.frameOwn(&Event{Type: TypeRetentionDelete, Time: now, Reason: "retention period expired",
		Objects: names, Detail: map[string]string{
			"through_file": last.name,
			"through_seq":  strconv.FormatUint(anchor.Checkpoint.HeadSeq, 10),
			"retention":    w.cfg.Retention.String(),
		}})
	err = w.writeBuf()
	if err == nil {
		err = w.syncFile()
	}
	if err != nil {
		w.fail(err, nil)
		return
	}
	w.publish()
	for _, f := range doomed {
		if err := w.fs.Remove(filepath.Join(w.cfg.Dir, f.name)); err != nil {
			w.l.logger.Error("audit: retention: remove", zap.String("file", f.name), zap.Error(err))
		}
	}
	if err := w.fs.SyncDir(w.cfg.Dir); err != nil {
		w.l.logger.Warn("audit: retention: fsync dir", zap.Error(err))
	}
}

// readFirstLine returns the first line of a file through the writer's FS
// (see firstLine).
func (w *writer) readFirstLine(name string) ([]byte, error) {
	f, err := w.fs.OpenFile(filepath.Join(w.cfg.Dir, name), os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return firstLine(f)
}
