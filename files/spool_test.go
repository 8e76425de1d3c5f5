package files

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/sshelf/sshelf/internal/testkit"
)

// A spool file gathers small writes; whatever the order of writes, reads
// and truncations, what it reads back and commits is what was written.
func TestSpoolGathersWritesFaithfully(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := NewStoresForTest(t, dir).Blobs
	sp := spool{dir: dir}
	r := rand.New(rand.NewPCG(3, 4))
	// Writes are slices of one random pool at random starts: as varied,
	// without filling each byte under the race detector (12 s of it).
	pool := make([]byte, 128<<10)
	for i := range pool {
		pool[i] = byte(r.Uint32())
	}
	for run := 0; run < 50; run++ {
		bw, err := sp.create(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var model []byte
		off := int64(0)
		for op := 0; op < 200; op++ {
			switch k := r.IntN(10); {
			case k < 6: // mostly the next chunk, sometimes a jump back or ahead
				if r.IntN(4) == 0 {
					off = r.Int64N(int64(len(model)) + 40000)
				}
				n := 1 + r.IntN(40000)
				start := r.IntN(len(pool) - n)
				p := pool[start : start+n : start+n]
				if n, err := bw.WriteAt(p, off); err != nil || n != len(p) {
					t.Fatalf("write: %d, %v", n, err)
				}
				if end := off + int64(len(p)); end > int64(len(model)) {
					model = append(model, make([]byte, end-int64(len(model)))...)
				}
				copy(model[off:], p)
				off += int64(len(p))
			case k < 9: // read back somewhere
				if len(model) == 0 {
					continue
				}
				at := r.Int64N(int64(len(model)))
				p := make([]byte, min(1+r.Int64N(60000), int64(len(model))-at))
				if n, err := bw.ReadAt(p, at); n != len(p) || err != nil && err != io.EOF {
					t.Fatalf("read: %d, %v", n, err)
				}
				if !bytes.Equal(p, model[at:at+int64(len(p))]) {
					t.Fatalf("run %d op %d: read back at %d differs", run, op, at)
				}
			default:
				size := r.Int64N(int64(len(model)) + 1)
				if err := bw.Truncate(size); err != nil {
					t.Fatal(err)
				}
				model = model[:size]
			}
		}
		got := storeAndRead(t, ctx, b, bw, int64(len(model)))
		if !bytes.Equal(got, model) {
			t.Fatalf("run %d: committed %d bytes differing from the %d written", run, len(got), len(model))
		}
	}
}

// putOnly hides a store's Adopt: uploads are streamed to it with Put, as
// to an object store.
type putOnly struct{ Blobs }

// A store that cannot adopt spool files gets each upload as a stream, after
// the random-access writes in the spool.
func TestUploadToStoreWithoutAdopt(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *Config, _ string) { c.Blobs = putOnly{c.Blobs} })
	content := testkit.RandBytes(t, 1<<20+3)
	u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "f", Size: int64(len(content))})
	must(t, err)
	half := len(content) / 2
	_, err = u.WriteAt(content[half:], int64(half))
	must(t, err)
	_, err = u.WriteAt(content[:half], 0)
	must(t, err)
	f, err := u.Commit(ctx)
	must(t, err)
	if f.SHA256 != testkit.SHA256Hex(content) {
		t.Errorf("hash %s, want %s", f.SHA256, testkit.SHA256Hex(content))
	}
	wantContent(t, "f", e.mustGet(t, "bob", "f", ""), content)
	e.assertTempEmpty(t)
	e.assertBlobCount(t, 1)
}

// storeAndRead commits a spool file of size bytes to b and reads back what
// b then holds.
func storeAndRead(t *testing.T, ctx context.Context, b Blobs, w *spoolFile, size int64) []byte {
	t.Helper()
	key, err := w.store(ctx, b, size)
	if err != nil {
		t.Fatal(err)
	}
	r, err := b.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
