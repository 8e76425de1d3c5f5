package pgdb_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/sshelf/sshelf/internal/pgdb"
	"github.com/sshelf/sshelf/internal/pgtest"
)

// Instances starting at once run each migration exactly once.
func TestMigrateConcurrent(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	steps := fstest.MapFS{
		"001_table.sql": {Data: []byte("CREATE TABLE things (n int)")},
		"002_row.sql":   {Data: []byte("INSERT INTO things VALUES (1)")},
		"README":        {Data: []byte("not a migration")},
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			pool, err := pgdb.Open(ctx, url)
			if err != nil {
				errs[i] = err
				return
			}
			defer pool.Close()
			errs[i] = pgdb.Migrate(ctx, pool, "test", steps)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	pool, err := pgdb.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM things").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("rows = %d, want 1: a migration ran more than once", n)
	}
}

func TestMigrateBadName(t *testing.T) {
	pool, err := pgdb.Open(context.Background(), pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	err = pgdb.Migrate(context.Background(), pool, "test", fstest.MapFS{"x_y.sql": {Data: []byte("SELECT 1")}})
	if err == nil {
		t.Fatal("a migration without a number was applied")
	}
}

func TestOpenUnreachable(t *testing.T) {
	_, err := pgdb.Open(context.Background(), "postgres://u:secret@127.0.0.1:1/db?connect_timeout=2")
	if err == nil {
		t.Fatal("opened a catalog on a closed port")
	}
	if got := err.Error(); !strings.Contains(got, "127.0.0.1:1") || strings.Contains(got, "secret") {
		t.Fatalf("error %q should name the address and hide the password", got)
	}
}
