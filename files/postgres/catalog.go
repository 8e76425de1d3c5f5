// Package postgres is the files.Catalog that several servers share: the
// SQLite catalog's tables in PostgreSQL, with writes to one name (and the
// quota checks of one owner) serialised across instances by advisory
// locks, and the files.Cluster coordination the servers need besides.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/internal/sqlcat"
	"github.com/sshelf/sshelf/internal/pgdb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Catalog is the shared catalog.
type Catalog struct {
	pool *pgxpool.Pool
}

var (
	_ files.Catalog = (*Catalog)(nil)
	_ files.Cluster = (*Catalog)(nil)
)

// New brings the catalog's schema in pool's database up to date and
// returns the catalog.
func New(ctx context.Context, pool *pgxpool.Pool) (*Catalog, error) {
	steps, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	if err := pgdb.Migrate(ctx, pool, "files", steps); err != nil {
		return nil, fmt.Errorf("catalog schema: %w", err)
	}
	return &Catalog{pool: pool}, nil
}

// Ping checks that the catalog answers, for readiness checks.
func (c *Catalog) Ping(ctx context.Context) error {
	if err := c.pool.Ping(ctx); err != nil {
		return fmt.Errorf("catalog ping: %w", err)
	}
	return nil
}

// storable reports whether s can be a value of a text column: PostgreSQL
// refuses NUL bytes and invalid UTF-8, which SQLite would store. Names are
// valid UTF-8 without control characters (files.ValidateName), so no
// stored name is unstorable: a lookup of one finds nothing, as on SQLite.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

const recordColumns = sqlcat.RecordColumns

func scanRecord(row sqlcat.Scanner) (files.Record, error) {
	return sqlcat.ScanRecord(row, pgx.ErrNoRows)
}

// querier is a connection or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

const lookupSQL = `SELECT ` + recordColumns + ` FROM files WHERE name = $1`

// Lookup returns the record named name, or files.ErrNotFound itself
// (callers compare with ==).
func (c *Catalog) Lookup(ctx context.Context, name string) (files.Record, error) {
	if !storable(name) {
		return files.Record{}, files.ErrNotFound
	}
	var r files.Record
	err := c.run(ctx, func(q querier) error {
		var err error
		r, err = scanRecord(q.QueryRow(ctx, lookupSQL, name))
		return err
	})
	switch {
	case err == files.ErrNotFound:
		return files.Record{}, err
	case err != nil:
		return files.Record{}, fmt.Errorf("catalog lookup %q: %w", name, err)
	}
	return r, nil
}

// maxAttempts bounds how often an operation runs: again after a deadlock
// or serialization failure, or after a pooled connection turned out
// broken (the server restarted) before anything was committed.
const maxAttempts = 4

// unavailable marks err, a failure to reach the server, as
// files.ErrUnavailable for the rules, keeping the cause for the log.
func unavailable(err error) error {
	return fmt.Errorf("catalog unreachable: %w (%w)", files.ErrUnavailable, err)
}

// broken reports whether conn died under err: the server went away or
// the network failed.
func broken(conn *pgxpool.Conn, err error) bool {
	return err != nil && conn.Conn().IsClosed()
}

// retryBroken decides whether to run an operation again after its
// connection broke: the other idle connections of the pool most likely
// went with the server, so they are dropped at once rather than each
// failing one more operation.
func (c *Catalog) retryBroken(ctx context.Context, attempt int) bool {
	if attempt >= maxAttempts || ctx.Err() != nil {
		return false
	}
	c.pool.Reset()
	return true
}

// run runs fn on a pooled connection, outside a transaction, and again on
// a fresh one if the connection turns out broken: fn must be safe to
// repeat (a read, an idempotent write).
func (c *Catalog) run(ctx context.Context, fn func(querier) error) error {
	for attempt := 1; ; attempt++ {
		conn, err := c.pool.Acquire(ctx)
		if err != nil {
			return unavailable(err)
		}
		err = fn(conn)
		dead := broken(conn, err)
		conn.Release()
		if !dead || !c.retryBroken(ctx, attempt) {
			if dead {
				return unavailable(err)
			}
			return err
		}
	}
}

// write runs fn in a transaction (READ COMMITTED: each statement sees
// what committed before it began, so a check that runs after taking its
// advisory locks sees every earlier writer's result). It runs fn again,
// a bounded number of times, after a deadlock or serialization failure,
// or when the connection broke before the commit was sent; a commit whose
// outcome is unknown is never repeated. A disk-full server is
// files.ErrNoSpace (rule 9).
func (c *Catalog) write(ctx context.Context, fn func(pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		conn, err := c.pool.Acquire(ctx)
		if err != nil {
			return unavailable(err)
		}
		committing := false
		err = func() error {
			tx, err := conn.Begin(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(ctx)
			if err := fn(tx); err != nil {
				return err
			}
			committing = true
			return tx.Commit(ctx)
		}()
		dead := broken(conn, err)
		conn.Release()
		switch {
		case err == nil:
			return nil
		case pgdb.IsRetryable(err) && attempt < maxAttempts && ctx.Err() == nil:
			continue
		case dead && !committing && c.retryBroken(ctx, attempt):
			continue
		case isDiskFull(err):
			return fmt.Errorf("%w (%w)", files.ErrNoSpace, err)
		case dead:
			return unavailable(err)
		}
		return err
	}
}

func isDiskFull(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "53100"
}
