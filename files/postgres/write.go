package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sshelf/sshelf/files"
)

const usageSQL = `SELECT coalesce((SELECT bytes FROM file_usage WHERE owner = $1), 0)`

const upsertSQL = `INSERT INTO files (` + recordColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
	ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, size = excluded.size,
	hidden = excluded.hidden, password_hash = excluded.password_hash, sha256 = excluded.sha256,
	uploaded = excluded.uploaded, blob = excluded.blob`

func queueUpsert(b *pgx.Batch, r files.Record) {
	b.Queue(upsertSQL, r.Name, r.Owner, r.Size, r.Hidden, r.PasswordHash, r.SHA256, r.Uploaded.UnixNano(), r.Blob)
}

// queueDrop puts the blob of a record being replaced or deleted on the
// garbage list, stamped with this server's clock as the SQLite catalog
// does: Garbage is asked with a time of a server's clock, so the servers
// of a cluster need clocks that agree to well within the grace period.
func queueDrop(b *pgx.Batch, blob string) {
	b.Queue(`INSERT INTO garbage (blob, dropped) VALUES ($1, $2) ON CONFLICT (blob) DO NOTHING`,
		blob, time.Now().UnixNano())
}

// lockAndLookup takes the locks for owner and names, then reads the
// records of names (nil where missing) and, if withUsage, owner's usage:
// one round trip.
func lockAndLookup(ctx context.Context, tx pgx.Tx, owner string, withUsage bool, names ...string) ([]*files.Record, int64, error) {
	b := &pgx.Batch{}
	locks := queueLocks(b, owner, names...)
	for _, n := range names {
		b.Queue(lookupSQL, n)
	}
	if withUsage {
		b.Queue(usageSQL, owner)
	}
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	if err := awaitLocks(br, locks); err != nil {
		return nil, 0, err
	}
	recs := make([]*files.Record, len(names))
	for i := range names {
		r, err := scanRecord(br.QueryRow())
		switch {
		case err == nil:
			recs[i] = &r
		case !errors.Is(err, files.ErrNotFound):
			return nil, 0, err
		}
	}
	var used int64
	if withUsage {
		if err := br.QueryRow().Scan(&used); err != nil {
			return nil, 0, err
		}
	}
	return recs, used, br.Close()
}

// send runs the statements queued in b.
func send(ctx context.Context, tx pgx.Tx, b *pgx.Batch) error {
	return tx.SendBatch(ctx, b).Close()
}

// errUnstorable refuses a name PostgreSQL cannot store (see storable).
var errUnstorable = errors.New("name is not text PostgreSQL can store (invalid UTF-8 or NUL)")

// Put stores rec, replacing a record of the same name if check allows.
// check runs under the locks of rec's owner and name, so it sees the
// committed record and usage, and no other instance's Put of that name,
// or for that owner, can slip in before the commit.
func (c *Catalog) Put(ctx context.Context, rec files.Record, check func(*files.Record, int64) error) (*files.Record, error) {
	if !storable(rec.Name) || !storable(rec.Owner) {
		return nil, fmt.Errorf("catalog put %q: %w", rec.Name, errUnstorable)
	}
	var replaced *files.Record
	err := c.write(ctx, func(tx pgx.Tx) error {
		recs, used, err := lockAndLookup(ctx, tx, rec.Owner, true, rec.Name)
		if err != nil {
			return err
		}
		old := recs[0]
		if err := check(old, used); err != nil {
			return err
		}
		replaced = old
		b := &pgx.Batch{}
		if old != nil && old.Blob != rec.Blob {
			queueDrop(b, old.Blob)
		}
		queueUpsert(b, rec)
		return send(ctx, tx, b)
	})
	if err != nil {
		return nil, fmt.Errorf("catalog put %q: %w", rec.Name, err)
	}
	return replaced, nil
}

// lockExisting locks name and returns its record, or files.ErrNotFound.
func lockExisting(ctx context.Context, tx pgx.Tx, name string) (files.Record, error) {
	recs, _, err := lockAndLookup(ctx, tx, "", false, name)
	if err != nil {
		return files.Record{}, err
	}
	if recs[0] == nil {
		return files.Record{}, files.ErrNotFound
	}
	return *recs[0], nil
}

// Update applies fn to the record named name, under the name's lock.
func (c *Catalog) Update(ctx context.Context, name string, fn func(*files.Record) error) error {
	if !storable(name) {
		return fmt.Errorf("catalog update %q: %w", name, files.ErrNotFound)
	}
	err := c.write(ctx, func(tx pgx.Tx) error {
		r, err := lockExisting(ctx, tx, name)
		if err != nil {
			return err
		}
		old := r.Blob
		if err := fn(&r); err != nil {
			return err
		}
		r.Name = name
		if !storable(r.Owner) {
			return errUnstorable
		}
		b := &pgx.Batch{}
		if r.Blob != old {
			queueDrop(b, old)
		}
		queueUpsert(b, r)
		return send(ctx, tx, b)
	})
	if err != nil {
		return fmt.Errorf("catalog update %q: %w", name, err)
	}
	return nil
}

// Delete removes the record named name if check allows.
func (c *Catalog) Delete(ctx context.Context, name string, check func(files.Record) error) (files.Record, error) {
	if !storable(name) {
		return files.Record{}, fmt.Errorf("catalog delete %q: %w", name, files.ErrNotFound)
	}
	var deleted files.Record
	err := c.write(ctx, func(tx pgx.Tx) error {
		r, err := lockExisting(ctx, tx, name)
		if err != nil {
			return err
		}
		if err := check(r); err != nil {
			return err
		}
		deleted = r
		b := &pgx.Batch{}
		queueDrop(b, r.Blob)
		b.Queue(`DELETE FROM files WHERE name = $1`, name)
		return send(ctx, tx, b)
	})
	if err != nil {
		return files.Record{}, fmt.Errorf("catalog delete %q: %w", name, err)
	}
	return deleted, nil
}

// Rename moves a record from one name to another if check allows, under
// the locks of both names.
func (c *Catalog) Rename(ctx context.Context, from, to string, check func(files.Record, *files.Record) error) (*files.Record, error) {
	if !storable(from) {
		return nil, fmt.Errorf("catalog rename %q to %q: %w", from, to, files.ErrNotFound)
	}
	if !storable(to) {
		return nil, fmt.Errorf("catalog rename %q to %q: %w", from, to, errUnstorable)
	}
	var replaced *files.Record
	err := c.write(ctx, func(tx pgx.Tx) error {
		replaced = nil
		recs, _, err := lockAndLookup(ctx, tx, "", false, from, to)
		if err != nil {
			return err
		}
		src, dst := recs[0], recs[1]
		if src == nil {
			return files.ErrNotFound
		}
		if err := check(*src, dst); err != nil {
			return err
		}
		if from == to {
			return nil
		}
		replaced = dst
		b := &pgx.Batch{}
		if dst != nil {
			queueDrop(b, dst.Blob)
			b.Queue(`DELETE FROM files WHERE name = $1`, to)
		}
		b.Queue(`UPDATE files SET name = $1 WHERE name = $2`, to, from)
		return send(ctx, tx, b)
	})
	if err != nil {
		return nil, fmt.Errorf("catalog rename %q to %q: %w", from, to, err)
	}
	return replaced, nil
}
