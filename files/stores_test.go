package files_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/disk"
	"github.com/sshelf/sshelf/files/filestest"
	"github.com/sshelf/sshelf/files/postgres"
	s3store "github.com/sshelf/sshelf/files/s3"
	"github.com/sshelf/sshelf/files/sqlite"
	"github.com/sshelf/sshelf/internal/pgtest"
	"github.com/sshelf/sshelf/internal/s3test"
	"github.com/sshelf/sshelf/internal/sqlitedb"
	"github.com/sshelf/sshelf/internal/throttle/pgthrottle"
	"github.com/sshelf/sshelf/internal/throttle/sqlitethrottle"
)

// envStores chooses the stores the rules' tests run on: "" or "embedded"
// for SQLite and the disk, "postgres" for the PostgreSQL catalog over the
// disk, "cluster" for a cluster's: PostgreSQL and an S3 bucket.
const envStores = "SSHELF_TEST_STORES"

func init() {
	switch s := os.Getenv(envStores); s {
	case "", "embedded":
		files.NewStoresForTest = embeddedStores
	case "postgres":
		files.NewStoresForTest = postgresStores
	case "cluster":
		files.NewStoresForTest = clusterStores
	default:
		panic(envStores + "=" + s + ": want embedded, postgres or cluster")
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
// and the throttle counts stay on the disk.
func postgresStores(tb testing.TB, dir string) files.StoresForTest {
	tb.Helper()
	return diskStores(tb, dir, postgresCatalog(tb, newPool(tb)), sqliteDB(tb, dir))
}

// clusterStores are a cluster's: the catalog and the throttle counts in a
// new PostgreSQL database, the contents in a new S3 bucket.
func clusterStores(tb testing.TB, dir string) files.StoresForTest {
	tb.Helper()
	ctx := context.Background()
	pool := newPool(tb)
	attempts, err := pgthrottle.Open(ctx, pool)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := s3test.Bucket(tb)
	blobs, err := s3store.Open(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return files.StoresForTest{
		Catalog: postgresCatalog(tb, pool), Blobs: blobs, Attempts: attempts,
		BlobPath: func(key string) (string, error) { return s3test.ObjectPath(tb, cfg, key) },
	}
}

func newPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	return pgtest.Pool(tb, pgtest.Database(tb))
}

func postgresCatalog(tb testing.TB, pool *pgxpool.Pool) *postgres.Catalog {
	tb.Helper()
	cat, err := postgres.New(context.Background(), pool)
	if err != nil {
		tb.Fatal(err)
	}
	return cat
}

// The stores together keep a dropped blob for its readers until the
// garbage list hands it out.
func TestStoresDeferredRemoval(t *testing.T) {
	st := files.NewStoresForTest(t, t.TempDir())
	filestest.TestDeferredRemoval(t, st.Catalog, st.Blobs)
}
