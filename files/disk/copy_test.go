package disk

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
)

func commitBlob(t *testing.T, b *Store, content string) string {
	t.Helper()
	key, err := b.Put(context.Background(), strings.NewReader(content), int64(len(content)))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func readBlob(t *testing.T, b *Store, key string) string {
	t.Helper()
	r, err := b.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(c)
}

func newBlobs(t *testing.T, dir string) *Store {
	t.Helper()
	b, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCopyTo(t *testing.T) {
	ctx := context.Background()
	src := newBlobs(t, t.TempDir())
	key := commitBlob(t, src, "content")

	tests := []struct {
		name string
		dst  func(t *testing.T) string // a folder for the destination store
		want BlobCopy
	}{
		{name: "same file system", dst: func(t *testing.T) string { return t.TempDir() }, want: BlobLinked},
		{name: "another file system", dst: func(t *testing.T) string {
			dir, err := os.MkdirTemp("/dev/shm", "sshelf-copy-")
			if err != nil {
				t.Skipf("no /dev/shm: %v", err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			var a, b syscall.Stat_t
			if syscall.Stat(dir, &a) != nil || syscall.Stat(src.dir, &b) != nil || a.Dev == b.Dev {
				t.Skip("/dev/shm is on the same file system as the temporary folder")
			}
			return dir
		}, want: BlobCopied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := newBlobs(t, tt.dst(t))
			got, err := src.CopyTo(ctx, key, dst)
			if err != nil || got != tt.want {
				t.Fatalf("CopyTo: %v, %v, want %v", got, err, tt.want)
			}
			if c := readBlob(t, dst, key); c != "content" {
				t.Errorf("copy holds %q", c)
			}
			if got, err := src.CopyTo(ctx, key, dst); err != nil || got != BlobPresent {
				t.Errorf("second CopyTo: %v, %v, want BlobPresent", got, err)
			}
			if err := dst.Sync(); err != nil {
				t.Error(err)
			}
			if e, _ := os.ReadDir(dst.TempDir()); len(e) != 0 {
				t.Errorf("tmp/ holds %v after the copy", e)
			}
		})
	}
}

func TestCopyToMissing(t *testing.T) {
	src := newBlobs(t, t.TempDir())
	key := commitBlob(t, src, "content")
	if err := src.Remove(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	_, err := src.CopyTo(context.Background(), key, newBlobs(t, t.TempDir()))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("CopyTo of a removed blob: %v, want fs.ErrNotExist", err)
	}
}
