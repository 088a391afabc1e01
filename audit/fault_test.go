package audit

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// faultFS injects errors into the writer's file system.
type faultFS struct {
	OSFS
	mu        sync.Mutex
	writeErr  error         // returned by Write
	partial   bool          // Write writes half the buffer before failing
	syncErr   error         // returned by Sync
	createErr error         // returned by OpenFile with O_CREATE
	block     chan struct{} // when set, Write waits for it to be closed
	blocked   chan struct{} // receives a value when a Write starts waiting
}

func (f *faultFS) set(fn func(f *faultFS)) {
	f.mu.Lock()
	fn(f)
	f.mu.Unlock()
}

func (f *faultFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f.mu.Lock()
	err := f.createErr
	f.mu.Unlock()
	if err != nil && flag&os.O_CREATE != 0 {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	file, err := f.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f}, nil
}

type faultFile struct {
	File
	fs *faultFS
}

func (f *faultFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	err, partial, block := f.fs.writeErr, f.fs.partial, f.fs.block
	f.fs.mu.Unlock()
	if block != nil {
		if f.fs.blocked != nil {
			f.fs.blocked <- struct{}{}
		}
		<-block
	}
	if err == nil {
		return f.File.Write(p)
	}
	if partial {
		n, _ := f.File.Write(p[:len(p)/2])
		return n, err
	}
	return 0, err
}

func (f *faultFile) Sync() error {
	f.fs.mu.Lock()
	err := f.fs.syncErr
	f.fs.mu.Unlock()
	if err != nil {
		return err
	}
	return f.File.Sync()
}

// readAll returns every record of dir in order.
func readAll(t *testing.T, dir string) []*Record {
	t.Helper()
	r, err := NewReader(dir, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []*Record
	for {
		rec, _, err := r.Next(context.Background())
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		out = append(out, rec)
	}
}

func countType(recs []*Record, typ EventType) int {
	n := 0
	for _, r := range recs {
		if r.Type == typ {
			n++
		}
	}
	return n
}

// TestStrictWriteFaults forces disk errors in strict mode: Record must fail,
// health must degrade, and both must recover when the fault clears, with a
// log that still verifies.
func TestStrictWriteFaults(t *testing.T) {
	tests := []struct {
		desc  string
		fault func(f *faultFS)
	}{
		{desc: "ENOSPC on write", fault: func(f *faultFS) { f.writeErr = syscall.ENOSPC }},
		{desc: "ENOSPC after a partial write", fault: func(f *faultFS) { f.writeErr, f.partial = syscall.ENOSPC, true }},
		{desc: "EIO on fsync", fault: func(f *faultFS) { f.syncErr = syscall.EIO }},
		{desc: "EIO on fsync and ENOSPC creating files", fault: func(f *faultFS) { f.syncErr, f.createErr = syscall.EIO, syscall.ENOSPC }},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			dir := t.TempDir()
			ffs := &faultFS{}
			cfg := testConfig(t, dir)
			cfg.FS = ffs
			l := openTestLog(t, cfg)
			writeN(t, l, 0, 5)
			ffs.set(tc.fault)
			for i := 5; i < 8; i++ {
				err := l.Record(statementEvent(i))
				if err == nil {
					t.Fatalf("Record %d succeeded on a failing disk", i)
				}
				if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EIO) {
					t.Fatalf("Record error %v does not wrap the disk error", err)
				}
			}
			if h := l.Health(); h.OK || h.Status != "degraded" || h.LastError == "" {
				t.Fatalf("health %+v, want degraded", h)
			}
			if s := l.Stats(); s.WriteErrors == 0 {
				t.Fatalf("write errors not counted: %+v", s)
			}
			ffs.set(func(f *faultFS) { f.writeErr, f.partial, f.syncErr, f.createErr, f.block = nil, false, nil, nil, nil })
			writeN(t, l, 8, 5)
			if h := l.Health(); !h.OK {
				t.Fatalf("health %+v after the fault cleared", h)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			mustVerify(t, dir)
			recs := readAllSkippingDebris(t, dir)
			got := map[uint64]bool{}
			for _, r := range recs {
				if r.Type == TypeStatement {
					got[r.StatementID] = true
				}
			}
			for _, i := range []uint64{1, 2, 3, 4, 8, 9, 10, 11, 12} {
				if !got[i] {
					t.Errorf("acknowledged statement %d missing", i)
				}
			}
			if countType(recs, TypeAuditRecover) != 1 {
				t.Errorf("want one audit_recover record, got %d", countType(recs, TypeAuditRecover))
			}
		})
	}
}

// readAllSkippingDebris reads records, ignoring lines that are declared debris.
func readAllSkippingDebris(t *testing.T, dir string) []*Record {
	t.Helper()
	r, err := NewReader(dir, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []*Record
	for {
		rec, _, err := r.Next(context.Background())
		if err == io.EOF {
			return out
		}
		if err == nil {
			out = append(out, rec)
		}
	}
}

// TestBufferedOverflowIsSummarized fills the queue while the writer is stuck
// and checks that drops are returned, counted and written as a summary.
func TestBufferedOverflowIsSummarized(t *testing.T) {
	dir := t.TempDir()
	ffs := &faultFS{}
	cfg := testConfig(t, dir)
	cfg.Mode, cfg.QueueSize, cfg.FS = ModeBuffered, 4, ffs
	l := openTestLog(t, cfg)
	block, blocked := make(chan struct{}), make(chan struct{}, 1)
	ffs.set(func(f *faultFS) { f.block, f.blocked = block, blocked })
	if err := l.Record(statementEvent(0)); err != nil { // the writer takes it and blocks
		t.Fatal(err)
	}
	<-blocked
	dropped := 0
	for i := 1; i <= 20; i++ {
		if err := l.Record(statementEvent(i)); errors.Is(err, ErrDropped) {
			dropped++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if dropped != 16 {
		t.Fatalf("dropped %d, want 16 (queue of 4)", dropped)
	}
	ffs.set(func(f *faultFS) { f.block = nil })
	close(block)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s.DroppedQueue != 16 {
		t.Fatalf("Stats.DroppedQueue = %d", s.DroppedQueue)
	}
	mustVerify(t, dir)
	var summary *Record
	for _, r := range readAll(t, dir) {
		if r.Type == TypeAuditDropped {
			summary = r
		}
	}
	if summary == nil || summary.Detail["queue_full"] != "16" {
		t.Fatalf("summary record %+v", summary)
	}
}

// TestBufferedWriteFailureCountsDrops: records lost to a failing disk in
// buffered mode are counted and summarized once the disk is back.
func TestBufferedWriteFailureCountsDrops(t *testing.T) {
	dir := t.TempDir()
	ffs := &faultFS{}
	cfg := testConfig(t, dir)
	cfg.Mode, cfg.FS = ModeBuffered, ffs
	l := openTestLog(t, cfg)
	ffs.set(func(f *faultFS) { f.writeErr, f.createErr = syscall.ENOSPC, syscall.ENOSPC })
	for i := range 10 {
		if err := l.Record(statementEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "10 records dropped", func() bool { return l.Stats().DroppedWrite >= 10 })
	if l.Health().OK {
		t.Fatal("health ok on a failing disk")
	}
	ffs.set(func(f *faultFS) { f.writeErr, f.partial, f.syncErr, f.createErr, f.block = nil, false, nil, nil, nil })
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, dir)
	recs := readAllSkippingDebris(t, dir)
	var summary *Record
	for _, r := range recs {
		if r.Type == TypeAuditDropped {
			summary = r
		}
	}
	if summary == nil || summary.Detail["write_error"] != "10" {
		t.Fatalf("summary %+v", summary)
	}
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
