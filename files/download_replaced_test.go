package files

import (
	"context"
	"testing"
)

// replacingBlobs replaces the file once, just before the first Open goes
// through, as a concurrent upload may between a download's lookup and its
// open; the disk store removes the old content at once.
type replacingBlobs struct {
	Blobs
	replace func()
	done    bool
}

func (b *replacingBlobs) Open(ctx context.Context, key string) (BlobReader, error) {
	if !b.done {
		b.done = true
		b.replace()
	}
	return b.Blobs.Open(ctx, key)
}

// A download whose file is replaced between its lookup and its open reads
// the new version whole, instead of failing on the removed old content.
func TestDownloadOfAFileReplacedMeanwhile(t *testing.T) {
	var rb *replacingBlobs
	e := newEnv(t, func(c *Config, _ string) {
		rb = &replacingBlobs{Blobs: c.Blobs}
		c.Blobs = rb
	})
	rb.done = true
	e.mustPut(t, "alice", PutOptions{Name: "f"}, []byte("old version"))
	rb.done = false
	rb.replace = func() { e.mustPut(t, "alice", PutOptions{Name: "f"}, []byte("new version")) }
	wantContent(t, "download", e.mustGet(t, "bob", "f", ""), []byte("new version"))
}
