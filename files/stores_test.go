package files_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/disk"
	"github.com/sshelf/sshelf/files/filestest"
	"github.com/sshelf/sshelf/files/sqlite"
	"github.com/sshelf/sshelf/internal/sqlitedb"
	"github.com/sshelf/sshelf/internal/throttle/sqlitethrottle"
)

// The rules' tests run on the embedded stores: SQLite and the disk.
func init() { files.NewStoresForTest = embeddedStores }

func embeddedStores(tb testing.TB, dir string) files.StoresForTest {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlitedb.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	cat, err := sqlite.New(ctx, db)
	if err != nil {
		tb.Fatal(err)
	}
	blobs, err := disk.New(dir)
	if err != nil {
		tb.Fatal(err)
	}
	attempts, err := sqlitethrottle.Open(ctx, db)
	if err != nil {
		tb.Fatal(err)
	}
	return files.StoresForTest{Catalog: cat, Blobs: blobs, Attempts: attempts, BlobPath: blobs.Path}
}

// The embedded stores together keep a dropped blob for its readers until
// the garbage list hands it out.
func TestEmbeddedDeferredRemoval(t *testing.T) {
	st := embeddedStores(t, t.TempDir())
	filestest.TestDeferredRemoval(t, st.Catalog, st.Blobs)
}
