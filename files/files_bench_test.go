package files

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/sqlitedb"
	"github.com/sshelf/sshelf/internal/testkit"
)

// benchEnv is newEnv for benchmarks: a catalog and blobs in b's temporary
// directory.
func benchEnv(b *testing.B) *testEnv {
	ctx := context.Background()
	dir := b.TempDir()
	db, err := sqlitedb.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	cat, err := NewSQLiteCatalog(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	blobs, err := NewDiskBlobs(dir)
	if err != nil {
		b.Fatal(err)
	}
	svc := NewService(Config{Catalog: cat, Blobs: blobs, Hasher: testkit.CheapHasher(4)})
	return &testEnv{svc: svc, dir: dir, blobs: blobs, catalog: cat}
}

// benchContent is the size moved per operation of the streaming benchmarks.
const benchContent = 64 << 20

// BenchmarkUploadStream measures an upload written in the 256 KiB chunks
// the exec transport uses: hashing as it is written, the blob write, the
// commit. The hash adds no second pass over the data.
func BenchmarkUploadStream(b *testing.B) {
	e := benchEnv(b)
	content := testkit.RandBytes(b, benchContent)
	ctx := context.Background()
	b.SetBytes(benchContent)
	b.ReportAllocs()
	for b.Loop() {
		up, err := e.svc.Create(ctx, "alice", PutOptions{Name: "big", Size: -1})
		if err != nil {
			b.Fatal(err)
		}
		for off := 0; off < len(content); off += 256 << 10 {
			if _, err := up.Write(content[off : off+256<<10]); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := up.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDownloadStream measures a download read in order, checked
// against its SHA-256 as it streams.
func BenchmarkDownloadStream(b *testing.B) {
	e := benchEnv(b)
	content := testkit.RandBytes(b, benchContent)
	ctx := context.Background()
	if _, err := e.put("alice", PutOptions{Name: "big", Size: -1}, content); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 256<<10)
	b.SetBytes(benchContent)
	b.ReportAllocs()
	for b.Loop() {
		d, err := e.svc.Open(ctx, "alice", "big", "")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{d}, buf); err != nil {
			b.Fatal(err)
		}
		d.Close()
	}
}

// fillBench gives the catalog n public files of "bench" in one statement,
// as scripts/bench does.
func fillBench(b *testing.B, c *SQLiteCatalog, n int) {
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
			c := benchEnv(b).catalog
			start := time.Now()
			fillBench(b, c, n)
			b.Logf("filled %d entries in %v", n, time.Since(start))
			allow := func(*Record, int64) error { return nil }
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
					page, err := c.ListPublic(ctx, "file-00000500", 1000)
					if err != nil || len(page) == 0 {
						b.Fatal(len(page), err)
					}
				}
			})
			b.Run("put", func(b *testing.B) {
				i := 0
				for b.Loop() {
					r := Record{File: File{Name: fmt.Sprintf("new-%d", i%100), Owner: "bench", Size: 10, Uploaded: time.Now()},
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
