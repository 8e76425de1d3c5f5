package sqlitedb

import (
	"context"
	"path/filepath"
	"testing"
)

// TestCommitsAreDurable: in WAL mode only synchronous=FULL (2) syncs the
// log at each commit; NORMAL would answer an upload whose record a power
// cut could still take back.
func TestCommitsAreDurable(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	var sync int
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || sync != 2 {
		t.Fatalf("journal_mode %s, synchronous %d; want wal and 2 (FULL)", mode, sync)
	}
}
