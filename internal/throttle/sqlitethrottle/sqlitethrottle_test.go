package sqlitethrottle_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sshelf/sshelf/internal/sqlitedb"
	"github.com/sshelf/sshelf/internal/throttle"
	"github.com/sshelf/sshelf/internal/throttle/sqlitethrottle"
	"github.com/sshelf/sshelf/internal/throttle/throttletest"
)

// Each handle is a database handle of its own on one file, as another
// process sharing the catalog would have.
func TestStore(t *testing.T) {
	t.Parallel()
	throttletest.TestStore(t, func(t *testing.T) func(t *testing.T) throttle.Store {
		path := filepath.Join(t.TempDir(), "throttle.db")
		return func(t *testing.T) throttle.Store {
			ctx := context.Background()
			db, err := sqlitedb.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			s, err := sqlitethrottle.Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	})
}
