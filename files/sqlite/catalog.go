// Package sqlite is the embedded files.Catalog: one SQLite table, one row
// per file, in the database the accounts share.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/internal/sqlcat"
	"github.com/sshelf/sshelf/internal/sqlitedb"
)

// Catalog is the embedded catalog.
type Catalog struct {
	db *sql.DB
	// w queues this process's write transactions (see sqlitedb.Writer).
	w *sqlitedb.Writer
}

var _ files.Catalog = (*Catalog)(nil)

const catalogSchema = `
CREATE TABLE IF NOT EXISTS files (
	name          TEXT PRIMARY KEY,
	owner         TEXT NOT NULL,
	size          INTEGER NOT NULL,
	hidden        INTEGER NOT NULL,
	password_hash TEXT NOT NULL,
	sha256        TEXT NOT NULL,
	uploaded      INTEGER NOT NULL,
	blob          TEXT NOT NULL UNIQUE
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS files_public ON files(name) WHERE hidden = 0;
CREATE INDEX IF NOT EXISTS files_owner ON files(owner, size);
-- One index per order of ListPublic, so a page reads an index range
-- instead of sorting the table.
CREATE INDEX IF NOT EXISTS files_public_size ON files(size, name) WHERE hidden = 0;
CREATE INDEX IF NOT EXISTS files_public_uploaded ON files(uploaded, name) WHERE hidden = 0;
-- Blobs that records dropped (replaced, deleted), in the transaction that
-- dropped them, until the Service removes them after a grace period.
CREATE TABLE IF NOT EXISTS garbage (
	blob    TEXT PRIMARY KEY,
	dropped INTEGER NOT NULL -- unix nanoseconds
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS garbage_dropped ON garbage(dropped);
`

// usageSchema keeps each owner's total size in file_usage, maintained by
// triggers in the transaction of every change to files (whoever makes it:
// this process, `sshelf user ...`, a migration). Summing the owner's sizes
// on each put instead costs time in proportion to the owner's file count:
// about 25 ms at 100,000 files, on every upload.
const usageSchema = `
CREATE TABLE file_usage (
	owner TEXT PRIMARY KEY,
	bytes INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER files_usage_insert AFTER INSERT ON files BEGIN
	INSERT INTO file_usage (owner, bytes) VALUES (NEW.owner, NEW.size)
		ON CONFLICT(owner) DO UPDATE SET bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER files_usage_delete AFTER DELETE ON files BEGIN
	UPDATE file_usage SET bytes = bytes - OLD.size WHERE owner = OLD.owner;
END;
CREATE TRIGGER files_usage_update AFTER UPDATE OF owner, size ON files BEGIN
	UPDATE file_usage SET bytes = bytes - OLD.size WHERE owner = OLD.owner;
	INSERT INTO file_usage (owner, bytes) VALUES (NEW.owner, NEW.size)
		ON CONFLICT(owner) DO UPDATE SET bytes = bytes + excluded.bytes;
END;
INSERT INTO file_usage (owner, bytes) SELECT owner, SUM(size) FROM files WHERE true GROUP BY owner;
`

// New creates the catalog's tables in db if needed.
func New(ctx context.Context, db *sql.DB) (*Catalog, error) {
	if _, err := db.ExecContext(ctx, catalogSchema); err != nil {
		return nil, fmt.Errorf("catalog schema: %w", err)
	}
	c := &Catalog{db: db, w: sqlitedb.NewWriter(db)}
	if err := c.ensureUsage(ctx); err != nil {
		return nil, fmt.Errorf("catalog schema: %w", err)
	}
	return c, nil
}

// ensureUsage creates file_usage and its triggers, filled from the files
// already there, in one write transaction: another process opening the
// same database at once waits and then finds them made.
func (c *Catalog) ensureUsage(ctx context.Context) error {
	return c.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'file_usage'`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, usageSchema)
		return err
	})
}

// usage reads the bytes owner's files hold.
func usage(ctx context.Context, q querier, owner string) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT bytes FROM file_usage WHERE owner = ?`, owner).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

const recordColumns = sqlcat.RecordColumns

func scanRecord(row sqlcat.Scanner) (files.Record, error) {
	return sqlcat.ScanRecord(row, sql.ErrNoRows)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func lookup(ctx context.Context, q querier, name string) (files.Record, error) {
	return scanRecord(q.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM files WHERE name = ?`, name))
}

// Lookup returns the record named name.
func (c *Catalog) Lookup(ctx context.Context, name string) (files.Record, error) {
	return lookup(ctx, c.db, name)
}

// tx runs fn in a write transaction. SQLite's "database or disk is full"
// becomes files.ErrNoSpace, which the rules act on (rule 9) and a user
// reads as "no space left".
func (c *Catalog) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	err := c.w.Tx(ctx, fn)
	if err != nil && sqlitedb.IsFull(err) {
		return fmt.Errorf("%w (%w)", files.ErrNoSpace, err)
	}
	return err
}

// drop puts the blob of a record being replaced or deleted on the garbage
// list.
func drop(ctx context.Context, tx *sql.Tx, blob string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO garbage (blob, dropped) VALUES (?, ?) ON CONFLICT(blob) DO NOTHING`,
		blob, time.Now().UnixNano())
	return err
}

func upsert(ctx context.Context, tx *sql.Tx, r files.Record) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO files (`+recordColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, size = excluded.size,
		hidden = excluded.hidden, password_hash = excluded.password_hash, sha256 = excluded.sha256,
		uploaded = excluded.uploaded, blob = excluded.blob`,
		r.Name, r.Owner, r.Size, r.Hidden, r.PasswordHash, r.SHA256, r.Uploaded.UnixNano(), r.Blob)
	return err
}

// Put stores rec, replacing a record of the same name if check allows.
func (c *Catalog) Put(ctx context.Context, rec files.Record, check func(*files.Record, int64) error) (*files.Record, error) {
	var replaced *files.Record
	err := c.tx(ctx, func(tx *sql.Tx) error {
		var old *files.Record
		r, err := lookup(ctx, tx, rec.Name)
		switch {
		case err == nil:
			old = &r
		case !errors.Is(err, files.ErrNotFound):
			return err
		}
		used, err := usage(ctx, tx, rec.Owner)
		if err != nil {
			return err
		}
		if err := check(old, used); err != nil {
			return err
		}
		replaced = old
		if old != nil && old.Blob != rec.Blob {
			if err := drop(ctx, tx, old.Blob); err != nil {
				return err
			}
		}
		return upsert(ctx, tx, rec)
	})
	if err != nil {
		return nil, fmt.Errorf("catalog put %q: %w", rec.Name, err)
	}
	return replaced, nil
}

// Update applies fn to the record named name.
func (c *Catalog) Update(ctx context.Context, name string, fn func(*files.Record) error) error {
	err := c.tx(ctx, func(tx *sql.Tx) error {
		r, err := lookup(ctx, tx, name)
		if err != nil {
			return err
		}
		old := r.Blob
		if err := fn(&r); err != nil {
			return err
		}
		r.Name = name
		if r.Blob != old {
			if err := drop(ctx, tx, old); err != nil {
				return err
			}
		}
		return upsert(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("catalog update %q: %w", name, err)
	}
	return nil
}

// Delete removes the record named name if check allows.
func (c *Catalog) Delete(ctx context.Context, name string, check func(files.Record) error) (files.Record, error) {
	var deleted files.Record
	err := c.tx(ctx, func(tx *sql.Tx) error {
		r, err := lookup(ctx, tx, name)
		if err != nil {
			return err
		}
		if err := check(r); err != nil {
			return err
		}
		deleted = r
		if err := drop(ctx, tx, r.Blob); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM files WHERE name = ?`, name)
		return err
	})
	if err != nil {
		return files.Record{}, fmt.Errorf("catalog delete %q: %w", name, err)
	}
	return deleted, nil
}

// Rename moves a record from one name to another if check allows.
func (c *Catalog) Rename(ctx context.Context, from, to string, check func(files.Record, *files.Record) error) (*files.Record, error) {
	var replaced *files.Record
	err := c.tx(ctx, func(tx *sql.Tx) error {
		src, err := lookup(ctx, tx, from)
		if err != nil {
			return err
		}
		var dst *files.Record
		r, err := lookup(ctx, tx, to)
		switch {
		case err == nil:
			dst = &r
		case !errors.Is(err, files.ErrNotFound):
			return err
		}
		if err := check(src, dst); err != nil {
			return err
		}
		if from == to {
			return nil
		}
		replaced = dst
		if dst != nil {
			if err := drop(ctx, tx, dst.Blob); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM files WHERE name = ?`, to); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE files SET name = ? WHERE name = ?`, to, from)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("catalog rename %q to %q: %w", from, to, err)
	}
	return replaced, nil
}

// OwnedBy lists the names of owner's files.
func (c *Catalog) OwnedBy(ctx context.Context, owner string) ([]string, error) {
	return sqlitedb.Strings(ctx, c.db, `SELECT name FROM files WHERE owner = ? ORDER BY name`, owner)
}

// HasBlob reports whether a record refers to key or key is on the
// garbage list.
func (c *Catalog) HasBlob(ctx context.Context, key string) (bool, error) {
	var n int
	err := c.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM files WHERE blob = ?1)
		+ (SELECT COUNT(*) FROM garbage WHERE blob = ?1)`, key).Scan(&n)
	return n > 0, err
}

// Garbage lists up to limit blobs dropped at or before before, oldest first.
func (c *Catalog) Garbage(ctx context.Context, before time.Time, limit int) ([]string, error) {
	keys, err := sqlitedb.Strings(ctx, c.db, `SELECT blob FROM garbage WHERE dropped <= ?
		ORDER BY dropped LIMIT ?`, before.UnixNano(), limit)
	if err != nil {
		return nil, fmt.Errorf("catalog garbage: %w", err)
	}
	return keys, nil
}

// Collected takes key off the garbage list.
func (c *Catalog) Collected(ctx context.Context, key string) error {
	err := c.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM garbage WHERE blob = ?`, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("catalog collected %s: %w", key, err)
	}
	return nil
}

// ForgetGarbage empties the garbage list, for a copy of the catalog whose
// store holds none of those blobs (a backup).
func (c *Catalog) ForgetGarbage(ctx context.Context) error {
	err := c.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM garbage`)
		return err
	})
	if err != nil {
		return fmt.Errorf("catalog forget garbage: %w", err)
	}
	return nil
}

// Usage returns the bytes owner's files hold (see usageSchema).
func (c *Catalog) Usage(ctx context.Context, owner string) (int64, error) {
	return usage(ctx, c.db, owner)
}

// Records pages through every record, hidden ones included, by name.
func (c *Catalog) Records(ctx context.Context, after string, limit int) ([]files.Record, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT `+recordColumns+` FROM files
		WHERE name > ? ORDER BY name LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("catalog records: %w", err)
	}
	defer rows.Close()
	var out []files.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("catalog records: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
