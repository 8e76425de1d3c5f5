// Package postgres keeps sshelf's accounts (auth.Store) in the PostgreSQL
// catalog that the servers of a cluster share.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/internal/pgdb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is an auth.Store in PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
}

var _ auth.Store = (*Store)(nil)

// Open brings the account tables in pool's database up to date (migrations
// component "auth") and returns the store.
func Open(ctx context.Context, pool *pgxpool.Pool) (*Store, error) {
	steps, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("accounts schema: %w", err)
	}
	if err := pgdb.Migrate(ctx, pool, "auth", steps); err != nil {
		return nil, fmt.Errorf("accounts schema: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Account returns name's account.
func (s *Store) Account(ctx context.Context, name string) (auth.Account, error) {
	acc := auth.Account{Name: name}
	err := s.pool.QueryRow(ctx, `SELECT password_hash, created,
		EXISTS (SELECT 1 FROM account_deletions d WHERE d.name = a.name)
		FROM accounts a WHERE name = $1`, name).Scan(&acc.PasswordHash, &acc.Created, &acc.Disabled)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Account{}, auth.ErrNoAccount
	}
	if err != nil {
		return auth.Account{}, fmt.Errorf("account %q: %w", name, err)
	}
	return acc, nil
}

// Create adds an account unless name is taken; ON CONFLICT makes a
// concurrent insert of the same name, from any server, wait for the first
// and then do nothing.
func (s *Store) Create(ctx context.Context, name, passwordHash string, at time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO accounts (name, password_hash, created) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO NOTHING`, name, passwordHash, at.Truncate(time.Second))
	if err != nil {
		return false, fmt.Errorf("add account %q: %w", name, err)
	}
	return tag.RowsAffected() == 1, nil
}

// SetPasswordHash replaces name's password hash.
func (s *Store) SetPasswordHash(ctx context.Context, name, passwordHash string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE accounts SET password_hash = $1 WHERE name = $2`, passwordHash, name)
	return oneRow(tag, err, "set password of", name)
}

// Delete removes name's account; the foreign keys take the rest.
func (s *Store) Delete(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM accounts WHERE name = $1`, name)
	return oneRow(tag, err, "delete account", name)
}

// oneRow turns the result of a statement on name's account row into
// auth.ErrNoAccount if there was no such row.
func oneRow(tag pgconn.CommandTag, err error, op, name string) error {
	if err != nil {
		return fmt.Errorf("%s %q: %w", op, name, err)
	}
	if tag.RowsAffected() == 0 {
		return auth.ErrNoAccount
	}
	return nil
}

// Names returns every account's name in byte order (the column's "C"
// collation).
func (s *Store) Names(ctx context.Context) ([]string, error) {
	rows, _ := s.pool.Query(ctx, `SELECT name FROM accounts ORDER BY name`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return names, nil
}

// Disable marks name's deletion as begun at at, unless it already was. The
// read is a statement of its own: under READ COMMITTED it sees a mark
// that a concurrent Disable committed while the insert waited for it.
func (s *Store) Disable(ctx context.Context, name string, at time.Time) (time.Time, error) {
	_, err := s.pool.Exec(ctx, `INSERT INTO account_deletions (name, since)
		SELECT name, $1 FROM accounts WHERE name = $2 ON CONFLICT (name) DO NOTHING`, at, name)
	if err != nil {
		return time.Time{}, fmt.Errorf("disable %q: %w", name, err)
	}
	var since time.Time
	err = s.pool.QueryRow(ctx, `SELECT since FROM account_deletions WHERE name = $1`, name).Scan(&since)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, auth.ErrNoAccount
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("disable %q: %w", name, err)
	}
	return since, nil
}

// Active returns, of names, the accounts that exist and are not disabled,
// in one query: the names go as one array.
func (s *Store) Active(ctx context.Context, names []string) (map[string]time.Time, error) {
	out := make(map[string]time.Time, len(names))
	if len(names) == 0 {
		return out, nil
	}
	rows, _ := s.pool.Query(ctx, `SELECT name, created FROM accounts a
		WHERE name = ANY($1)
		AND NOT EXISTS (SELECT 1 FROM account_deletions d WHERE d.name = a.name)`, names)
	var n string
	var created time.Time
	_, err := pgx.ForEachRow(rows, []any{&n, &created}, func() error {
		out[n] = created
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("active accounts: %w", err)
	}
	return out, nil
}
