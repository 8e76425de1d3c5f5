package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/disk"
	"github.com/sshelf/sshelf/files/sqlite"
	"github.com/sshelf/sshelf/internal/sqlitedb"
)

// BackupResult says what Backup wrote.
type BackupResult struct {
	Files  int64 // file records in the backup
	Bytes  int64 // their sizes
	Linked int   // contents hard-linked (over every snapshot taken)
	Copied int   // contents copied (idem)
	// Dropped names files whose content was replaced or removed between
	// the last catalog snapshot and its copy: they are not in the backup.
	Dropped []string
}

// backupAttempts bounds the snapshots Backup takes before it gives up on
// the files that keep changing under it.
const backupAttempts = 5

// Backup writes a consistent copy of the data directory to dest, which
// must not exist or be empty, while a server may be running on it: the
// result is a data directory `sshelf serve --data DEST` starts from.
//
// The catalog is copied with SQLite's VACUUM INTO, a snapshot; then each
// content the snapshot refers to is hard-linked (or copied) into dest. The
// server removes a file's old content as soon as it is replaced, so a file
// replaced after the snapshot may have lost the content the snapshot
// names: then the snapshot is taken again, keeping the contents already
// copied. If after backupAttempts snapshots some contents are still gone,
// those files are dropped from the backup and named in the result.
func (a *App) Backup(ctx context.Context, dest string) (BackupResult, error) {
	return a.backup(ctx, dest, nil)
}

// backup is Backup with a hook run after each snapshot, for tests.
func (a *App) backup(ctx context.Context, dest string, afterSnapshot func(attempt int)) (BackupResult, error) {
	fail := func(err error) (BackupResult, error) {
		return BackupResult{}, fmt.Errorf("backup to %s: %w", dest, err)
	}
	if a.st.embedded == nil {
		return fail(errNotEmbedded("sshelf backup"))
	}
	if err := emptyDir(dest); err != nil {
		return fail(err)
	}
	dstBlobs, err := disk.New(dest)
	if err != nil {
		return fail(err)
	}
	dbPath := filepath.Join(dest, "sshelf.db")
	var (
		snap  *sql.DB
		cat   *sqlite.Catalog
		res   BackupResult
		gone  []files.Record
		close = func() {
			if snap != nil {
				snap.Close()
				snap = nil
			}
		}
	)
	defer close()
	for attempt := 1; attempt <= backupAttempts; attempt++ {
		close()
		if snap, cat, err = a.snapshot(ctx, dbPath); err != nil {
			return fail(err)
		}
		if afterSnapshot != nil {
			afterSnapshot(attempt)
		}
		res.Files, res.Bytes = 0, 0
		if gone, err = a.copyBlobs(ctx, cat, dstBlobs, &res); err != nil {
			return fail(err)
		}
		if len(gone) == 0 {
			break
		}
	}
	for _, r := range gone {
		_, err := cat.Delete(ctx, r.Name, func(cur files.Record) error {
			if cur.Blob != r.Blob {
				return files.ErrConflict
			}
			return nil
		})
		if err != nil {
			return fail(err)
		}
		res.Dropped = append(res.Dropped, r.Name)
	}
	// The snapshot's garbage list names blobs the backup does not hold.
	if err := cat.ForgetGarbage(ctx); err != nil {
		return fail(err)
	}
	// Contents copied for an earlier snapshot that the last one no longer
	// refers to.
	err = dstBlobs.Keys(ctx, func(key string) error {
		ok, err := cat.HasBlob(ctx, key)
		if err == nil && !ok {
			err = dstBlobs.Remove(ctx, key)
		}
		return err
	})
	if err != nil {
		return fail(err)
	}
	if err := dstBlobs.Sync(); err != nil {
		return fail(err)
	}
	if _, err := snap.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fail(fmt.Errorf("checkpoint %s: %w", dbPath, err))
	}
	close()
	if err := copyHostKeys(filepath.Join(a.opt.Data, "hostkeys"), filepath.Join(dest, "hostkeys")); err != nil {
		return fail(err)
	}
	for _, p := range []string{dbPath, dest} {
		if err := syncPath(p); err != nil {
			return fail(err)
		}
	}
	return res, nil
}

// snapshot writes the catalog as it is now to path and opens the copy.
func (a *App) snapshot(ctx context.Context, path string) (*sql.DB, *sqlite.Catalog, error) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
	}
	// VACUUM INTO takes an empty file: made first, so it is owner-only
	// from the start (the catalog holds password hashes).
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, err
	}
	f.Close()
	if _, err := a.st.embedded.db.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return nil, nil, fmt.Errorf("snapshot of the catalog: %w", err)
	}
	db, err := sqlitedb.Open(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	cat, err := sqlite.New(ctx, db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, cat, nil
}

// copyBlobs puts the content of every record of cat into dst, counting in
// res; it returns the records whose content is gone from the source.
func (a *App) copyBlobs(ctx context.Context, cat *sqlite.Catalog, dst *disk.Store, res *BackupResult) ([]files.Record, error) {
	var gone []files.Record
	const page = 500
	after := ""
	for {
		recs, err := cat.Records(ctx, after, page)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			how, err := a.st.embedded.disk.CopyTo(ctx, r.Blob, dst)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				gone = append(gone, r)
				continue
			case err != nil:
				return nil, fmt.Errorf("%q: %w", r.Name, err)
			case how == disk.BlobLinked:
				res.Linked++
			case how == disk.BlobCopied:
				res.Copied++
			}
			res.Files++
			res.Bytes += r.Size
		}
		if len(recs) < page {
			return gone, nil
		}
		after = recs[len(recs)-1].Name
	}
}

// emptyDir makes dir, or checks that it is an empty directory.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return os.MkdirAll(dir, 0o700)
	case err != nil:
		return err
	case len(entries) > 0:
		return fmt.Errorf("%s is not empty", dir)
	}
	return nil
}

// copyHostKeys copies the server's host keys, so the restored server
// presents the same keys and clients' known_hosts stay valid. A server
// that never started has none: the restored one makes new ones.
func copyHostKeys(from, to string) error {
	entries, err := os.ReadDir(from)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("host keys: %w", err)
	}
	if err := os.MkdirAll(to, 0o700); err != nil {
		return fmt.Errorf("host keys: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			return fmt.Errorf("host keys: %w", err)
		}
		p := filepath.Join(to, e.Name())
		if err := os.WriteFile(p, b, 0o600); err != nil {
			return fmt.Errorf("host keys: %w", err)
		}
		if err := syncPath(p); err != nil {
			return fmt.Errorf("host keys: %w", err)
		}
	}
	return syncPath(to)
}

// syncPath flushes a file or a directory to disk.
func syncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", p, err)
	}
	return nil
}
