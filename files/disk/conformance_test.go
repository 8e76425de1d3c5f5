package disk

import (
	"testing"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/filestest"
)

func TestConformance(t *testing.T) {
	filestest.TestBlobs(t, func(t *testing.T) files.Blobs { return newBlobs(t, t.TempDir()) })
}
