package audit

import (
	"io"
	"os"
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
