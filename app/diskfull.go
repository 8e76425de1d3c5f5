package app

import (
	"context"
	"database/sql"
	"log/slog"

	"github.com/sshelf/sshelf/internal/diskspace"
	"github.com/sshelf/sshelf/internal/sqlitedb"
)

// The disk reserve (internal/diskspace) sits beside the catalog, whose
// writes it is for: on a full disk SQLite can neither open its log nor
// write a delete to it. Deleting and hiding give it up and try again
// (files.Service), so does opening the catalog at start-up and each step
// of `user del`; it is made again after a delete once the disk has room.
const (
	ReserveFile = "sshelf.db-reserve"
	ReserveSize = 8 << 20 // a WAL's worth of deletes (SQLite checkpoints at 4 MiB)
)

// openDB opens the catalog; on a full disk it gives up the reserve and
// tries again, so that the server starts and lets users delete.
func openDB(ctx context.Context, path string, reserve *diskspace.Reserve, log *slog.Logger) (*sql.DB, error) {
	db, err := sqlitedb.Open(ctx, path)
	if err == nil || !sqlitedb.IsFull(err) {
		return db, err
	}
	if rerr := reserve.Release(); rerr != nil {
		log.Error("disk full", "op", "open catalog", "err", rerr)
		return nil, err
	}
	log.Warn("disk full: released the disk reserve", "op", "open catalog")
	return sqlitedb.Open(ctx, path)
}

// retryOnFull runs fn; if the catalog found the disk full, it gives up
// the reserve and runs fn once more.
func (a *App) retryOnFull(what string, fn func() error) error {
	err := fn()
	if err == nil || !sqlitedb.IsFull(err) || a.st.embedded == nil {
		return err
	}
	if rerr := a.st.embedded.reserve.Release(); rerr != nil {
		a.opt.Logger.Error("disk full", "op", what, "err", rerr)
		return err
	}
	a.opt.Logger.Warn("disk full: released the disk reserve", "op", what)
	return fn()
}
