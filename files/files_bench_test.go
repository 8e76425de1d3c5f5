package files

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/sshelf/sshelf/internal/testkit"
)

// benchEnv is newEnv for benchmarks: a catalog and blobs in b's temporary
// directory.
func benchEnv(b *testing.B) *testEnv {
	dir := b.TempDir()
	st := NewStoresForTest(b, dir)
	svc := NewService(Config{Catalog: st.Catalog, Blobs: st.Blobs, SpoolDir: filepath.Join(dir, "tmp"), Hasher: testkit.CheapHasher(4)})
	return &testEnv{svc: svc, dir: dir, blobs: st.Blobs, catalog: st.Catalog, blobFile: st.BlobPath}
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
