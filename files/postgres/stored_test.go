package postgres

import (
	"context"
	"testing"

	"github.com/sshelf/sshelf/files"
)

func TestStoredCountsFilesAndBytes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCatalog(t)
	check := func(wantCount, wantBytes int64) {
		t.Helper()
		n, b, err := c.Stored(ctx)
		if err != nil || n != wantCount || b != wantBytes {
			t.Fatalf("Stored = %d files, %d bytes, %v; want %d, %d", n, b, err, wantCount, wantBytes)
		}
	}
	check(0, 0)
	for _, r := range []files.Record{rec("a", "alice", 10, "b1"), rec("b", "bob", 5, "b2"), rec("c", "alice", 1, "b3")} {
		if _, err := c.Put(ctx, r, allowPut); err != nil {
			t.Fatal(err)
		}
	}
	check(3, 16)
	// A replacement counts once, with its new size, also by another owner.
	if _, err := c.Put(ctx, rec("a", "bob", 20, "b4"), allowPut); err != nil {
		t.Fatal(err)
	}
	check(3, 26)
	if _, err := c.Rename(ctx, "c", "b", func(files.Record, *files.Record) error { return nil }); err != nil {
		t.Fatal(err)
	}
	check(2, 21)
	if _, err := c.Delete(ctx, "b", func(files.Record) error { return nil }); err != nil {
		t.Fatal(err)
	}
	check(1, 20)
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	checkTotals(t, c)
}
