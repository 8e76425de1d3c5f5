package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/pgtest"
)

// twoInstances returns two catalogs on one database, each with its own
// pool, as two servers of a cluster have them.
func twoInstances(t *testing.T) [2]*Catalog {
	t.Helper()
	url := pgtest.Database(t)
	return [2]*Catalog{openCatalog(t, url), openCatalog(t, url)}
}

func rec(name, owner string, size int64, blob string) files.Record {
	return files.Record{File: files.File{Name: name, Owner: owner, Size: size, Uploaded: time.Unix(1, 0)}, Blob: blob}
}

// checkTotals compares what the trigger keeps per owner with the files
// themselves.
func checkTotals(t *testing.T, c *Catalog) {
	t.Helper()
	rows, err := c.pool.Query(context.Background(), `SELECT owner, u.bytes, u.files, coalesce(f.bytes, 0), coalesce(f.files, 0)
		FROM file_usage u FULL JOIN (SELECT owner, sum(size)::bigint bytes, count(*) files FROM files GROUP BY owner) f USING (owner)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var owner string
		var kept, keptFiles, sum, count *int64
		if err := rows.Scan(&owner, &kept, &keptFiles, &sum, &count); err != nil {
			t.Fatal(err)
		}
		if kept == nil || *kept != *sum || *keptFiles != *count {
			t.Errorf("usage of %s kept as %v bytes in %v files; the files hold %d in %d", owner, kept, keptFiles, *sum, *count)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// Puts of one name from two instances serialise: each check sees the
// record the previous put committed, so every record but the last is
// replaced exactly once.
func TestConcurrentPutsOfOneName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cats := twoInstances(t)
	const n = 24
	owners := []string{"alice", "bob", "carol"}
	var mu sync.Mutex
	var replaced []string
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Owners differ, so that only the name's lock serialises.
			r := rec("one", owners[i%len(owners)], int64(i+1), fmt.Sprintf("k%02d", i))
			old, err := cats[i%2].Put(ctx, r, allowPut)
			errs[i] = err
			if old != nil {
				mu.Lock()
				replaced = append(replaced, old.Blob)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	final, err := cats[0].Lookup(ctx, "one")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(replaced)
	if len(replaced) != n-1 || len(slices.Compact(slices.Clone(replaced))) != n-1 || slices.Contains(replaced, final.Blob) {
		t.Fatalf("replaced %d records %v, final %s: want each of the %d others exactly once", len(replaced), replaced, final.Blob, n-1)
	}
	for _, o := range owners {
		want := int64(0)
		if o == final.Owner {
			want = final.Size
		}
		if u, err := cats[1].Usage(ctx, o); err != nil || u != want {
			t.Errorf("usage of %s %d, %v; want %d", o, u, err, want)
		}
	}
	garbage, err := cats[1].Garbage(ctx, time.Now().Add(time.Minute), 2*n)
	slices.Sort(garbage)
	if err != nil || !slices.Equal(garbage, replaced) {
		t.Errorf("garbage %v, %v; want the replaced blobs %v", garbage, err, replaced)
	}
	checkTotals(t, cats[0])
}

// Puts of different names by one owner from two instances cannot race
// past the quota: each check reads the usage the previous one committed.
func TestQuotaRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cats := twoInstances(t)
	const n, size, quota = 16, 10, 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := rec(fmt.Sprintf("f%02d", i), "alice", size, fmt.Sprintf("k%02d", i))
			_, errs[i] = cats[i%2].Put(ctx, r, func(old *files.Record, usage int64) error {
				// Widen the window between reading usage and committing.
				time.Sleep(2 * time.Millisecond)
				if usage+size > quota {
					return files.ErrQuota
				}
				return nil
			})
		})
	}
	wg.Wait()
	stored := 0
	for _, err := range errs {
		switch {
		case err == nil:
			stored++
		case !errors.Is(err, files.ErrQuota):
			t.Fatal(err)
		}
	}
	if stored != quota/size {
		t.Errorf("%d puts stored, want %d", stored, quota/size)
	}
	if u, err := cats[0].Usage(ctx, "alice"); err != nil || u != quota {
		t.Errorf("usage %d, %v; want %d", u, err, quota)
	}
	checkTotals(t, cats[0])
}

// Renames in both directions, deletes and puts of a few names from two
// instances neither deadlock nor lose a blob: every blob ever stored is
// still referenced or on the garbage list, and usage matches the files.
func TestRenameDeleteInterplay(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cats := twoInstances(t)
	names := []string{"a", "b", "c"}
	const workers, rounds = 6, 20
	var mu sync.Mutex
	var stored []string
	errs := make([]error, workers)
	allowRename := func(files.Record, *files.Record) error { return nil }
	allowDelete := func(files.Record) error { return nil }
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			c := cats[w%2]
			for i := range rounds {
				from, to := names[(w+i)%3], names[(w+i+1+w%2)%3]
				var err error
				switch (w + i) % 4 {
				case 0, 1:
					blob := fmt.Sprintf("w%d-%d", w, i)
					if _, err = c.Put(ctx, rec(from, "alice", int64(i+1), blob), allowPut); err == nil {
						mu.Lock()
						stored = append(stored, blob)
						mu.Unlock()
					}
				case 2:
					_, err = c.Rename(ctx, from, to, allowRename)
				case 3:
					_, err = c.Delete(ctx, from, allowDelete)
				}
				if err != nil && !errors.Is(err, files.ErrNotFound) {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, blob := range stored {
		if ok, err := cats[0].HasBlob(ctx, blob); err != nil || !ok {
			t.Errorf("blob %s lost: %v, %v", blob, ok, err)
		}
	}
	checkTotals(t, cats[1])
}

func allowPut(*files.Record, int64) error { return nil }

// Instances starting at once migrate once and both work.
func TestNewConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.Database(t)
	cats := [2]*Catalog{}
	errs := [2]error{}
	var wg sync.WaitGroup
	for i := range 2 {
		pool := openPool(t, url)
		wg.Go(func() { cats[i], errs[i] = New(ctx, pool) })
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		t.Fatal(err)
	}
	if _, err := cats[0].Put(ctx, rec("x", "o", 1, "k"), allowPut); err != nil {
		t.Fatal(err)
	}
	if _, err := cats[1].Lookup(ctx, "x"); err != nil {
		t.Fatal(err)
	}
}
