package audit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"
)

// ReadOptions configure a Reader.
type ReadOptions struct {
	// Filter selects records; checkpoints pass unless Filter.Type excludes them.
	Filter Filter
	// Since skips records whose time is before it (zero: from the start).
	Since time.Time
	// Follow makes Next wait for new records at the end of the log, across
	// rotations, instead of returning io.EOF.
	Follow bool
	// AfterSeq skips records with seq <= AfterSeq; whole files before it are
	// skipped by reading only their successor's anchor.
	AfterSeq uint64
	// LastFiles, when > 0, starts at the LastFiles-th newest file instead of
	// the oldest (tail reads only the end of a long log).
	LastFiles int
	// PollInterval is how often a following Reader looks for growth.
	// Default 200ms.
	PollInterval time.Duration
}

// LineError is returned by Reader.Next for a line that is not a record; the
// Reader continues after it on the next call.
type LineError struct {
	File string // file name
	Line int    // 1-based line number
	Err  error  // why the line is not a record
}

// Error implements error.
func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap returns Err.
func (e *LineError) Unwrap() error { return e.Err }

// sinceMargin keeps files that started this long before Since: a record's
// time is the event's, which may precede the write by a little.
const sinceMargin = time.Hour

// Reader iterates the records of an audit directory in order, across files.
// It does not verify MACs (use Verify). Not safe for concurrent use; Close
// releases the open file.
type Reader struct {
	dir  string
	opts ReadOptions

	cur     logFile
	started bool
	f       *os.File
	br      *bufio.Reader
	lineNo  int
	partial []byte
}

// NewReader returns a Reader positioned at the first file that may hold
// records at or after opts.Since.
func NewReader(dir string, opts ReadOptions) (*Reader, error) {
	if opts.PollInterval <= 0 {
		opts.PollInterval = 200 * time.Millisecond
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return &Reader{dir: dir, opts: opts}, nil
}

// SetFollow switches follow mode, e.g. after printing a backlog.
func (r *Reader) SetFollow(follow bool) { r.opts.Follow = follow }

// Close releases the current file.
func (r *Reader) Close() error {
	if r.f != nil {
		err := r.f.Close()
		r.f = nil
		return err
	}
	return nil
}

func (r *Reader) listFiles() ([]logFile, error) {
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return listLogFiles(entries), nil
}

// nextFile returns the first file after the current one (or the starting
// file), ok=false when there is none yet.
func (r *Reader) nextFile() (logFile, bool, error) {
	files, err := r.listFiles()
	if err != nil {
		return logFile{}, false, err
	}
	if !r.started {
		if len(files) == 0 {
			return logFile{}, false, nil
		}
		start := 0
		if r.opts.LastFiles > 0 {
			start = max(len(files)-r.opts.LastFiles, 0)
		}
		// Skip files entirely before Since: their successor started earlier.
		for !r.opts.Since.IsZero() && start+1 < len(files) && files[start+1].created.Before(r.opts.Since.Add(-sinceMargin)) {
			start++
		}
		// Skip files entirely at or before AfterSeq: their successor's anchor
		// continues from a seq no later than it.
		for r.opts.AfterSeq > 0 && start+1 < len(files) && r.anchorHead(files[start+1].name) <= r.opts.AfterSeq {
			start++
		}
		return files[start], true, nil
	}
	for _, f := range files {
		if f.index > r.cur.index {
			return f, true, nil
		}
	}
	return logFile{}, false, nil
}

// anchorHead returns the head_seq of a file's anchor, or the largest seq if
// it is unreadable, so that the file before it is read rather than skipped.
func (r *Reader) anchorHead(name string) uint64 {
	line, err := readFirstLine(filepath.Join(r.dir, name))
	if err != nil {
		return math.MaxUint64
	}
	rec, err := ParseRecord(line)
	if err != nil || rec.Checkpoint == nil || !rec.Checkpoint.Anchor {
		return math.MaxUint64
	}
	return rec.Checkpoint.HeadSeq
}

// ListFiles returns the names of the audit files in dir, oldest first.
func ListFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	var names []string
	for _, f := range listLogFiles(entries) {
		names = append(names, f.name)
	}
	return names, nil
}

func (r *Reader) open(f logFile) error {
	r.Close()
	fd, err := os.Open(filepath.Join(r.dir, f.name))
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	r.f, r.br, r.cur, r.started, r.lineNo, r.partial = fd, bufio.NewReaderSize(fd, 64<<10), f, true, 0, r.partial[:0]
	return nil
}

// Next returns the next record that passes the filter and its line (without
// the newline; valid until the next call). At the end of the log it returns
// io.EOF, or in follow mode waits until a record arrives or ctx is done.
// A line that is not a record, or the torn last line of a file that has a
// successor, yields a *LineError; call Next again to go on. An incomplete
// last line of the newest file is taken for a write in progress: it is not
// returned until completed.
func (r *Reader) Next(ctx context.Context) (*Record, []byte, error) {
	for {
		if r.f == nil {
			f, ok, err := r.nextFile()
			if err != nil {
				return nil, nil, err
			}
			if !ok {
				if err := r.wait(ctx); err != nil {
					return nil, nil, err
				}
				continue
			}
			if err := r.open(f); err != nil {
				return nil, nil, err
			}
		}
		chunk, err := r.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			r.partial = append(r.partial, chunk...)
			continue
		}
		if err == nil {
			line := chunk
			if len(r.partial) > 0 {
				r.partial = append(r.partial, chunk...)
				line = r.partial
			}
			r.lineNo++
			rec, perr := ParseRecord(line)
			line = line[:len(line)-1]
			r.partial = r.partial[:0]
			if perr != nil {
				return nil, line, &LineError{File: r.cur.name, Line: r.lineNo, Err: perr}
			}
			if rec.Seq <= r.opts.AfterSeq || !r.opts.Filter.Match(rec) || (!r.opts.Since.IsZero() && rec.Time.Before(r.opts.Since)) {
				continue
			}
			return rec, line, nil
		}
		if err != io.EOF {
			return nil, nil, fmt.Errorf("audit: read %s: %w", r.cur.name, err)
		}
		r.partial = append(r.partial, chunk...)
		// End of the current file: move on if a newer file exists. Files are
		// complete once their successor exists, except for a torn tail.
		next, ok, lerr := r.nextFile()
		if lerr != nil {
			return nil, nil, lerr
		}
		if ok {
			if more, _ := r.br.Peek(1); len(more) > 0 {
				continue // written just before the rotation
			}
			torn := len(r.partial) > 0
			name, lineNo, n := r.cur.name, r.lineNo+1, len(r.partial)
			if err := r.open(next); err != nil {
				return nil, nil, err
			}
			if torn {
				return nil, nil, &LineError{File: name, Line: lineNo, Err: fmt.Errorf("incomplete last line (%d bytes)", n)}
			}
			continue
		}
		if !r.opts.Follow {
			// An incomplete last line of the newest file may be a write in
			// progress: keep it for a later call (or SetFollow) to complete.
			return nil, nil, io.EOF
		}
		if err := r.wait(ctx); err != nil {
			return nil, nil, err
		}
	}
}

func (r *Reader) wait(ctx context.Context) error {
	if !r.opts.Follow {
		return io.EOF
	}
	t := time.NewTimer(r.opts.PollInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
