// Package filestest holds the conformance suites of the storage seams of
// package files: every Catalog and every Blobs store runs them, from its
// own tests, so that the rules behave the same on each.
package filestest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sshelf/sshelf/files"
)

// NewCatalog returns an empty catalog, cleaned up with t.
type NewCatalog func(t *testing.T) files.Catalog

var errNo = errors.New("refused by the check")

func allowPut(*files.Record, int64) error { return nil }

func record(name, owner string, size int64, blob string) files.Record {
	return files.Record{File: files.File{Name: name, Owner: owner, Size: size,
		SHA256: strings.Repeat("0", 64), Uploaded: time.Unix(1700000000, 123456789).UTC()}, Blob: blob}
}

func mustPut(t *testing.T, c files.Catalog, r files.Record) {
	t.Helper()
	if _, err := c.Put(context.Background(), r, allowPut); err != nil {
		t.Fatalf("put %q: %v", r.Name, err)
	}
}

func mustLookup(t *testing.T, c files.Catalog, name string) files.Record {
	t.Helper()
	r, err := c.Lookup(context.Background(), name)
	if err != nil {
		t.Fatalf("lookup %q: %v", name, err)
	}
	return r
}

func wantMissing(t *testing.T, c files.Catalog, name string) {
	t.Helper()
	if _, err := c.Lookup(context.Background(), name); !errors.Is(err, files.ErrNotFound) {
		t.Fatalf("lookup %q: %v, want ErrNotFound", name, err)
	}
}

// TestCatalog checks a Catalog's semantics: lookups, atomic checked
// changes, the garbage list, usage, listing in byte order with paging.
func TestCatalog(t *testing.T, open NewCatalog) {
	for _, tt := range []struct {
		name string
		test func(*testing.T, files.Catalog)
	}{
		{"PutLookup", testPutLookup},
		{"LookupMissing", testLookupMissing},
		{"PutSameBlob", testPutSameBlob},
		{"UpdateMovesUsageAndBlob", testUpdateMovesUsageAndBlob},
		{"PutReplace", testPutReplace},
		{"Update", testUpdate},
		{"Delete", testDelete},
		{"Rename", testRename},
		{"Garbage", testGarbage},
		{"Usage", testUsage},
		{"OwnedBy", testOwnedBy},
		{"ListByteOrder", testListByteOrder},
		{"ListPaging", testListPaging},
		{"ListUploadedExact", testListUploadedExact},
		{"ListFilter", testListFilter},
		{"Records", testRecords},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, open(t)) })
	}
}

func testPutLookup(t *testing.T, c files.Catalog) {
	ctx := context.Background()
	wantMissing(t, c, "a")
	r := record("a", "alice", 5, "k1")
	r.Hidden, r.PasswordHash = true, "$argon2id$x"
	var seenOld *files.Record
	seenUsage := int64(-1)
	old, err := c.Put(ctx, r, func(o *files.Record, u int64) error { seenOld, seenUsage = o, u; return nil })
	if err != nil || old != nil || seenOld != nil || seenUsage != 0 {
		t.Fatalf("first put: %v, %v; check saw %v, %d", old, err, seenOld, seenUsage)
	}
	got := mustLookup(t, c, "a")
	want := r
	want.Protected = true
	if !got.Uploaded.Equal(want.Uploaded) {
		t.Errorf("uploaded %v, want %v", got.Uploaded, want.Uploaded)
	}
	got.Uploaded = want.Uploaded
	if got != want {
		t.Errorf("lookup: %+v, want %+v", got, want)
	}
	// A refused put stores nothing and returns the check's error.
	if _, err := c.Put(ctx, record("b", "alice", 1, "k2"), func(*files.Record, int64) error { return errNo }); !errors.Is(err, errNo) {
		t.Fatalf("refused put: %v, want the check's error", err)
	}
	wantMissing(t, c, "b")
	if ok, err := c.HasBlob(ctx, "k2"); err != nil || ok {
		t.Errorf("HasBlob of a refused put's blob: %v, %v", ok, err)
	}
	if ok, err := c.HasBlob(ctx, "k1"); err != nil || !ok {
		t.Errorf("HasBlob of a record's blob: %v, %v", ok, err)
	}
}

// testLookupMissing: a missing record is files.ErrNotFound itself (callers
// compare with ==), also for names no catalog could hold (a NUL byte,
// invalid UTF-8); changes of those find nothing either.
func testLookupMissing(t *testing.T, c files.Catalog) {
	ctx := context.Background()
	mustPut(t, c, record("a", "alice", 1, "k1"))
	for _, name := range []string{"b", "A", "a\x00", "\xff", "a\xc3"} {
		if _, err := c.Lookup(ctx, name); err != files.ErrNotFound {
			t.Errorf("lookup %q: %v, want ErrNotFound itself", name, err)
		}
		if err := c.Update(ctx, name, func(*files.Record) error { return nil }); !errors.Is(err, files.ErrNotFound) {
			t.Errorf("update %q: %v, want ErrNotFound", name, err)
		}
		if _, err := c.Delete(ctx, name, func(files.Record) error { return nil }); !errors.Is(err, files.ErrNotFound) {
			t.Errorf("delete %q: %v, want ErrNotFound", name, err)
		}
		if _, err := c.Rename(ctx, name, "c", func(files.Record, *files.Record) error { return nil }); !errors.Is(err, files.ErrNotFound) {
			t.Errorf("rename %q: %v, want ErrNotFound", name, err)
		}
	}
	if ok, err := c.HasBlob(ctx, "\xff"); err != nil || ok {
		t.Errorf("HasBlob of an impossible key: %v, %v", ok, err)
	}
	if n, err := c.Usage(ctx, "\xff"); err != nil || n != 0 {
		t.Errorf("usage of an impossible owner: %d, %v", n, err)
	}
}

// testPutSameBlob: a replace that keeps the blob (a record rewritten)
// puts nothing on the garbage list.
func testPutSameBlob(t *testing.T, c files.Catalog) {
	ctx := context.Background()
	mustPut(t, c, record("a", "alice", 1, "k1"))
	r := record("a", "alice", 1, "k1")
	r.Hidden = true
	if old, err := c.Put(ctx, r, allowPut); err != nil || old == nil || old.Blob != "k1" {
		t.Fatalf("put over the same blob: %+v, %v", old, err)
	}
	if keys, err := c.Garbage(ctx, time.Now().Add(time.Minute), 10); err != nil || len(keys) != 0 {
		t.Errorf("garbage after a put over the same blob: %v, %v", keys, err)
	}
	if !mustLookup(t, c, "a").Hidden {
		t.Error("the rewrite was not stored")
	}
}

// testUpdateMovesUsageAndBlob: an update that changes the size, the owner
// or the blob keeps usage and the garbage list right, as every change does.
func testUpdateMovesUsageAndBlob(t *testing.T, c files.Catalog) {
	ctx := context.Background()
	mustPut(t, c, record("a", "alice", 10, "k1"))
	mustPut(t, c, record("b", "bob", 1, "k2"))
	update := func(fn func(*files.Record)) {
		t.Helper()
		if err := c.Update(ctx, "a", func(r *files.Record) error { fn(r); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	usage := func(owner string, want int64) {
		t.Helper()
		if n, err := c.Usage(ctx, owner); err != nil || n != want {
			t.Fatalf("usage of %s = %d, %v; want %d", owner, n, err, want)
		}
	}
	update(func(r *files.Record) { r.Size = 4 })
	usage("alice", 4)
	update(func(r *files.Record) { r.Owner = "bob" })
	usage("alice", 0)
	usage("bob", 5)
	update(func(r *files.Record) { r.Blob, r.Size = "k3", 6 })
	usage("bob", 7)
	keys, err := c.Garbage(ctx, time.Now().Add(time.Minute), 10)
	if err != nil || !slices.Equal(keys, []string{"k1"}) {
		t.Fatalf("garbage after an update of the blob: %v, %v; want [k1]", keys, err)
	}
	if r := mustLookup(t, c, "a"); r.Blob != "k3" || r.Owner != "bob" || r.Size != 6 {
		t.Errorf("after the updates: %+v", r)
	}
}

func testPutReplace(t *testing.T, c files.Catalog) {
	ctx := context.Background()
	mustPut(t, c, record("a", "alice", 5, "k1"))
	mustPut(t, c, record("b", "alice", 7, "k2"))
	var seen *files.Record
	var usage int64
	old, err := c.Put(ctx, record("a", "alice", 3, "k3"), func(o *files.Record, u int64) error { seen, usage = o, u; return nil })
	if err != nil || old == nil || old.Blob != "k1" || seen == nil || seen.Blob != "k1" || usage != 12 {
		t.Fatalf("replace: %+v, %v; check saw %+v, usage %d (want 12)", old, err, seen, usage)
	}
	if r := mustLookup(t, c, "a"); r.Blob != "k3" || r.Size != 3 {
		t.Errorf("after replace: %+v", r)
	}
	// A refused replace keeps the old record.
	if _, err := c.Put(ctx, record("a", "bob", 1, "k4"), func(*files.Record, int64) error { return errNo }); !errors.Is(err, errNo) {
		t.Fatal(err)
	}
	if r := mustLookup(t, c, "a"); r.Blob != "k3" || r.Owner != "alice" {
		t.Errorf("after a refused replace: %+v", r)
	}
}

func testUpdate(t *testing.T, c files.Catalog) {
	ctx := context.Background()
	if err := c.Update(ctx, "a", func(*files.Record) error { return nil }); !errors.Is(err, files.ErrNotFound) {
		t.Fatalf("update of a missing record: %v", err)
	}
	mustPut(t, c, record("a", "alice", 5, "k1"))
	err := c.Update(ctx, "a", func(r *files.Record) error {
		r.Hidden, r.PasswordHash, r.Protected = true, "h", true
		r.Name = "ignored" // the name stays
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := mustLookup(t, c, "a"); !r.Hidden || r.PasswordHash != "h" || !r.Protected {
		t.Errorf("after update: %+v", r)
	}
	wantMissing(t, c, "ignored")
	if err := c.Update(ctx, "a", func(r *files.Record) error { r.Hidden = false; return errNo }); !errors.Is(err, errNo) {
		t.Fatal(err)
	}
	if r := mustLookup(t, c, "a"); !r.Hidden {
		t.Errorf("a refused update changed the record: %+v", r)
	}
}

func testDelete(t *testing.T, c files.Catalog) {
	ctx := context.Background()
	if _, err := c.Delete(ctx, "a", func(files.Record) error { return nil }); !errors.Is(err, files.ErrNotFound) {
		t.Fatalf("delete of a missing record: %v", err)
	}
	mustPut(t, c, record("a", "alice", 5, "k1"))
	if _, err := c.Delete(ctx, "a", func(files.Record) error { return errNo }); !errors.Is(err, errNo) {
		t.Fatal(err)
	}
	mustLookup(t, c, "a")
	r, err := c.Delete(ctx, "a", func(r files.Record) error {
		if r.Blob != "k1" {
			return fmt.Errorf("check saw %+v", r)
		}
		return nil
	})
	if err != nil || r.Blob != "k1" {
		t.Fatalf("delete: %+v, %v", r, err)
	}
	wantMissing(t, c, "a")
}

func testRename(t *testing.T, c files.Catalog) {
	ctx := context.Background()
	allow := func(files.Record, *files.Record) error { return nil }
	if _, err := c.Rename(ctx, "a", "b", allow); !errors.Is(err, files.ErrNotFound) {
		t.Fatalf("rename of a missing record: %v", err)
	}
	mustPut(t, c, record("a", "alice", 5, "k1"))
	mustPut(t, c, record("b", "alice", 7, "k2"))
	if _, err := c.Rename(ctx, "a", "b", func(files.Record, *files.Record) error { return errNo }); !errors.Is(err, errNo) {
		t.Fatal(err)
	}
	if mustLookup(t, c, "a").Blob != "k1" || mustLookup(t, c, "b").Blob != "k2" {
		t.Fatal("a refused rename changed something")
	}
	// Onto itself: the check sees the record as both source and
	// destination, and nothing changes.
	var self *files.Record
	if old, err := c.Rename(ctx, "a", "a", func(_ files.Record, d *files.Record) error { self = d; return nil }); err != nil || old != nil {
		t.Fatalf("rename onto itself: %v, %v", old, err)
	}
	if self == nil || self.Blob != "k1" {
		t.Errorf("rename onto itself: check saw destination %+v, want the record itself", self)
	}
	mustLookup(t, c, "a")
	// To a new name.
	var src files.Record
	var dst *files.Record
	if old, err := c.Rename(ctx, "a", "c", func(s files.Record, d *files.Record) error { src, dst = s, d; return nil }); err != nil || old != nil {
		t.Fatalf("rename to a new name: %v, %v", old, err)
	}
	if src.Blob != "k1" || dst != nil {
		t.Errorf("check saw %+v, %+v", src, dst)
	}
	wantMissing(t, c, "a")
	if r := mustLookup(t, c, "c"); r.Blob != "k1" || r.Size != 5 {
		t.Errorf("renamed: %+v", r)
	}
	// Onto an existing one, which it replaces.
	old, err := c.Rename(ctx, "c", "b", allow)
	if err != nil || old == nil || old.Blob != "k2" {
		t.Fatalf("rename onto b: %+v, %v", old, err)
	}
	if r := mustLookup(t, c, "b"); r.Blob != "k1" {
		t.Errorf("b after the rename: %+v", r)
	}
	wantMissing(t, c, "c")
}

// testGarbage: every change that drops a blob lists it, in the same
// change; a listed blob is known (no orphan) until collected.
func testGarbage(t *testing.T, c files.Catalog) {
	ctx := context.Background()
	before := time.Now().Add(-time.Minute)
	mustPut(t, c, record("a", "alice", 1, "k1"))
	mustPut(t, c, record("b", "alice", 1, "k2"))
	mustPut(t, c, record("c", "alice", 1, "k3"))
	mustPut(t, c, record("a", "alice", 1, "k4"))                                                 // replaces k1
	c.Delete(ctx, "b", func(files.Record) error { return nil })                                  // drops k2
	c.Rename(ctx, "c", "a", func(files.Record, *files.Record) error { return nil })              // drops k4
	c.Put(ctx, record("a", "alice", 1, "k5"), func(*files.Record, int64) error { return errNo }) // refused: drops nothing
	c.Update(ctx, "a", func(r *files.Record) error { r.Hidden = true; return nil })              // same blob: drops nothing

	if keys, err := c.Garbage(ctx, before, 10); err != nil || len(keys) != 0 {
		t.Fatalf("garbage dropped before the changes: %v, %v", keys, err)
	}
	keys, err := c.Garbage(ctx, time.Now().Add(time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	if want := []string{"k1", "k2", "k4"}; !slices.Equal(keys, want) {
		t.Fatalf("garbage %v, want %v", keys, want)
	}
	// Oldest first: k1, k2 and k4 were dropped in that order.
	if page, err := c.Garbage(ctx, time.Now().Add(time.Minute), 2); err != nil || !slices.Equal(page, []string{"k1", "k2"}) {
		t.Errorf("garbage limited to 2: %v, %v; want [k1 k2]", page, err)
	}
	for _, k := range []string{"k1", "k2", "k3", "k4"} {
		if ok, err := c.HasBlob(ctx, k); err != nil || !ok {
			t.Errorf("HasBlob(%s) = %v, %v; want true (referenced or listed)", k, ok, err)
		}
	}
	if err := c.Collected(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Collected(ctx, "k1"); err != nil {
		t.Errorf("collected twice: %v", err)
	}
	if ok, err := c.HasBlob(ctx, "k1"); err != nil || ok {
		t.Errorf("HasBlob of a collected blob: %v, %v", ok, err)
	}
	keys, _ = c.Garbage(ctx, time.Now().Add(time.Minute), 10)
	slices.Sort(keys)
	if want := []string{"k2", "k4"}; !slices.Equal(keys, want) {
		t.Errorf("garbage after collecting k1: %v, want %v", keys, want)
	}
}

func testUsage(t *testing.T, c files.Catalog) {
	ctx := context.Background()
	want := func(owner string, n int64) {
		t.Helper()
		if got, err := c.Usage(ctx, owner); err != nil || got != n {
			t.Fatalf("usage of %s = %d, %v; want %d", owner, got, err, n)
		}
	}
	want("alice", 0)
	mustPut(t, c, record("a", "alice", 10, "k1"))
	mustPut(t, c, record("b", "alice", 5, "k2"))
	mustPut(t, c, record("c", "bob", 7, "k3"))
	want("alice", 15)
	want("bob", 7)
	mustPut(t, c, record("a", "alice", 3, "k4"))
	mustPut(t, c, record("b", "bob", 5, "k5")) // replaced by another owner
	want("alice", 3)
	want("bob", 12)
	if _, err := c.Rename(ctx, "c", "a", func(files.Record, *files.Record) error { return nil }); err != nil {
		t.Fatal(err)
	}
	want("alice", 0)
	want("bob", 12)
	if _, err := c.Delete(ctx, "b", func(files.Record) error { return nil }); err != nil {
		t.Fatal(err)
	}
	want("bob", 7)
}

func testOwnedBy(t *testing.T, c files.Catalog) {
	ctx := context.Background()
	for i, n := range []string{"z", "b", "a", "m"} {
		owner := "alice"
		if n == "m" {
			owner = "bob"
		}
		r := record(n, owner, 1, fmt.Sprint("k", i))
		r.Hidden = n == "b"
		mustPut(t, c, r)
	}
	got, err := c.OwnedBy(ctx, "alice")
	if want := []string{"a", "b", "z"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("OwnedBy(alice) = %v, %v; want %v", got, err, want)
	}
	if got, err := c.OwnedBy(ctx, "nobody"); err != nil || len(got) != 0 {
		t.Errorf("OwnedBy(nobody) = %v, %v", got, err)
	}
}

// names sort as bytes: upper case before lower, UTF-8 after ASCII.
var byteOrderNames = []string{"Zebra", "a b", "a-b", "a.b", "aB", "ab", "b", "é", "日本"}

func testListByteOrder(t *testing.T, c files.Catalog) {
	ctx := context.Background()
	shuffled := slices.Clone(byteOrderNames)
	slices.Reverse(shuffled)
	for i, n := range shuffled {
		mustPut(t, c, record(n, "alice", 1, fmt.Sprint("k", i)))
	}
	h := record("aa-hidden", "alice", 1, "kh")
	h.Hidden = true
	mustPut(t, c, h)
	page, err := c.ListPublic(ctx, files.ListQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(page); !slices.Equal(got, byteOrderNames) {
		t.Errorf("listed %q, want %q (byte order, no hidden file)", got, byteOrderNames)
	}
	all := slices.Sorted(slices.Values(append(slices.Clone(byteOrderNames), h.Name)))
	if got, err := c.OwnedBy(ctx, "alice"); err != nil || !slices.Equal(got, all) {
		t.Errorf("OwnedBy: %q, %v; want %q (byte order)", got, err, all)
	}
	recs, err := c.Records(ctx, "", 100)
	var got []string
	for _, r := range recs {
		got = append(got, r.Name)
	}
	if err != nil || !slices.Equal(got, all) {
		t.Errorf("Records: %q, %v; want %q (byte order)", got, err, all)
	}
	// Paging by key compares as bytes too.
	if page, err := c.ListPublic(ctx, files.ListQuery{After: &files.File{Name: "a.b"}, Limit: 2}); err != nil || !slices.Equal(names(page), []string{"aB", "ab"}) {
		t.Errorf("page after \"a.b\": %q, %v; want [aB ab]", names(page), err)
	}
}

// testListUploadedExact: upload times keep their nanoseconds, so paging
// by time neither skips nor repeats files a nanosecond apart.
func testListUploadedExact(t *testing.T, c files.Catalog) {
	ctx := context.Background()
	base := time.Date(2025, 1, 1, 0, 0, 0, 999, time.UTC)
	want := []string{"c", "a", "b"}
	for i, n := range want {
		r := record(n, "o", 1, fmt.Sprint("k", i))
		r.Uploaded = base.Add(time.Duration(i) * time.Nanosecond)
		mustPut(t, c, r)
	}
	var got []string
	q := files.ListQuery{Sort: files.SortByUploaded, Limit: 1}
	for range 10 {
		page, err := c.ListPublic(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page[0].Name)
		q.After = &page[0]
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged by upload time: %q, want %q", got, want)
	}
}

func names(page []files.File) []string {
	var out []string
	for _, f := range page {
		out = append(out, f.Name)
	}
	return out
}

// listFixture stores n records, every third hidden, with many equal
// sizes and times, and returns the public ones.
func listFixture(t *testing.T, c files.Catalog, n int) []files.File {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var public []files.File
	for i := range n {
		r := record(fmt.Sprintf("n%03d", (i*37)%n), "o", int64((i*7919)%5), fmt.Sprint("k", i))
		r.Hidden = i%3 == 0
		r.Uploaded = base.Add(time.Duration((i*104729)%7) * time.Second)
		mustPut(t, c, r)
		if !r.Hidden {
			public = append(public, r.File)
		}
	}
	return public
}

// Order compares two files in the order of k (names break ties), as a
// listing shows them.
func Order(k files.SortKey, desc bool) func(a, b files.File) int {
	return func(a, b files.File) int {
		c := 0
		switch k {
		case files.SortBySize:
			c = cmpInt(a.Size, b.Size)
		case files.SortByUploaded:
			c = a.Uploaded.Compare(b.Uploaded)
		}
		if c == 0 {
			c = strings.Compare(a.Name, b.Name)
		}
		if desc {
			c = -c
		}
		return c
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// testListPaging: paging forward and backward by key, in every order,
// yields exactly the public files in that order.
func testListPaging(t *testing.T, c files.Catalog) {
	ctx := context.Background()
	public := listFixture(t, c, 45)
	for _, k := range []files.SortKey{files.SortByName, files.SortBySize, files.SortByUploaded} {
		for _, desc := range []bool{false, true} {
			want := names(slices.SortedFunc(slices.Values(public), Order(k, desc)))
			var got []string
			q := files.ListQuery{Sort: k, Desc: desc, Limit: 4}
			for range 100 {
				page, err := c.ListPublic(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, names(page)...)
				if len(page) < q.Limit {
					break
				}
				q.After = &page[len(page)-1]
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%v desc=%v forward: %q, want %q", k, desc, got, want)
			}
			got = nil
			q = files.ListQuery{Sort: k, Desc: desc, Limit: 4, Backward: true}
			for range 100 {
				page, err := c.ListPublic(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				got = append(names(page), got...)
				if len(page) < q.Limit {
					break
				}
				q.After = &page[0]
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%v desc=%v backward: %q, want %q", k, desc, got, want)
			}
		}
	}
}

func testListFilter(t *testing.T, c files.Catalog) {
	ctx := context.Background()
	all := []string{"Report.pdf", "report_2.txt", "50%off", "a_b", "axb", "photo", "café"}
	for i, n := range all {
		r := record(n, "o", 1, fmt.Sprint("k", i))
		r.Hidden = i == 0 || i == 3
		mustPut(t, c, r)
	}
	for filter, want := range map[string][]string{
		"REPORT": {"report_2.txt"},
		"%":      {"50%off"},
		"_":      {"report_2.txt"},
		"a_b":    nil, // a hidden file is never found
		"x":      {"axb", "report_2.txt"},
		"CAFÉ":   nil, // only ASCII letters match either case
		"CAFé":   {"café"},
		"\xff":   nil, // no name holds invalid UTF-8
	} {
		page, err := c.ListPublic(ctx, files.ListQuery{Filter: filter, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(page); !slices.Equal(got, want) {
			t.Errorf("filter %q: %v, want %v", filter, got, want)
		}
	}
}

func testRecords(t *testing.T, c files.Catalog) {
	ctx := context.Background()
	listFixture(t, c, 20)
	var got []string
	after := ""
	for range 100 {
		page, err := c.Records(ctx, after, 6)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			got = append(got, r.Name)
		}
		if len(page) < 6 {
			break
		}
		after = page[len(page)-1].Name
	}
	if len(got) != 20 || !slices.IsSorted(got) {
		t.Errorf("records: %d names %q, want all 20 sorted, hidden ones included", len(got), got)
	}
}
