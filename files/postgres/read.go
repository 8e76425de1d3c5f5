package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sshelf/sshelf/files"
)

// Usage returns the bytes owner's files hold (kept by the files_usage
// trigger).
func (c *Catalog) Usage(ctx context.Context, owner string) (int64, error) {
	if !storable(owner) {
		return 0, nil
	}
	var n int64
	err := c.run(ctx, func(q querier) error { return q.QueryRow(ctx, usageSQL, owner).Scan(&n) })
	if err != nil {
		return 0, fmt.Errorf("catalog usage of %q: %w", owner, err)
	}
	return n, nil
}

// OwnedBy lists the names of owner's files, in byte order.
func (c *Catalog) OwnedBy(ctx context.Context, owner string) ([]string, error) {
	if !storable(owner) {
		return nil, nil
	}
	names, err := c.strings(ctx, `SELECT name FROM files WHERE owner = $1 ORDER BY name`, owner)
	if err != nil {
		return nil, fmt.Errorf("catalog files of %q: %w", owner, err)
	}
	return names, nil
}

// HasBlob reports whether a record refers to key or key is on the
// garbage list.
func (c *Catalog) HasBlob(ctx context.Context, key string) (bool, error) {
	if !storable(key) {
		return false, nil
	}
	var ok bool
	err := c.run(ctx, func(q querier) error {
		return q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM files WHERE blob = $1)
			OR EXISTS (SELECT 1 FROM garbage WHERE blob = $1)`, key).Scan(&ok)
	})
	if err != nil {
		return false, fmt.Errorf("catalog has blob %s: %w", key, err)
	}
	return ok, nil
}

// Garbage lists up to limit blobs dropped at or before before, oldest first.
func (c *Catalog) Garbage(ctx context.Context, before time.Time, limit int) ([]string, error) {
	keys, err := c.strings(ctx, `SELECT blob FROM garbage WHERE dropped <= $1
		ORDER BY dropped, blob LIMIT $2`, before.UnixNano(), limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("catalog garbage: %w", err)
	}
	return keys, nil
}

// Collected takes key off the garbage list.
func (c *Catalog) Collected(ctx context.Context, key string) error {
	if !storable(key) {
		return nil
	}
	err := c.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM garbage WHERE blob = $1`, key)
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
	err := c.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM garbage`)
		return err
	})
	if err != nil {
		return fmt.Errorf("catalog forget garbage: %w", err)
	}
	return nil
}

// Stored returns how many files the catalog holds and their total size,
// for the metrics: both from the per-owner totals the trigger keeps, so
// a scrape costs the number of owners, not of files.
func (c *Catalog) Stored(ctx context.Context) (count, bytes int64, err error) {
	err = c.run(ctx, func(q querier) error {
		return q.QueryRow(ctx, `SELECT coalesce(sum(files), 0)::bigint, coalesce(sum(bytes), 0)::bigint
			FROM file_usage`).Scan(&count, &bytes)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("stored files: %w", err)
	}
	return count, bytes, nil
}

// Records pages through every record, hidden ones included, by name.
func (c *Catalog) Records(ctx context.Context, after string, limit int) ([]files.Record, error) {
	if !storable(after) {
		return nil, fmt.Errorf("catalog records after %q: %w", after, errUnstorable)
	}
	out, err := c.records(ctx, `SELECT `+recordColumns+` FROM files
		WHERE name > $1 ORDER BY name LIMIT $2`, after, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("catalog records: %w", err)
	}
	return out, nil
}

// records runs a query of recordColumns.
func (c *Catalog) records(ctx context.Context, sql string, args ...any) ([]files.Record, error) {
	var out []files.Record
	err := c.run(ctx, func(q querier) error {
		out = nil
		rows, err := q.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (files.Record, error) { return scanRecord(row) })
		if len(out) == 0 {
			out = nil // as SQLite's catalog
		}
		return err
	})
	return out, err
}

// strings runs a query of one text column.
func (c *Catalog) strings(ctx context.Context, sql string, args ...any) ([]string, error) {
	var out []string
	err := c.run(ctx, func(q querier) error {
		rows, err := q.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if len(out) == 0 {
			out = nil
		}
		return err
	})
	return out, err
}

// limitArg is a LIMIT's value: a negative limit is none, as on SQLite
// (PostgreSQL refuses one; LIMIT NULL is LIMIT ALL).
func limitArg(limit int) any {
	if limit < 0 {
		return nil
	}
	return limit
}
