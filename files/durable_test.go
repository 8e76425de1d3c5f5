package files

import (
	"context"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/sshelf/sshelf/internal/testkit"
)

// events records, in order, what a commit did.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, s)
}

// recordingCatalog notes when a record has been committed.
type recordingCatalog struct {
	Catalog
	ev *events
}

func (c recordingCatalog) Put(ctx context.Context, rec Record, check func(old *Record, ownerUsage int64) error) (*Record, error) {
	old, err := c.Catalog.Put(ctx, rec, check)
	if err == nil {
		c.ev.add("record committed")
	}
	return old, err
}

// TestPutDurableBeforeAnswer: an upload is answered only once its content
// was synced to disk and then its record committed (the catalog commits
// with SQLite's synchronous=FULL, internal/sqlitedb), whatever way it was
// written: streamed, at offsets, or large enough for write-behind. A
// speed-up that dropped the sync would fail here.
func TestPutDurableBeforeAnswer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		size  int
		write func(u *Upload, content []byte) error
	}{
		{"small stream", 1000, func(u *Upload, c []byte) error { _, err := u.Write(c); return err }},
		{"three write-behind chunks", 3*writeBehindChunk + 12345, func(u *Upload, c []byte) error {
			for len(c) > 0 {
				n := min(len(c), 32<<10)
				if _, err := u.Write(c[:n]); err != nil {
					return err
				}
				c = c[n:]
			}
			return nil
		}},
		{"at offsets, backwards", 300 << 10, func(u *Upload, c []byte) error {
			for off := len(c) - 32<<10; ; off -= 32 << 10 {
				off = max(off, 0)
				if _, err := u.WriteAt(c[off:min(off+32<<10, len(c))], int64(off)); err != nil {
					return err
				}
				if off == 0 {
					return nil
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			// An S3 store's content is durable when its PutObject or
			// CompleteMultipartUpload returns, which Commit waits for.
			e.requireDiskStore(t)
			ev := &events{}
			e.svc.catalog = recordingCatalog{Catalog: e.svc.catalog, ev: ev}
			e.svc.spool.sync = func(f *os.File) error {
				err := syncData(f)
				if err == nil {
					ev.add("content synced")
				}
				return err
			}
			ctx := context.Background()
			content := testkit.RandBytes(t, tc.size)
			u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "f", Size: -1})
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.write(u, content); err != nil {
				t.Fatal(err)
			}
			f, err := u.Commit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ev.add("answered")
			want := []string{"content synced", "record committed", "answered"}
			if !slices.Equal(ev.list, want) {
				t.Fatalf("commit did %v, want %v", ev.list, want)
			}
			if f.SHA256 != testkit.SHA256Hex(content) {
				t.Fatalf("stored hash %s, want %s", f.SHA256, testkit.SHA256Hex(content))
			}
		})
	}
}
