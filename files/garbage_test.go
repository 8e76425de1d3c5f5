package files

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/testkit"
)

func withGarbageGrace(d time.Duration) envOption {
	return func(c *Config, _ string) { c.GarbageGrace = d }
}

// With a grace period, a replaced or removed file's content stays in the
// store (a download on another server may be reading it) and is no orphan;
// past it, the next change that drops content, or Recover, removes it.
func TestGarbageWaitsForItsGracePeriod(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, withGarbageGrace(time.Hour))
	old := testkit.RandBytes(t, 100<<10)
	e.mustPut(t, "alice", PutOptions{Name: "a"}, old)
	d, err := e.svc.Open(ctx, "bob", "a", "")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	e.mustPut(t, "alice", PutOptions{Name: "a"}, []byte("new"))
	e.mustPut(t, "alice", PutOptions{Name: "b"}, []byte("b"))
	testkit.WantErr(t, "rm b", e.svc.Remove(ctx, "alice", "b"), nil)
	e.assertBlobCount(t, 3) // a's old and new content, b's
	sum, err := e.svc.Check(ctx, CheckOptions{RemoveOrphans: true})
	if err != nil || sum.Orphans != 0 || !sum.OK() {
		t.Fatalf("check: %+v, %v; want no orphan (garbage is not one)", sum, err)
	}
	got, err := io.ReadAll(d)
	testkit.WantErr(t, "download of the old version", err, nil)
	wantContent(t, "old version", got, old)

	e.svc.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	must(t, e.svc.Recover(ctx))
	e.assertBlobCount(t, 1)
	wantContent(t, "a", e.mustGet(t, "bob", "a", ""), []byte("new"))
	if keys, err := e.catalog.Garbage(ctx, time.Now().Add(time.Hour), 10); err != nil || len(keys) != 0 {
		t.Errorf("garbage list after collecting: %v, %v", keys, err)
	}
}

// Without a grace period (the disk store's), dropped content goes at once.
func TestGarbageWithoutGracePeriod(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.mustPut(t, "alice", PutOptions{Name: "a"}, []byte("old"))
	e.mustPut(t, "alice", PutOptions{Name: "a"}, []byte("new"))
	e.assertBlobCount(t, 1)
	testkit.WantErr(t, "rm", e.svc.Remove(ctx, "alice", "a"), nil)
	e.assertBlobCount(t, 0)
}

// Removals at once, each collecting after its change: once all have
// returned, nothing is left in the store or on the garbage list.
func TestConcurrentRemovalsCollectEverything(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	const n = 20
	for i := range n {
		e.mustPut(t, "alice", PutOptions{Name: fmt.Sprint("f", i)}, testkit.RandBytes(t, 1<<10))
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprint("f", i)
			if err := e.svc.Remove(ctx, "alice", name); err != nil {
				t.Errorf("rm %s: %v", name, err)
			}
		})
	}
	wg.Wait()
	e.assertBlobCount(t, 0)
	if keys, err := e.catalog.Garbage(ctx, time.Now().Add(time.Hour), 10); err != nil || len(keys) != 0 {
		t.Errorf("garbage list after the removals: %v, %v", keys, err)
	}
}

// With a shared store, Recover leaves the store alone (Run cleans it, one
// server at a time), and the orphan sweep removes only old orphans: a young
// one may be another server's commit whose record is on its way.
func TestSharedStoreOrphans(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *Config, _ string) { c.SharedBlobs = true })
	commitBlob(t, e.blobs, "another server's commit on its way")
	e.svc.now = func() time.Time { return time.Now().Add(2 * DefaultOrphanGrace) }
	must(t, e.svc.Recover(ctx))
	e.assertBlobCount(t, 1)
	e.svc.now = time.Now
	n, err := e.svc.removeOrphans(ctx, DefaultOrphanGrace, nil)
	must(t, err)
	if n != 0 {
		t.Fatalf("removed %d young orphans", n)
	}
	e.assertBlobCount(t, 1)
	e.svc.now = func() time.Time { return time.Now().Add(2 * DefaultOrphanGrace) }
	if n, err = e.svc.removeOrphans(ctx, DefaultOrphanGrace, nil); err != nil || n != 1 {
		t.Fatalf("removeOrphans = %d, %v; want 1 old orphan removed", n, err)
	}
	e.assertBlobCount(t, 0)
}
