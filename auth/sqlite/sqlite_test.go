package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/auth/authtest"
	"github.com/sshelf/sshelf/auth/sqlite"
	"github.com/sshelf/sshelf/internal/sqlitedb"
)

func TestStore(t *testing.T) {
	t.Parallel()
	authtest.TestStore(t, func(t *testing.T) auth.Store {
		ctx := context.Background()
		db, err := sqlitedb.Open(ctx, filepath.Join(t.TempDir(), "accounts.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := sqlite.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
