package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/sqlitedb"
)

// sumUsage is what the triggers maintain, computed the slow way.
func sumUsage(t *testing.T, c *Catalog, owner string) int64 {
	t.Helper()
	var n int64
	if err := c.db.QueryRow(`SELECT COALESCE(SUM(size), 0) FROM files WHERE owner = ?`, owner).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func rec(name, owner string, size int64, blob string) files.Record {
	return files.Record{File: files.File{Name: name, Owner: owner, Size: size, Uploaded: time.Unix(1, 0)}, Blob: blob}
}

func TestUsageFollowsEveryChange(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t)
	allow := func(*files.Record, int64) error { return nil }
	check := func(want map[string]int64) {
		t.Helper()
		for owner, n := range want {
			got, err := c.Usage(ctx, owner)
			if err != nil || got != n || sumUsage(t, c, owner) != n {
				t.Fatalf("usage of %s = %d, %v; want %d (sum %d)", owner, got, err, n, sumUsage(t, c, owner))
			}
		}
	}
	check(map[string]int64{"alice": 0, "nobody": 0})
	c.Put(ctx, rec("a", "alice", 10, "b1"), allow)
	c.Put(ctx, rec("b", "alice", 5, "b2"), allow)
	c.Put(ctx, rec("c", "bob", 7, "b3"), allow)
	check(map[string]int64{"alice": 15, "bob": 7})
	// Replace (the upsert's update path), by the owner and by another.
	var seen int64
	c.Put(ctx, rec("a", "alice", 3, "b4"), func(_ *files.Record, u int64) error { seen = u; return nil })
	if seen != 15 {
		t.Fatalf("check saw usage %d, want 15", seen)
	}
	c.Put(ctx, rec("b", "bob", 5, "b5"), allow)
	check(map[string]int64{"alice": 3, "bob": 12})
	if err := c.Update(ctx, "c", func(r *files.Record) error { r.Hidden = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Rename(ctx, "c", "a", func(files.Record, *files.Record) error { return nil }); err != nil {
		t.Fatal(err)
	}
	check(map[string]int64{"alice": 0, "bob": 12})
	if _, err := c.Delete(ctx, "b", func(files.Record) error { return nil }); err != nil {
		t.Fatal(err)
	}
	check(map[string]int64{"alice": 0, "bob": 7})
	// A refused put changes nothing.
	c.Put(ctx, rec("z", "bob", 100, "b6"), func(*files.Record, int64) error { return files.ErrQuota })
	check(map[string]int64{"bob": 7})
}

// A catalog made before file_usage existed gets it filled on open.
func TestUsageMigratesOldCatalog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sqlitedb.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustExec(t, db, catalogSchema)
	mustExec(t, db, `INSERT INTO files VALUES ('x', 'alice', 40, 0, '', '', 0, 'k1'), ('y', 'alice', 2, 1, '', '', 0, 'k2')`)
	c, err := New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := c.Usage(ctx, "alice"); err != nil || n != 42 {
		t.Fatalf("usage after migration = %d, %v; want 42", n, err)
	}
	// Opening again does not count twice.
	if c, err = New(ctx, db); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Usage(ctx, "alice"); n != 42 {
		t.Fatalf("usage after reopening = %d; want 42", n)
	}
}

func newCatalog(t testing.TB) *Catalog {
	t.Helper()
	ctx := context.Background()
	db, err := sqlitedb.Open(ctx, filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c, err := New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}
