// Package disk is the embedded files.Blobs store: contents as files in
// the data directory.
package disk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/diskspace"
)

// Store keeps contents as files under a directory: committed blobs in
// blobs/XX/KEY, uploads in progress in tmp/. Both live on one file system,
// so a commit is a rename.
type Store struct {
	dir string
}

var _ files.Blobs = (*Store)(nil)

// New returns a store rooted at dir, creating its folders.
func New(dir string) (*Store, error) {
	for _, d := range []string{filepath.Join(dir, "blobs"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("blob store: %w", err)
		}
	}
	return &Store{dir: dir}, nil
}

// FreeSpace returns the bytes free on the file system of the store.
func (b *Store) FreeSpace(ctx context.Context) (int64, error) {
	return diskspace.Free(b.dir)
}

// TempDir is where uploads in progress live.
func (b *Store) TempDir() string { return filepath.Join(b.dir, "tmp") }

// validBlobKey reports whether key has the form the disk store gives keys.
func validBlobKey(key string) bool {
	return len(key) == 32 && strings.Trim(key, "0123456789abcdef") == ""
}

// Path is where the committed blob key lives, for tests and tools.
func (b *Store) Path(key string) (string, error) {
	if !validBlobKey(key) {
		return "", fmt.Errorf("blob key %q: malformed", key)
	}
	return filepath.Join(b.dir, "blobs", key[:2], key), nil
}

// Create starts a new blob in the temporary folder.
func (b *Store) Create(ctx context.Context) (files.BlobWriter, error) {
	f, err := os.CreateTemp(b.TempDir(), "upload-*")
	if err != nil {
		return nil, mapDiskError(fmt.Errorf("create upload: %w", err))
	}
	return &diskWriter{store: b, f: f}, nil
}

// Open opens a committed blob. An open blob stays readable whole even if it
// is replaced or removed meanwhile: the file system keeps it for us.
func (b *Store) Open(ctx context.Context, key string) (files.BlobReader, error) {
	p, err := b.Path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", key, err)
	}
	return f, nil
}

// Remove deletes a committed blob; a missing one is not an error.
func (b *Store) Remove(ctx context.Context, key string) error {
	p, err := b.Path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove blob %s: %w", key, err)
	}
	return nil
}

// Keys walks every committed blob.
func (b *Store) Keys(ctx context.Context, fn func(string) error) error {
	root := filepath.Join(b.dir, "blobs")
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// A stray file that is no key of ours is left alone, not fatal.
		if d.IsDir() || !validBlobKey(d.Name()) {
			return nil
		}
		return fn(d.Name())
	})
}

// CleanTemp removes uploads that never committed.
func (b *Store) CleanTemp(ctx context.Context) error {
	entries, err := os.ReadDir(b.TempDir())
	if err != nil {
		return fmt.Errorf("clean uploads: %w", err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(b.TempDir(), e.Name())); err != nil {
			return fmt.Errorf("clean uploads: %w", err)
		}
	}
	return nil
}

type diskWriter struct {
	store *Store
	f     *os.File
	done  bool
	// buf gathers small writes that follow each other (SFTP sends 32 KiB
	// at a time) into one system call per writeBufSize: a call costs
	// enough on a virtual machine to show in a profile. It holds the
	// bytes at bufOff, and is taken from writeBufs only while in use.
	buf     *[]byte
	bufOff  int64
	lastEnd int64 // where the last write ended
	fileEnd int64 // the file's own length, gathered bytes aside
}

const writeBufSize = 256 << 10

var writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, writeBufSize); return &b }}

func (w *diskWriter) Write(p []byte) (int, error) {
	if err := w.flush(); err != nil {
		return 0, err
	}
	n, err := w.f.Write(p)
	if pos, serr := w.f.Seek(0, io.SeekCurrent); serr == nil {
		w.fileEnd = max(w.fileEnd, pos)
	}
	return n, mapDiskError(err)
}

func (w *diskWriter) WriteAt(p []byte, off int64) (int, error) {
	end := off + int64(len(p))
	if w.buf != nil {
		b := *w.buf
		if off == w.bufOff+int64(len(b)) && len(b)+len(p) <= cap(b) {
			*w.buf = append(b, p...)
			w.lastEnd = end
			return len(p), nil
		}
		if err := w.flush(); err != nil {
			return 0, err
		}
	}
	// A small write right after the previous one: a stream, worth
	// gathering. A lone small write (a small file) is written at once.
	if off == w.lastEnd && off > 0 && len(p) < writeBufSize/2 {
		w.buf, w.bufOff = writeBufs.Get().(*[]byte), off
		*w.buf = append((*w.buf)[:0], p...)
		w.lastEnd = end
		return len(p), nil
	}
	n, err := w.f.WriteAt(p, off)
	w.lastEnd = off + int64(n)
	w.fileEnd = max(w.fileEnd, w.lastEnd)
	return n, mapDiskError(err)
}

// flush writes out the gathered bytes and gives the buffer back. An error
// here fails the call that flushed, so the upload never commits.
func (w *diskWriter) flush() error {
	if w.buf == nil {
		return nil
	}
	n, err := w.f.WriteAt(*w.buf, w.bufOff)
	w.fileEnd = max(w.fileEnd, w.bufOff+int64(n))
	w.release()
	return mapDiskError(err)
}

func (w *diskWriter) release() {
	if w.buf != nil {
		writeBufs.Put(w.buf)
		w.buf = nil
	}
}

// ReadAt reads what was written, gathered or not. Reading back does not
// flush: Upload reads back bytes it hashes late, just written.
func (w *diskWriter) ReadAt(p []byte, off int64) (int, error) {
	if w.buf != nil {
		b := *w.buf
		bufEnd, end := w.bufOff+int64(len(b)), off+int64(len(p))
		switch {
		case off >= w.bufOff && end <= bufEnd:
			return copy(p, b[off-w.bufOff:]), nil
		case end > w.bufOff && off < bufEnd, end > w.fileEnd: // partly gathered, or in a hole before them
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return w.f.ReadAt(p, off)
}

func (w *diskWriter) Truncate(size int64) error {
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.f.Truncate(size); err != nil {
		return mapDiskError(err)
	}
	w.fileEnd = size
	return nil
}

func (w *diskWriter) Commit(ctx context.Context) (string, error) {
	if w.done {
		return "", files.ErrClosed
	}
	w.done = true
	fail := func(err error) (string, error) {
		w.f.Close()
		os.Remove(w.f.Name())
		return "", mapDiskError(fmt.Errorf("commit upload: %w", err))
	}
	if err := w.flush(); err != nil {
		return fail(err)
	}
	if err := w.f.Sync(); err != nil {
		return fail(err)
	}
	if err := w.f.Close(); err != nil {
		return fail(err)
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return fail(err)
	}
	key := hex.EncodeToString(raw[:])
	final, _ := w.store.Path(key)
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(err)
	}
	if err := os.Rename(w.f.Name(), final); err != nil {
		return fail(err)
	}
	if err := syncDir(dir); err != nil {
		os.Remove(final)
		return "", mapDiskError(fmt.Errorf("commit upload: %w", err))
	}
	return key, nil
}

func (w *diskWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.release()
	w.f.Close()
	if err := os.Remove(w.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("abort upload: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// mapDiskError turns "no space" and "quota" errors of the file system into
// ErrNoSpace, keeping the detail for the log.
func mapDiskError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w (%v)", files.ErrNoSpace, err)
	}
	return err
}
