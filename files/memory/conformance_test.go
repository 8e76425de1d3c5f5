package memory_test

import (
	"testing"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/disk"
	"github.com/sshelf/sshelf/files/filestest"
	"github.com/sshelf/sshelf/files/memory"
)

func TestConformance(t *testing.T) {
	filestest.TestCatalog(t, func(*testing.T) files.Catalog { return memory.New() })
}

// The catalog keeps a dropped blob known until the garbage list hands it
// out, with a real store beside it (the disk's, in a temporary folder).
func TestDeferredRemoval(t *testing.T) {
	blobs, err := disk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	filestest.TestDeferredRemoval(t, memory.New(), blobs)
}
