package s3store_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sshelf/sshelf/internal/testkit"
)

// spool writes content to a temporary file, as the Service's spool.
func spool(t *testing.T, content []byte) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "spool"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(content); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestPut stores blobs of one and of several parts from each kind of
// reader Put knows: a section of a file (read at offsets), a file at an
// offset, and a plain stream (read into part buffers).
func TestPut(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	for _, size := range []int{0, 1000, partSize, large} {
		content := testkit.RandBytes(t, size)
		f := spool(t, append([]byte("header"), content...))
		for _, tt := range []struct {
			name string
			r    io.Reader
		}{
			{"section of a file", io.NewSectionReader(f, 6, int64(size))},
			{"plain stream", iotest.HalfReader(bytes.NewReader(content))},
			{"file at an offset", func() io.Reader { f.Seek(6, io.SeekStart); return f }()},
		} {
			key, err := s.Put(ctx, tt.r, int64(size))
			if err != nil {
				t.Fatalf("put %d bytes from a %s: %v", size, tt.name, err)
			}
			wantStored(t, s, key, content)
		}
	}
	if u := unfinished(t, s); len(u) != 0 {
		t.Errorf("unfinished after puts: %v", u)
	}
}

// TestPutWrongSize: a stream shorter or longer than the size given stores
// nothing, neither a blob nor an unfinished upload, whichever the path.
func TestPutWrongSize(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	content := testkit.RandBytes(t, large)
	f := spool(t, content)
	for _, size := range []int64{large - 1, large + 1, partSize, 2 * partSize} {
		for _, tt := range []struct {
			name string
			r    io.Reader
		}{
			{"section of a file", io.NewSectionReader(f, 0, large)},
			{"plain stream", bytes.NewReader(content)},
		} {
			if key, err := s.Put(ctx, tt.r, size); err == nil {
				t.Errorf("put of %d bytes from a %s as %d: stored as %s", large, tt.name, size, key)
			}
		}
	}
	// A file shorter than the section said: the read fails at its end.
	if key, err := s.Put(ctx, io.NewSectionReader(f, 0, large+partSize), large+partSize); err == nil {
		t.Errorf("put of a section past the file's end: stored as %s", key)
	}
	wantEmpty(t, s)
}

// TestPutReadErrorMidway: a stream failing after a part went out stores
// nothing and returns the stream's error.
func TestPutReadErrorMidway(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	r := io.MultiReader(bytes.NewReader(testkit.RandBytes(t, partSize+100)), iotest.ErrReader(io.ErrClosedPipe))
	if _, err := s.Put(context.Background(), r, large); err == nil || !strings.Contains(err.Error(), io.ErrClosedPipe.Error()) {
		t.Errorf("put from a failing stream: %v, want its error", err)
	}
	wantEmpty(t, s)
}
