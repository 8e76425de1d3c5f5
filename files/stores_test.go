package files_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/disk"
	"github.com/sshelf/sshelf/files/filestest"
	"github.com/sshelf/sshelf/files/postgres"
	"github.com/sshelf/sshelf/files/sqlite"
	"github.com/sshelf/sshelf/internal/pgdb"
	"github.com/sshelf/sshelf/internal/pgtest"
	"github.com/sshelf/sshelf/internal/sqlitedb"
	"github.com/sshelf/sshelf/internal/throttle/sqlitethrottle"
)

// envStores chooses the stores the rules' tests run on: "" or "embedded"
// for SQLite and the disk, "postgres" for the PostgreSQL catalog.
const envStores = "SSHELF_TEST_STORES"

func init() {
	switch s := os.Getenv(envStores); s {
	case "", "embedded":
		files.NewStoresForTest = embeddedStores
	case "postgres":
		files.NewStoresForTest = postgresStores
	default:
		panic(envStores + "=" + s + ": want embedded or postgres")
	}
}

func embeddedStores(tb testing.TB, dir string) files.StoresForTest {
	tb.Helper()
	db := sqliteDB(tb, dir)
	cat, err := sqlite.New(context.Background(), db)
	if err != nil {
		tb.Fatal(err)
	}
	return diskStores(tb, dir, cat, db)
}

func sqliteDB(tb testing.TB, dir string) *sql.DB {
	tb.Helper()
	db, err := sqlitedb.Open(context.Background(), filepath.Join(dir, "catalog.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// diskStores completes cat with blobs on the disk in dir and the
// throttle counters in the SQLite database db.
func diskStores(tb testing.TB, dir string, cat files.Catalog, db *sql.DB) files.StoresForTest {
	tb.Helper()
	blobs, err := disk.New(dir)
	if err != nil {
		tb.Fatal(err)
	}
	attempts, err := sqlitethrottle.Open(context.Background(), db)
	if err != nil {
		tb.Fatal(err)
	}
	return files.StoresForTest{Catalog: cat, Blobs: blobs, Attempts: attempts, BlobPath: blobs.Path}
}

// postgresStores puts the catalog in a new PostgreSQL database; the blobs
// stay on the disk.
// TODO: the throttle counters in PostgreSQL too, once its store
// (internal/throttle/pgthrottle) exists; SQLite beside the blobs till then.
func postgresStores(tb testing.TB, dir string) files.StoresForTest {
	tb.Helper()
	ctx := context.Background()
	pool, err := pgdb.Open(ctx, pgtest.Database(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	cat, err := postgres.New(ctx, pool)
	if err != nil {
		tb.Fatal(err)
	}
	return diskStores(tb, dir, cat, sqliteDB(tb, dir))
}

// The stores together keep a dropped blob for its readers until the
// garbage list hands it out.
func TestStoresDeferredRemoval(t *testing.T) {
	st := files.NewStoresForTest(t, t.TempDir())
	filestest.TestDeferredRemoval(t, st.Catalog, st.Blobs)
}
