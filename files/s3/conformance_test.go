package s3store_test

import (
	"testing"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/filestest"
)

func newBlobs(t *testing.T) files.Blobs { return newStore(t) }

// large is a stream of three parts, the last short.
const large = 2*partSize + 1<<20 + 17

func TestConformance(t *testing.T) {
	t.Parallel()
	filestest.TestBlobs(t, newBlobs)
}

func TestStreamerConformance(t *testing.T) {
	t.Parallel()
	filestest.TestStreamer(t, newBlobs, large)
}

func TestSharedStoreConformance(t *testing.T) {
	t.Parallel()
	filestest.TestSharedStore(t, newBlobs, large)
}
