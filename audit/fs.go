package audit

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// FS is the file system seam of the writer. The default is OSFS; tests wrap
// it to inject ENOSPC and EIO. Implementations must be safe for use by one
// goroutine at a time (the writer); Verify and Reader use the OS directly.
type FS interface {
	// OpenFile is os.OpenFile.
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	// ReadDir is os.ReadDir.
	ReadDir(dir string) ([]os.DirEntry, error)
	// Remove is os.Remove.
	Remove(name string) error
	// MkdirAll is os.MkdirAll.
	MkdirAll(dir string, perm os.FileMode) error
	// SyncDir fsyncs a directory so that created and removed names are durable.
	SyncDir(dir string) error
	// Stat is os.Stat.
	Stat(name string) (os.FileInfo, error)
	// Lock opens name for reading and writing (creating it 0600) and takes
	// an exclusive lock on it without waiting; closing the File releases
	// the lock. If another open file holds the lock, the error wraps
	// ErrDirInUse.
	Lock(name string) (File, error)
}

// File is the subset of *os.File the writer uses. The writer closes every
// File it opens.
type File interface {
	io.Reader
	io.Writer
	io.Seeker
	Sync() error
	Close() error
	Stat() (os.FileInfo, error)
	Truncate(size int64) error
}

// OSFS is the operating system's file system.
type OSFS struct{}

var _ FS = OSFS{}

// OpenFile implements FS.
func (OSFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	return os.OpenFile(name, flag, perm)
}

// ReadDir implements FS.
func (OSFS) ReadDir(dir string) ([]os.DirEntry, error) { return os.ReadDir(dir) }

// Remove implements FS.
func (OSFS) Remove(name string) error { return os.Remove(name) }

// MkdirAll implements FS.
func (OSFS) MkdirAll(dir string, perm os.FileMode) error { return os.MkdirAll(dir, perm) }

// SyncDir implements FS.
func (OSFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return serr
	}
	return cerr
}

// Stat implements FS.
func (OSFS) Stat(name string) (os.FileInfo, error) { return os.Stat(name) }

// Lock implements FS with flock(2), which the kernel drops when the process
// dies, so a crash leaves no stale lock behind.
func (OSFS) Lock(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			err = ErrDirInUse
		}
		return nil, &os.PathError{Op: "flock", Path: name, Err: err}
	}
	return f, nil
}
