package files

import (
	"testing"

	"github.com/sshelf/sshelf/internal/throttle"
)

// StoresForTest are the stores this package's tests run on. The tests of
// files cannot import the implementations (those import files), so
// stores_test.go, in package files_test, sets NewStoresForTest in its init.
type StoresForTest struct {
	Catalog  Catalog
	Blobs    Blobs
	Attempts throttle.Store
	// BlobPath is where a committed blob lives, for tests that damage one.
	BlobPath func(key string) (string, error)
}

// NewStoresForTest makes stores in dir, a data directory of tb's.
var NewStoresForTest func(tb testing.TB, dir string) StoresForTest
