package audit

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// lockName is the lock file of a log directory. Two writers on one
// directory would append to the same file with the same seqs and break the
// chain for good, so Open takes the lock before it writes anything.
const lockName = "audit.lock"

// ErrDirInUse is wrapped by the error Open returns when another process
// (normally another dbfence) holds the lock of the audit directory.
var ErrDirInUse = errors.New("audit directory is in use by another process")

// dirInUseError names the directory and the lock holder.
type dirInUseError struct {
	dir string
	pid int // 0 if unknown
}

func (e *dirInUseError) Error() string {
	holder := "pid unknown"
	if e.pid > 0 {
		holder = "pid " + strconv.Itoa(e.pid)
	}
	return fmt.Sprintf("audit directory %s is in use by another dbfence process (%s)", e.dir, holder)
}

func (e *dirInUseError) Is(target error) bool { return target == ErrDirInUse }

// lockDir takes the directory's lock and writes this process's pid into
// the lock file, for the error the next contender gets.
func (w *writer) lockDir() (File, error) {
	path := filepath.Join(w.cfg.Dir, lockName)
	f, err := w.fs.Lock(path)
	if errors.Is(err, ErrDirInUse) {
		return nil, &dirInUseError{dir: w.cfg.Dir, pid: w.lockHolder(path)}
	}
	if err != nil {
		return nil, fmt.Errorf("audit: lock %s: %w", w.cfg.Dir, err)
	}
	// Truncate only now: before the lock is ours the pid is the holder's.
	err = f.Truncate(0)
	if err == nil {
		_, err = f.Write([]byte(strconv.Itoa(pid) + "\n"))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: write %s: %w", path, err)
	}
	return f, nil
}

// lockHolder reads the pid the holder wrote, 0 if there is none yet.
func (w *writer) lockHolder(path string) int {
	f, err := w.fs.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return 0
	}
	defer f.Close()
	line, _ := bufio.NewReaderSize(f, 64).ReadString('\n')
	n, _ := strconv.Atoi(strings.TrimSpace(line))
	return n
}

// relock takes the lock again when the held lock file is no longer the one
// in the directory (the directory was removed and recreated): otherwise a
// second process could lock the new directory while this one writes to it.
func (w *writer) relock() error {
	if w.lock != nil {
		held, herr := w.lock.Stat()
		cur, cerr := w.fs.Stat(filepath.Join(w.cfg.Dir, lockName))
		if herr == nil && cerr == nil && os.SameFile(held, cur) {
			return nil
		}
	}
	f, err := w.lockDir()
	if err != nil {
		return err
	}
	w.unlockDir()
	w.lock = f
	return nil
}

// unlockDir releases the lock. The lock file stays: removing it would let
// a contender lock a new file while another one still holds the old.
func (w *writer) unlockDir() {
	if w.lock == nil {
		return
	}
	if err := w.lock.Close(); err != nil {
		w.l.logger.Warn("audit: close lock file", zap.Error(err))
	}
	w.lock = nil
}
