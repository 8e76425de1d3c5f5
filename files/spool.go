package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// spool is where uploads are written before they are stored: a local
// folder of this server's (DATA/tmp), so that SFTP's writes at any offset,
// truncations and KeepOld need no random access from the blob store, which
// only stores finished streams. Files here are named spoolPrefix*: cleaning
// up touches nothing else.
type spool struct {
	dir string
	// shared: dir is the system's temporary folder, which is not ours to
	// clean.
	shared bool
	// sync, if set, replaces syncData (tests check the order of commits).
	sync func(*os.File) error
}

const spoolPrefix = "upload-"

// create starts a spool file for content bound for blobs; ctx bounds the
// streaming to a Streamer store.
func (s spool) create(ctx context.Context, blobs Blobs) (*spoolFile, error) {
	f, err := os.CreateTemp(s.dir, spoolPrefix+"*")
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(s.dir, 0o700); err == nil {
			f, err = os.CreateTemp(s.dir, spoolPrefix+"*")
		}
	}
	if err != nil {
		return nil, MapNoSpace(fmt.Errorf("create upload: %w", err))
	}
	w := &spoolFile{f: f, sync: s.syncFile()}
	if st, ok := blobs.(Streamer); ok {
		w.stream = &stream{to: st, ctx: context.WithoutCancel(ctx)}
	}
	if _, ok := blobs.(Adopter); !ok {
		// The content leaves this disk for the store and the spool file
		// is deleted: nothing syncs it, so writing it back early is
		// disk work for nothing.
		w.behind.off = true
	}
	return w, nil
}

func (s spool) syncFile() func(*os.File) error {
	if s.sync != nil {
		return s.sync
	}
	return syncData
}

// clean removes the spool files a crash left, at start-up: this server's
// own, since the spool is not shared.
func (s spool) clean(ctx context.Context) error {
	if s.shared {
		return nil
	}
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("clean uploads: %w", err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), spoolPrefix) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(s.dir, e.Name())); err != nil {
			return fmt.Errorf("clean uploads: %w", err)
		}
	}
	return nil
}

// spoolFile is one upload's content being written, at any offset.
type spoolFile struct {
	f    *os.File
	done bool
	// buf gathers small writes that follow each other (SFTP sends 32 KiB
	// at a time) into one system call per writeBufSize: a call costs
	// enough on a virtual machine to show in a profile. It holds the
	// bytes at bufOff, and is taken from writeBufs only while in use.
	buf     *[]byte
	bufOff  int64
	lastEnd int64 // where the last write ended
	fileEnd int64 // the file's own length, gathered bytes aside
	behind  writeBehind
	// sync makes the content durable before the blob store takes it:
	// syncData, or a test's recorder.
	sync func(*os.File) error
	// stream, with a Streamer store, sends the content while it arrives
	// (spool_stream.go).
	stream *stream
}

const writeBufSize = 256 << 10

var writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, writeBufSize); return &b }}

func (w *spoolFile) WriteAt(p []byte, off int64) (int, error) {
	end := off + int64(len(p))
	w.changing(off)
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
	if n > 0 { // an empty write does not lengthen a file
		w.fileEnd = max(w.fileEnd, w.lastEnd)
		w.behind.wrote(w.f, off, w.lastEnd)
	}
	return n, MapNoSpace(err)
}

// flush writes out the gathered bytes and gives the buffer back. An error
// here fails the call that flushed, so the upload never commits.
func (w *spoolFile) flush() error {
	if w.buf == nil {
		return nil
	}
	n, err := w.f.WriteAt(*w.buf, w.bufOff)
	if n > 0 {
		w.fileEnd = max(w.fileEnd, w.bufOff+int64(n))
		w.behind.wrote(w.f, w.bufOff, w.bufOff+int64(n))
	}
	w.release()
	return MapNoSpace(err)
}

func (w *spoolFile) release() {
	if w.buf != nil {
		writeBufs.Put(w.buf)
		w.buf = nil
	}
}

// ReadAt reads what was written, gathered or not. Reading back does not
// flush: Upload reads back bytes it hashes late, just written.
func (w *spoolFile) ReadAt(p []byte, off int64) (int, error) {
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

func (w *spoolFile) Truncate(size int64) error {
	w.changing(size)
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.f.Truncate(size); err != nil {
		return MapNoSpace(err)
	}
	w.fileEnd = size
	return nil
}

// store hands the finished content, size bytes, to blobs and returns its
// key; the spool file is gone either way. A store on the spool's file
// system adopts the file by rename, durably (content synced here, its
// folder by the store): no byte is copied. Any other store is given the
// content as a stream.
func (w *spoolFile) store(ctx context.Context, blobs Blobs, size int64) (string, error) {
	if w.done {
		return "", ErrClosed
	}
	w.done = true
	defer w.remove()
	if err := w.flush(); err != nil {
		w.stopStream()
		return "", fmt.Errorf("commit upload: %w", err)
	}
	if key, ok, err := w.finishStream(ctx, size); ok {
		return key, err
	}
	if a, ok := blobs.(Adopter); ok {
		w.behind.wait()
		if err := w.sync(w.f); err != nil {
			return "", MapNoSpace(fmt.Errorf("commit upload: %w", err))
		}
		if err := w.f.Close(); err != nil {
			return "", MapNoSpace(fmt.Errorf("commit upload: %w", err))
		}
		key, err := a.Adopt(ctx, w.f.Name())
		if !errors.Is(err, ErrNotAdopted) {
			return key, err
		}
		f, oerr := os.Open(w.f.Name())
		if oerr != nil {
			return "", fmt.Errorf("commit upload: %w (%v)", oerr, err)
		}
		w.f = f
	}
	return blobs.Put(ctx, io.NewSectionReader(w.f, 0, size), size)
}

// Abort discards the content.
func (w *spoolFile) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.stopStream()
	return w.remove()
}

// remove closes and deletes the spool file, if still there.
func (w *spoolFile) remove() error {
	w.release()
	w.behind.wait()
	w.f.Close()
	if err := os.Remove(w.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("abort upload: %w", err)
	}
	return nil
}

// MapNoSpace turns "no space" and "quota" errors of the file system into
// ErrNoSpace, keeping the detail for the log: for the spool here, and for
// stores on a local disk.
func MapNoSpace(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w (%v)", ErrNoSpace, err)
	}
	return err
}
