package filestest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/sshelf/sshelf/files"
)

// NewBlobs returns an empty blob store, cleaned up with t.
type NewBlobs func(t *testing.T) files.Blobs

// TestBlobs checks a Blobs store: put, open, ranged reads, remove, keys.
func TestBlobs(t *testing.T, open NewBlobs) {
	for _, tt := range []struct {
		name string
		test func(*testing.T, files.Blobs)
	}{
		{"PutOpen", testPutOpen},
		{"RangedRead", testRangedRead},
		{"PutWrongSize", testPutWrongSize},
		{"PutReadError", testPutReadError},
		{"Remove", testRemove},
		{"Keys", testKeys},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, open(t)) })
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func put(t *testing.T, b files.Blobs, content []byte) string {
	t.Helper()
	key, err := b.Put(context.Background(), bytes.NewReader(content), int64(len(content)))
	if err != nil {
		t.Fatalf("put %d bytes: %v", len(content), err)
	}
	return key
}

func readAll(t *testing.T, b files.Blobs, key string) []byte {
	t.Helper()
	r, err := b.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return got
}

func keys(t *testing.T, b files.Blobs) []string {
	t.Helper()
	var out []string
	if err := b.Keys(context.Background(), func(k string) error { out = append(out, k); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func testPutOpen(t *testing.T, b files.Blobs) {
	for _, n := range []int{0, 1, 1000, 3<<20 + 7} {
		content := randomBytes(t, n)
		key := put(t, b, content)
		if got := readAll(t, b, key); !bytes.Equal(got, content) {
			t.Errorf("blob of %d bytes reads back %d bytes, differing", n, len(got))
		}
	}
	if _, err := b.Open(context.Background(), keys(t, b)[0]+"x"); err == nil {
		t.Error("opened a key never put")
	}
}

func testRangedRead(t *testing.T, b files.Blobs) {
	content := randomBytes(t, 1<<20)
	key := put(t, b, content)
	r, err := b.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, rg := range [][2]int{{0, 10}, {12345, 70000}, {1<<20 - 5, 1 << 20}, {500, 500}} {
		p := make([]byte, rg[1]-rg[0])
		n, err := r.ReadAt(p, int64(rg[0]))
		if n != len(p) || err != nil && err != io.EOF {
			t.Fatalf("ReadAt %v: %d, %v", rg, n, err)
		}
		if !bytes.Equal(p, content[rg[0]:rg[1]]) {
			t.Errorf("ReadAt %v differs", rg)
		}
	}
	// Past the end: io.EOF, and what there is.
	p := make([]byte, 10)
	if n, err := r.ReadAt(p, 1<<20-4); n != 4 || err != io.EOF {
		t.Errorf("ReadAt across the end: %d, %v; want 4, io.EOF", n, err)
	}
	// Reading in order after ranged reads starts at the beginning.
	head := make([]byte, 16)
	if _, err := io.ReadFull(r, head); err != nil || !bytes.Equal(head, content[:16]) {
		t.Errorf("Read after ReadAt: %v", err)
	}
}

func testPutWrongSize(t *testing.T, b files.Blobs) {
	ctx := context.Background()
	content := randomBytes(t, 1000)
	for _, size := range []int64{999, 1001} {
		if key, err := b.Put(ctx, bytes.NewReader(content), size); err == nil {
			t.Errorf("put of 1000 bytes as %d: stored as %s, want an error", size, key)
		}
	}
	if k := keys(t, b); len(k) != 0 {
		t.Errorf("failed puts left %v", k)
	}
}

func testPutReadError(t *testing.T, b files.Blobs) {
	ctx := context.Background()
	boom := errors.New("client went away")
	r := io.MultiReader(strings.NewReader("some bytes"), iotest.ErrReader(boom))
	if _, err := b.Put(ctx, r, 100); !errors.Is(err, boom) {
		t.Errorf("put from a failing reader: %v, want its error", err)
	}
	if k := keys(t, b); len(k) != 0 {
		t.Errorf("a failed put left %v", k)
	}
}

func testRemove(t *testing.T, b files.Blobs) {
	ctx := context.Background()
	key := put(t, b, []byte("content"))
	other := put(t, b, []byte("other"))
	if err := b.Remove(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open after remove: %v, want fs.ErrNotExist", err)
	}
	if err := b.Remove(ctx, key); err != nil {
		t.Errorf("second remove: %v, want nil", err)
	}
	if got := readAll(t, b, other); string(got) != "other" {
		t.Errorf("the other blob reads %q", got)
	}
}

func testKeys(t *testing.T, b files.Blobs) {
	if k := keys(t, b); len(k) != 0 {
		t.Fatalf("a new store lists %v", k)
	}
	var want []string
	for range 5 {
		want = append(want, put(t, b, []byte("same content")))
	}
	slices.Sort(want)
	if len(slices.Compact(slices.Clone(want))) != 5 {
		t.Fatalf("keys not unique: %v", want)
	}
	if got := keys(t, b); !slices.Equal(got, want) {
		t.Errorf("Keys = %v, want %v", got, want)
	}
	stop := errors.New("stop")
	n := 0
	err := b.Keys(context.Background(), func(string) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Keys with fn failing: %v after %d calls, want its error after 1", err, n)
	}
}

// TestDeferredRemoval checks a catalog and a store together: a blob the
// catalog drops stays readable by a reader that opened it, and in the
// store, until the garbage list hands it out past its grace period; then
// it is removed and nothing knows it.
func TestDeferredRemoval(t *testing.T, c files.Catalog, b files.Blobs) {
	ctx := context.Background()
	old := randomBytes(t, 300<<10)
	k1 := put(t, b, old)
	mustPut(t, c, record("a", "alice", int64(len(old)), k1))
	r, err := b.Open(ctx, k1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	head := make([]byte, 1000)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatal(err)
	}
	k2 := put(t, b, []byte("new"))
	mustPut(t, c, record("a", "alice", 3, k2))

	grace := time.Hour
	if due, err := c.Garbage(ctx, time.Now().Add(-grace), 10); err != nil || len(due) != 0 {
		t.Fatalf("garbage due within the grace period: %v, %v", due, err)
	}
	if ok, err := c.HasBlob(ctx, k1); err != nil || !ok {
		t.Fatalf("a dropped blob in its grace period is unknown (an orphan): %v, %v", ok, err)
	}
	rest, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(append(head, rest...), old) {
		t.Fatalf("the reader of the old version got %d bytes, %v", len(head)+len(rest), err)
	}
	due, err := c.Garbage(ctx, time.Now().Add(grace), 10)
	if err != nil || !slices.Equal(due, []string{k1}) {
		t.Fatalf("garbage past the grace period: %v, %v; want [%s]", due, err, k1)
	}
	if err := b.Remove(ctx, k1); err != nil {
		t.Fatal(err)
	}
	if err := c.Collected(ctx, k1); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.HasBlob(ctx, k1); ok {
		t.Error("a collected blob is still known")
	}
	if _, err := b.Open(ctx, k1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open of a collected blob: %v", err)
	}
	if got := readAll(t, b, k2); string(got) != "new" {
		t.Errorf("the new version reads %q", got)
	}
}
