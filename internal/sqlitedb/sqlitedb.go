// Package sqlitedb opens the embedded SQLite database that holds the
// catalog and the accounts, set up for a server and CLI sharing it.
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// The idle connections kept for reuse, and for how long.
const (
	maxIdleConns = 16
	maxIdleTime  = 5 * time.Minute
)

// Open opens (creating if needed) the database at path in WAL mode, so that
// `sshelf user ...` can write while the server runs.
func Open(ctx context.Context, path string) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
		"busy_timeout(10000)",
		"synchronous(FULL)",
		"foreign_keys(ON)",
	} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// Opening a connection runs the pragmas above and parses the schema;
	// database/sql keeps only 2 idle ones by default, so every burst of
	// more than 2 concurrent queries opened and closed connections (a
	// twelfth of the CPU of a flood of logins). Idle ones go after a while.
	db.SetMaxIdleConns(maxIdleConns)
	db.SetConnMaxIdleTime(maxIdleTime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// The catalog holds password hashes: owner-only, whatever the umask.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			db.Close()
			return nil, fmt.Errorf("open database %s: %w", path, err)
		}
	}
	return db, nil
}
