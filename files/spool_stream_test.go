package files

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/sshelf/sshelf/internal/testkit"
)

// streamingBlobs is the test's own store in front of the real one: it
// takes streams as a multipart store would, and checks the spool's promise
// that bytes handed over never change afterwards (it reads them at Ready
// and again at Finish).
type streamingBlobs struct {
	Blobs
	t *testing.T

	mu                       sync.Mutex
	begun, finished, aborted int
	readyCalls, bytesAtReady int64
}

func (b *streamingBlobs) Begin(ctx context.Context, src io.ReaderAt) (BlobStream, error) {
	b.mu.Lock()
	b.begun++
	b.mu.Unlock()
	return &recordingStream{b: b, src: src}, nil
}

type recordingStream struct {
	b     *streamingBlobs
	src   io.ReaderAt
	early []byte // what src held below the last ready, read at Ready
}

func (s *recordingStream) Ready(end int64) error {
	if end < int64(len(s.early)) {
		s.b.t.Errorf("Ready(%d) after Ready(%d): end went back", end, len(s.early))
	}
	more := make([]byte, end-int64(len(s.early)))
	if _, err := s.src.ReadAt(more, int64(len(s.early))); err != nil {
		return err
	}
	s.early = append(s.early, more...)
	s.b.mu.Lock()
	s.b.readyCalls++
	s.b.bytesAtReady = max(s.b.bytesAtReady, end)
	s.b.mu.Unlock()
	return nil
}

func (s *recordingStream) Finish(ctx context.Context, size int64) (string, error) {
	all := make([]byte, size)
	if _, err := s.src.ReadAt(all, 0); err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	if !bytes.Equal(all[:len(s.early)], s.early) {
		s.b.t.Errorf("bytes handed over at Ready changed before Finish")
	}
	s.b.mu.Lock()
	s.b.finished++
	s.b.mu.Unlock()
	return s.b.Blobs.Put(ctx, bytes.NewReader(all), size)
}

func (s *recordingStream) Abort(context.Context) error {
	s.b.mu.Lock()
	s.b.aborted++
	s.b.mu.Unlock()
	return nil
}

func TestSpoolStreams(t *testing.T) {
	const mib = 1 << 20
	content := testkit.RandBytes(t, 20*mib)
	chunk := 32 << 10
	for _, tt := range []struct {
		name string
		// write uploads content through u.
		write                   func(t *testing.T, u *Upload)
		wantFinished, wantAbort int
	}{
		{"in order", func(t *testing.T, u *Upload) {
			for off := 0; off < len(content); off += chunk {
				mustWriteAt(t, u, content[off:off+chunk], int64(off))
			}
		}, 1, 0},
		{"slightly out of order, as pkg/sftp's workers write", func(t *testing.T, u *Upload) {
			for off := 0; off < len(content); off += 2 * chunk {
				mustWriteAt(t, u, content[off+chunk:off+2*chunk], int64(off+chunk))
				mustWriteAt(t, u, content[off:off+chunk], int64(off))
			}
		}, 1, 0},
		{"rewrites the start after it streamed", func(t *testing.T, u *Upload) {
			zeros := make([]byte, len(content))
			for off := 0; off < len(content); off += chunk {
				mustWriteAt(t, u, zeros[off:off+chunk], int64(off))
			}
			for off := 0; off < len(content); off += chunk {
				mustWriteAt(t, u, content[off:off+chunk], int64(off))
			}
		}, 0, 1},
		{"truncates below what streamed, then writes it again", func(t *testing.T, u *Upload) {
			for off := 0; off < len(content); off += chunk {
				mustWriteAt(t, u, content[off:off+chunk], int64(off))
			}
			if err := u.Truncate(mib); err != nil {
				t.Fatal(err)
			}
			for off := mib; off < len(content); off += chunk {
				mustWriteAt(t, u, content[off:off+chunk], int64(off))
			}
		}, 0, 1},
		{"small file: no stream", func(t *testing.T, u *Upload) {
			mustWriteAt(t, u, content[:mib], 0)
			if err := u.Truncate(mib); err != nil {
				t.Fatal(err)
			}
		}, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var sb *streamingBlobs
			e := newEnv(t, func(c *Config, _ string) {
				sb = &streamingBlobs{Blobs: c.Blobs, t: t}
				c.Blobs = sb
			})
			ctx := context.Background()
			u, err := e.svc.Create(ctx, "ann", PutOptions{Name: "f", Size: -1})
			if err != nil {
				t.Fatal(err)
			}
			tt.write(t, u)
			want := content
			if tt.name == "small file: no stream" {
				want = content[:mib]
			}
			f, err := u.Commit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if f.Size != int64(len(want)) {
				t.Fatalf("size %d, want %d", f.Size, len(want))
			}
			wantContent(t, "download", e.mustGet(t, "ann", "f", ""), want)
			if sb.finished != tt.wantFinished || sb.aborted != tt.wantAbort {
				t.Errorf("streams finished %d, aborted %d; want %d, %d", sb.finished, sb.aborted, tt.wantFinished, tt.wantAbort)
			}
			if tt.wantFinished > 0 && sb.bytesAtReady < int64(len(want))/2 {
				t.Errorf("only %d bytes were handed over before Commit", sb.bytesAtReady)
			}
			e.assertTempEmpty(t)
		})
	}
}

// An upload aborted mid-stream aborts the stream and leaves nothing.
func TestSpoolStreamAbort(t *testing.T) {
	var sb *streamingBlobs
	e := newEnv(t, func(c *Config, _ string) {
		sb = &streamingBlobs{Blobs: c.Blobs, t: t}
		c.Blobs = sb
	})
	u, err := e.svc.Create(context.Background(), "ann", PutOptions{Name: "f", Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	mustWriteAt(t, u, testkit.RandBytes(t, 12<<20), 0)
	if err := u.Abort(); err != nil {
		t.Fatal(err)
	}
	if sb.begun != 1 || sb.aborted != 1 || sb.finished != 0 {
		t.Fatalf("begun %d, aborted %d, finished %d; want 1, 1, 0", sb.begun, sb.aborted, sb.finished)
	}
	e.assertTempEmpty(t)
	e.assertBlobCount(t, 0)
}

func mustWriteAt(t *testing.T, u *Upload, p []byte, off int64) {
	t.Helper()
	if _, err := u.WriteAt(p, off); err != nil {
		t.Fatalf("write at %d: %v", off, err)
	}
}
