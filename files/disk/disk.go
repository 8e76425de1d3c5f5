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
	"syscall"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/diskspace"
)

// Store keeps contents as files under a directory: blobs in blobs/XX/KEY,
// blobs on their way in tmp/ (the Service's spool, DATA/tmp, is there too).
// All live on one file system, so storing an upload is a rename (Adopt).
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

// TempDir is where the store writes a blob before it moves it into place.
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

// Put stores size bytes of r through a synced temporary file, renamed
// into place.
func (b *Store) Put(ctx context.Context, r io.Reader, size int64) (string, error) {
	f, err := os.CreateTemp(b.TempDir(), "put-*")
	if err != nil {
		return "", files.MapNoSpace(fmt.Errorf("put blob: %w", err))
	}
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(f.Name())
		return "", files.MapNoSpace(fmt.Errorf("put blob: %w", err))
	}
	// One byte past size tells a longer stream from a whole one.
	n, err := io.Copy(f, ctxReader{ctx, io.LimitReader(r, size+1)})
	if err != nil {
		return fail(err)
	}
	if n != size {
		return fail(fmt.Errorf("stream of %d bytes, want %d", n, size))
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	key, err := b.Adopt(ctx, f.Name())
	if err != nil {
		os.Remove(f.Name())
	}
	return key, err
}

// Adopt moves a synced file into the store under a new key and syncs its
// folder: the commit of an upload, without a copy.
func (b *Store) Adopt(ctx context.Context, path string) (string, error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("adopt %s: %w", path, err)
	}
	key := hex.EncodeToString(raw[:])
	final, _ := b.Path(key)
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", files.MapNoSpace(fmt.Errorf("adopt %s: %w", path, err))
	}
	if err := os.Rename(path, final); err != nil {
		if errors.Is(err, syscall.EXDEV) {
			return "", fmt.Errorf("adopt %s: %w (%v)", path, files.ErrNotAdopted, err)
		}
		return "", files.MapNoSpace(fmt.Errorf("adopt %s: %w", path, err))
	}
	if err := syncDir(dir); err != nil {
		os.Remove(final)
		return "", files.MapNoSpace(fmt.Errorf("adopt %s: %w", path, err))
	}
	return key, nil
}

// Open opens a committed blob. An open blob stays readable whole even if it
// is removed meanwhile (the file system keeps it), grace period or not.
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

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
