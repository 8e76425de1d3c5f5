package filestest

import (
	"bytes"
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/sshelf/sshelf/files"
)

// TestStreamer checks a Blobs store that is a files.Streamer: blobs
// streamed in steps, whole or empty, and aborted. large is a size of
// several of the store's parts.
func TestStreamer(t *testing.T, open NewBlobs, large int) {
	for _, tt := range []struct {
		name string
		test func(*testing.T, files.Blobs, int)
	}{
		{"InSteps", testStreamInSteps},
		{"Sizes", testStreamSizes},
		{"Abort", testStreamAbort},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, open(t), large) })
	}
}

func begin(t *testing.T, b files.Blobs, src []byte) files.BlobStream {
	t.Helper()
	st, err := b.(files.Streamer).Begin(context.Background(), bytes.NewReader(src))
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	return st
}

func testStreamInSteps(t *testing.T, b files.Blobs, large int) {
	content := randomBytes(t, large)
	st := begin(t, b, content)
	// Uneven steps, some not moving on, as writes arrive.
	for end := 0; end < large; end += large/7 + 12345 {
		for range 2 {
			if err := st.Ready(int64(end)); err != nil {
				t.Fatalf("Ready(%d): %v", end, err)
			}
		}
	}
	key, err := st.Finish(context.Background(), int64(large))
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	if got := readAll(t, b, key); !bytes.Equal(got, content) {
		t.Errorf("streamed blob of %d bytes reads back %d bytes, differing", large, len(got))
	}
	if k := keys(t, b); !slices.Equal(k, []string{key}) {
		t.Errorf("Keys = %v, want [%s]", k, key)
	}
}

func testStreamSizes(t *testing.T, b files.Blobs, large int) {
	for _, tc := range []struct {
		name        string
		size, ready int
	}{
		{"empty", 0, 0},
		{"one byte", 1, 0},
		{"small, ready whole", 1000, 1000},
		{"large, never ready", large, 0},
		{"large, ready whole", large, large},
	} {
		content := randomBytes(t, tc.size)
		st := begin(t, b, content)
		if tc.ready > 0 {
			if err := st.Ready(int64(tc.ready)); err != nil {
				t.Fatalf("%s: Ready: %v", tc.name, err)
			}
		}
		key, err := st.Finish(context.Background(), int64(tc.size))
		if err != nil {
			t.Fatalf("%s: finish: %v", tc.name, err)
		}
		if got := readAll(t, b, key); !bytes.Equal(got, content) {
			t.Errorf("%s: reads back %d bytes, differing", tc.name, len(got))
		}
	}
}

func testStreamAbort(t *testing.T, b files.Blobs, large int) {
	ctx := context.Background()
	content := randomBytes(t, large)
	st := begin(t, b, content)
	if err := st.Ready(int64(large - 1)); err != nil {
		t.Fatal(err)
	}
	if err := st.Abort(ctx); err != nil {
		t.Fatalf("abort: %v", err)
	}
	if k := keys(t, b); len(k) != 0 {
		t.Errorf("an aborted stream left %v", k)
	}
	if ss, ok := b.(files.SharedStore); ok {
		if u := unfinished(t, ss); len(u) != 0 {
			t.Errorf("an aborted stream left unfinished %v", u)
		}
	}
	if _, err := st.Finish(ctx, int64(large)); err == nil {
		t.Error("Finish after Abort succeeded")
	}
}

func unfinished(t *testing.T, s files.SharedStore) []files.Unfinished {
	t.Helper()
	var out []files.Unfinished
	if err := s.Unfinished(context.Background(), func(u files.Unfinished) error { out = append(out, u); return nil }); err != nil {
		t.Fatalf("unfinished: %v", err)
	}
	return out
}

// TestSharedStore checks a Blobs store that is a files.SharedStore and a
// files.Streamer: keys name their instance, and a stream begun (Ready
// past large bytes, several parts) is unfinished until a sweep aborts it,
// after which it cannot finish. The stream's content can be read only
// after the sweep: parts in flight while an upload is aborted may land
// after it (S3 says so), which no sweep of a live server's uploads meets.
func TestSharedStore(t *testing.T, open NewBlobs, large int) {
	ctx := context.Background()
	b := open(t)
	ss := b.(files.SharedStore)
	k1, k2 := put(t, b, []byte("one")), put(t, b, []byte("two"))
	if ss.Instance(k1) == "" || ss.Instance(k1) != ss.Instance(k2) {
		t.Errorf("Instance(%s) = %q, Instance(%s) = %q: want one instance", k1, ss.Instance(k1), k2, ss.Instance(k2))
	}
	if got := ss.Instance("no key of ours"); got != "" {
		t.Errorf("Instance of a foreign key = %q, want empty", got)
	}

	src := &gatedReader{r: bytes.NewReader(randomBytes(t, large)), gate: make(chan struct{})}
	st, err := b.(files.Streamer).Begin(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan error, 1)
	go func() { ready <- st.Ready(int64(large)) }()
	var u []files.Unfinished
	for range 500 {
		if u = unfinished(t, ss); len(u) > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(u) != 1 || ss.Instance(u[0].Key) != ss.Instance(k1) || u[0].ID == "" || u[0].Began.IsZero() {
		close(src.gate)
		t.Fatalf("Unfinished = %+v, want one upload of instance %s", u, ss.Instance(k1))
	}
	for range 2 { // a gone one is no error
		if err := ss.AbortUnfinished(ctx, u[0]); err != nil {
			t.Fatalf("abort unfinished: %v", err)
		}
	}
	close(src.gate)
	<-ready // an error, or not yet
	if left := unfinished(t, ss); len(left) != 0 {
		t.Errorf("Unfinished after AbortUnfinished = %v", left)
	}
	if key, err := st.Finish(ctx, int64(large)); err == nil {
		t.Errorf("a stream aborted by a sweep finished as %s", key)
	}
	if err := st.Abort(ctx); err != nil {
		t.Errorf("abort after a failed finish: %v", err)
	}
	if k := keys(t, b); !slices.Equal(k, sorted(k1, k2)) {
		t.Errorf("Keys = %v, want only %s and %s", k, k1, k2)
	}
}

// gatedReader reads nothing until gate is closed.
type gatedReader struct {
	r    io.ReaderAt
	gate chan struct{}
}

func (g *gatedReader) ReadAt(p []byte, off int64) (int, error) {
	<-g.gate
	return g.r.ReadAt(p, off)
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}
