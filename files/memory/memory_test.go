package memory_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/memory"
)

// What the SQL catalogs do and the conformance suite does not check.

func rec(name, owner string, size int64, blob string) files.Record {
	return files.Record{File: files.File{Name: name, Owner: owner, Size: size, Uploaded: time.Unix(1, 0)}, Blob: blob}
}

func allow(*files.Record, int64) error { return nil }

func mustPut(t *testing.T, c *memory.Catalog, r files.Record) {
	t.Helper()
	if _, err := c.Put(context.Background(), r, allow); err != nil {
		t.Fatal(err)
	}
}

// Records never share a blob (the SQL catalogs' UNIQUE constraint): a
// change that would is refused after its check, and changes nothing.
func TestBlobUnique(t *testing.T) {
	ctx := context.Background()
	c := memory.New()
	mustPut(t, c, rec("a", "alice", 1, "k1"))
	mustPut(t, c, rec("b", "alice", 2, "k2"))
	if _, err := c.Put(ctx, rec("c", "alice", 3, "k1"), allow); err == nil {
		t.Error("a put reusing another record's blob was stored")
	}
	if err := c.Update(ctx, "b", func(r *files.Record) error { r.Blob = "k1"; return nil }); err == nil {
		t.Error("an update to another record's blob was stored")
	}
	if r, _ := c.Lookup(ctx, "b"); r.Blob != "k2" {
		t.Errorf("b after the refused update: %+v", r)
	}
	if n, _ := c.Usage(ctx, "alice"); n != 3 {
		t.Errorf("usage %d after refused changes, want 3", n)
	}
	if keys, _ := c.Garbage(ctx, time.Now().Add(time.Hour), -1); keys != nil {
		t.Errorf("refused changes listed garbage %v", keys)
	}
}

// What is stored is what the SQL catalogs read back; what a caller gets
// is its own copy.
func TestStoredAsRead(t *testing.T) {
	ctx := context.Background()
	c := memory.New()
	r := rec("a", "alice", 1, "k1")
	r.Protected = true // no password hash: not protected
	r.Uploaded = time.Now().In(time.FixedZone("X", 3600))
	mustPut(t, c, r)
	got, err := c.Lookup(ctx, "a")
	if err != nil || got.Protected || got.Uploaded.Location() != time.UTC || got.Uploaded != time.Unix(0, r.Uploaded.UnixNano()).UTC() {
		t.Fatalf("lookup: %+v, %v", got, err)
	}
	old, err := c.Put(ctx, rec("a", "alice", 2, "k2"), func(o *files.Record, _ int64) error { o.Owner = "mallory"; return nil })
	if err != nil || old.Owner != "mallory" {
		t.Fatalf("put returns the record its check saw: %+v, %v", old, err)
	}
	if n, _ := c.Usage(ctx, "alice"); n != 2 {
		t.Errorf("a check changing its copy changed the catalog: usage %d", n)
	}
	page, _ := c.Records(ctx, "", -1)
	page[0].Owner = "mallory"
	if got, _ := c.Lookup(ctx, "a"); got.Owner != "alice" {
		t.Errorf("a caller changed a stored record: %+v", got)
	}
}

func TestLimits(t *testing.T) {
	ctx := context.Background()
	c := memory.New()
	for _, n := range []string{"c", "a", "b"} {
		mustPut(t, c, rec(n, "o", 1, "k"+n))
	}
	all, _ := c.Records(ctx, "", -1)
	if len(all) != 3 {
		t.Errorf("a negative limit is none: %d records", len(all))
	}
	if page, err := c.Records(ctx, "", 0); page != nil || err != nil {
		t.Errorf("limit 0: %v, %v", page, err)
	}
	if page, _ := c.ListPublic(ctx, files.ListQuery{Limit: -1}); len(page) != 3 {
		t.Errorf("list with a negative limit: %d files", len(page))
	}
	if page, _ := c.ListPublic(ctx, files.ListQuery{Limit: 0}); page != nil {
		t.Errorf("list with limit 0: %v", page)
	}
}

func TestStoredAndForgetGarbage(t *testing.T) {
	ctx := context.Background()
	c := memory.New()
	mustPut(t, c, rec("a", "alice", 5, "k1"))
	mustPut(t, c, rec("b", "bob", 7, "k2"))
	mustPut(t, c, rec("a", "alice", 3, "k3"))
	if n, bytes, err := c.Stored(ctx); n != 2 || bytes != 10 || err != nil {
		t.Errorf("stored %d files, %d bytes, %v; want 2, 10", n, bytes, err)
	}
	if err := c.ForgetGarbage(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.HasBlob(ctx, "k1"); ok {
		t.Error("a forgotten blob is still known")
	}
}

// A cancelled context fails every method before it changes anything.
func TestCancelled(t *testing.T) {
	c := memory.New()
	mustPut(t, c, rec("a", "alice", 1, "k1"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	errs := []error{
		func() error { _, err := c.Lookup(ctx, "a"); return err }(),
		func() error {
			_, err := c.Put(ctx, rec("b", "alice", 1, "k2"), func(*files.Record, int64) error { called = true; return nil })
			return err
		}(),
		c.Update(ctx, "a", func(*files.Record) error { called = true; return nil }),
		func() error {
			_, err := c.Delete(ctx, "a", func(files.Record) error { called = true; return nil })
			return err
		}(),
		func() error {
			_, err := c.Rename(ctx, "a", "b", func(files.Record, *files.Record) error { called = true; return nil })
			return err
		}(),
		func() error { _, err := c.ListPublic(ctx, files.ListQuery{Limit: 1}); return err }(),
		func() error { _, err := c.Garbage(ctx, time.Now(), 1); return err }(),
		c.Collected(ctx, "k1"),
	}
	for i, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("call %d: %v, want context.Canceled", i, err)
		}
	}
	if called {
		t.Error("a check ran under a cancelled context")
	}
	if names, _ := c.OwnedBy(context.Background(), "alice"); !slices.Equal(names, []string{"a"}) {
		t.Errorf("after cancelled changes: %q", names)
	}
}

// A check and the change it guards are atomic: puts racing for one
// owner's quota never exceed it together.
func TestCheckAtomic(t *testing.T) {
	ctx := context.Background()
	c := memory.New()
	const quota, n = 10, 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c.Put(ctx, rec(fmt.Sprint("f", i), "alice", 1, fmt.Sprint("k", i)), func(_ *files.Record, used int64) error {
				if used+1 > quota {
					return files.ErrQuota
				}
				return nil
			})
		})
	}
	wg.Wait()
	if used, _ := c.Usage(ctx, "alice"); used != quota {
		t.Errorf("usage %d after racing puts, want the quota %d", used, quota)
	}
	if names, _ := c.OwnedBy(ctx, "alice"); len(names) != quota {
		t.Errorf("%d files stored, want %d", len(names), quota)
	}
}
