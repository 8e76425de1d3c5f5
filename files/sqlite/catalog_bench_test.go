package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sshelf/sshelf/files"
)

// fillBench gives the catalog n public files of "bench" in one statement,
// as scripts/bench does.
func fillBench(b *testing.B, c *Catalog, n int) {
	_, err := c.db.Exec(`WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
		INSERT INTO files (name, owner, size, hidden, password_hash, sha256, uploaded, blob)
		SELECT printf('file-%08d', i), 'bench', 1024, 0, '', '', 0, printf('%032x', i) FROM seq`, n-1)
	if err != nil {
		b.Fatal(err)
	}
}

// catalogSizes are the catalog sizes compared; the large one is skipped
// with -short.
var catalogSizes = []int{1000, 1000000}

// BenchmarkCatalog measures lookup, one page of the public listing, and
// put (insert and replace, with the owner's usage read in the same
// transaction) at each catalog size.
func BenchmarkCatalog(b *testing.B) {
	ctx := context.Background()
	for _, n := range catalogSizes {
		if n > 100000 && testing.Short() {
			continue
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			c := newCatalog(b)
			start := time.Now()
			fillBench(b, c, n)
			b.Logf("filled %d entries in %v", n, time.Since(start))
			allow := func(*files.Record, int64) error { return nil }
			b.Run("lookup", func(b *testing.B) {
				i := 0
				for b.Loop() {
					if _, err := c.Lookup(ctx, fmt.Sprintf("file-%08d", i%n)); err != nil {
						b.Fatal(err)
					}
					i += 7919
				}
			})
			b.Run("list-page", func(b *testing.B) {
				for b.Loop() {
					page, err := c.ListPublic(ctx, files.ListQuery{After: &files.File{Name: "file-00000500"}, Limit: 1000})
					if err != nil || len(page) == 0 {
						b.Fatal(len(page), err)
					}
				}
			})
			b.Run("put", func(b *testing.B) {
				i := 0
				for b.Loop() {
					r := files.Record{File: files.File{Name: fmt.Sprintf("new-%d", i%100), Owner: "bench", Size: 10, Uploaded: time.Now()},
						Blob: fmt.Sprintf("%032x", n+i)}
					if _, err := c.Put(ctx, r, allow); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		})
	}
}
