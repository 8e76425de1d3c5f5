package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sshelf/sshelf/files"
)

// BlobCopy says what CopyTo did.
type BlobCopy int

const (
	BlobPresent BlobCopy = iota // dst had it already
	BlobLinked
	BlobCopied
)

// CopyTo puts the committed blob key into dst under the same key, for a
// backup: a hard link when both stores are on one file system (a committed
// blob never changes, so sharing it is safe), else a copy, synced. A blob
// already in dst is left as it is. A blob not here is an fs.ErrNotExist.
// Call dst.Sync when done, to make the new names durable.
func (b *Store) CopyTo(ctx context.Context, key string, dst *Store) (BlobCopy, error) {
	src, err := b.Path(key)
	if err != nil {
		return 0, err
	}
	to, _ := dst.Path(key)
	if _, err := os.Stat(to); err == nil {
		return BlobPresent, nil
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return 0, fmt.Errorf("copy blob %s: %w", key, err)
	}
	lerr := os.Link(src, to)
	if lerr == nil {
		return BlobLinked, nil
	}
	if _, err := os.Stat(src); err != nil {
		return 0, fmt.Errorf("copy blob %s: %w", key, err)
	}
	// Another file system (EXDEV), or one without hard links: copy.
	if err := copyFile(ctx, src, to, dst.TempDir()); err != nil {
		return 0, files.MapNoSpace(fmt.Errorf("copy blob %s: %w (link: %v)", key, err, lerr))
	}
	return BlobCopied, nil
}

// copyFile copies src to dst through a synced temporary file in tmpDir, so
// dst appears whole or not at all.
func copyFile(ctx context.Context, src, dst, tmpDir string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.CreateTemp(tmpDir, "copy-*")
	if err != nil {
		return err
	}
	fail := func(err error) error {
		out.Close()
		os.Remove(out.Name())
		return err
	}
	if _, err := io.Copy(out, ctxReader{ctx, in}); err != nil {
		return fail(err)
	}
	if err := out.Sync(); err != nil {
		return fail(err)
	}
	if err := out.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(out.Name(), dst); err != nil {
		os.Remove(out.Name())
		return err
	}
	return nil
}

// ctxReader stops a copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// Sync makes every committed blob's name durable: the folders are synced.
func (b *Store) Sync() error {
	root := filepath.Join(b.dir, "blobs")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		return syncDir(p)
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sync blobs: %w", err)
	}
	return nil
}
