// Package diskspace reads a file system's free space and keeps a reserve
// file: bytes held back so that the catalog can still write (a delete is a
// write to SQLite's log) when something has filled the disk.
package diskspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// Free returns the bytes an unprivileged process may still write on the
// file system holding path.
func Free(path string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", path, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// Reserve is a file of Size bytes whose only use is to be deleted when a
// write fails for want of space, so that the write can be tried again.
// It is made again as soon as the file system has its size and a quarter
// more free: early, so that the next time the disk fills deleting works
// again, yet never taking the last bytes a freed disk has to offer.
type Reserve struct {
	path string
	size int64
	free func(dir string) (int64, error) // Free, or a fake in tests

	mu sync.Mutex
}

// NewReserve returns the reserve kept at path; it does not create it.
func NewReserve(path string, size int64) *Reserve {
	return &Reserve{path: path, size: size, free: Free}
}

// Path is where the reserve file lives.
func (r *Reserve) Path() string { return r.path }

// Release deletes the reserve file, giving its bytes back to the file
// system. A reserve already gone (released by this process or another
// one) is not an error.
func (r *Reserve) Release() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := os.Remove(r.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("release disk reserve: %w", err)
	}
	return nil
}

// Restore makes the reserve file if it is missing and the file system has
// room for it and a quarter more. While the file is there it costs a stat.
func (r *Reserve) Restore() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := os.Stat(r.path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("disk reserve: %w", err)
	}
	free, err := r.free(filepath.Dir(r.path))
	if err != nil {
		return err
	}
	if free < r.size+r.size/4 {
		return nil
	}
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil // another process made it meanwhile
	}
	if err != nil {
		return fmt.Errorf("make disk reserve: %w", err)
	}
	err = allocate(f, r.size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// A short reserve would promise bytes it does not hold.
		os.Remove(r.path)
		return fmt.Errorf("make disk reserve: %w", err)
	}
	return nil
}
