package s3store_test

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/s3test"
	"github.com/sshelf/sshelf/internal/testkit"
)

// gatedSrc is stream content whose parts cannot be read until the test
// lets them: a part the store reads is a part in flight.
type gatedSrc struct {
	data  []byte
	gates []chan struct{} // one per part, closed to let its reads go on

	mu      sync.Mutex
	touched map[int]bool
	changed chan struct{} // a token on each new part touched
}

func newGatedSrc(data []byte) *gatedSrc {
	g := &gatedSrc{data: data, touched: map[int]bool{}, changed: make(chan struct{}, 100)}
	for range (len(data) + partSize - 1) / partSize {
		g.gates = append(g.gates, make(chan struct{}))
	}
	return g
}

func (g *gatedSrc) ReadAt(p []byte, off int64) (int, error) {
	part := int(off / partSize)
	g.mu.Lock()
	if !g.touched[part] {
		g.touched[part] = true
		g.changed <- struct{}{}
	}
	g.mu.Unlock()
	<-g.gates[part]
	return bytes.NewReader(g.data).ReadAt(p, off)
}

func (g *gatedSrc) open(part int) { close(g.gates[part]) }

// parts returns the parts touched so far, in order.
func (g *gatedSrc) parts() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []int
	for p := range g.touched {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// waitParts waits until the store has touched n parts, and fails the test
// if it touched others.
func (g *gatedSrc) waitParts(t *testing.T, want ...int) {
	t.Helper()
	for len(g.parts()) < len(want) {
		select {
		case <-g.changed:
		case <-time.After(30 * time.Second):
			t.Fatalf("parts in flight %v, want %v", g.parts(), want)
		}
	}
	if got := g.parts(); !slices.Equal(got, want) {
		t.Fatalf("parts in flight %v, want %v", got, want)
	}
}

// TestReadyBounded: with PartsInFlight 2, Ready sends two parts and waits
// for one to finish before it sends the next.
func TestReadyBounded(t *testing.T) {
	t.Parallel()
	cfg := s3test.Bucket(t)
	cfg.PartsInFlight = 2
	s := open(t, cfg)
	content := bytes.Repeat([]byte("0123456789abcdef"), 4*partSize/16) // four parts
	src := newGatedSrc(content)
	st, err := s.Begin(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan error, 1)
	go func() { ready <- st.Ready(int64(len(content))) }()
	notReturned := func(when string) {
		t.Helper()
		select {
		case err := <-ready:
			t.Fatalf("Ready returned %v %s", err, when)
		default:
		}
	}

	src.waitParts(t, 0, 1)
	notReturned("with two parts in flight and two to go")
	src.open(0)
	src.waitParts(t, 0, 1, 2)
	notReturned("with two parts in flight and one to go")
	src.open(1)
	src.waitParts(t, 0, 1, 2, 3)
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("Ready: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Ready did not return once every part was on its way")
	}
	src.open(2)
	src.open(3)
	key, err := st.Finish(context.Background(), int64(len(content)))
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	wantStored(t, s, key, content)
	if u := unfinished(t, s); len(u) != 0 {
		t.Errorf("unfinished after finish: %v", u)
	}
}

// TestStreamInOrder streams three parts in small steps, as an upload
// arrives, and checks the blob and that nothing else is left.
func TestStreamInOrder(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	content := testkit.RandBytes(t, large)
	st, err := s.Begin(context.Background(), bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	for end := int64(0); end < large; end += 256 << 10 {
		if err := st.Ready(end); err != nil {
			t.Fatalf("Ready(%d): %v", end, err)
		}
	}
	key, err := st.Finish(context.Background(), large)
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	wantStored(t, s, key, content)
	if k := keys(t, s); !slices.Equal(k, []string{key}) {
		t.Errorf("keys %v, want [%s]", k, key)
	}
	if u := unfinished(t, s); len(u) != 0 {
		t.Errorf("unfinished after finish: %v", u)
	}
	if err := st.Ready(large + 1); err == nil {
		t.Error("Ready after Finish succeeded")
	}
	if err := st.Abort(context.Background()); err != nil {
		t.Errorf("Abort after Finish: %v", err)
	}
	wantStored(t, s, key, content)
}

// TestStreamMisuse: an end that goes back, or a size below the end given,
// is an error, and the stream then stores nothing.
func TestStreamMisuse(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	content := testkit.RandBytes(t, large)
	for _, tt := range []struct {
		name string
		run  func(files.BlobStream) error
	}{
		{"end goes back", func(st files.BlobStream) error {
			if err := st.Ready(partSize + 10); err != nil {
				t.Fatal(err)
			}
			return st.Ready(partSize)
		}},
		{"size below end", func(st files.BlobStream) error {
			if err := st.Ready(partSize + 10); err != nil {
				t.Fatal(err)
			}
			_, err := st.Finish(context.Background(), partSize)
			return err
		}},
	} {
		st, err := s.Begin(context.Background(), bytes.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		if err := tt.run(st); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
		if err := st.Abort(context.Background()); err != nil {
			t.Errorf("%s: abort: %v", tt.name, err)
		}
	}
	wantEmpty(t, s)
}

// TestStreamCancelled: the context given to Begin bounds the stream; a
// Ready waiting on a slot returns when it ends, and Abort still cleans up.
func TestStreamCancelled(t *testing.T) {
	t.Parallel()
	cfg := s3test.Bucket(t)
	cfg.PartsInFlight = 1
	s := open(t, cfg)
	content := bytes.Repeat([]byte{7}, 3*partSize)
	src := newGatedSrc(content)
	ctx, cancel := context.WithCancel(context.Background())
	st, err := s.Begin(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan error, 1)
	go func() { ready <- st.Ready(int64(len(content))) }()
	src.waitParts(t, 0)
	cancel()
	select {
	case err := <-ready:
		if err == nil {
			t.Error("Ready of a cancelled stream succeeded")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Ready waiting for a slot did not return when the stream's context ended")
	}
	for i := range src.gates {
		src.open(i)
	}
	if err := st.Abort(context.Background()); err != nil {
		t.Errorf("abort: %v", err)
	}
	wantEmpty(t, s)
}
