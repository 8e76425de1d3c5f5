package sqlite

import (
	"testing"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/filestest"
)

func TestConformance(t *testing.T) {
	filestest.TestCatalog(t, func(t *testing.T) files.Catalog { return newCatalog(t) })
}
