// Package sqlite keeps sshelf's accounts (auth.Store) in the embedded
// SQLite catalog, beside the files.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/internal/sqlitedb"
)

// An account being deleted has a row in account_deletions (see
// auth.Accounts.Disable); every other table goes with the account's row.
const schema = `
CREATE TABLE IF NOT EXISTS accounts (
	name          TEXT PRIMARY KEY,
	password_hash TEXT NOT NULL,
	created       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS account_keys (
	name    TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
	key     BLOB NOT NULL,
	line    TEXT NOT NULL,
	PRIMARY KEY (name, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS account_addresses (
	name TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
	host TEXT NOT NULL,
	last INTEGER NOT NULL, -- unix seconds of the last login from host
	PRIMARY KEY (name, host)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS account_deletions (
	name  TEXT PRIMARY KEY REFERENCES accounts(name) ON DELETE CASCADE,
	since INTEGER NOT NULL -- unix nanoseconds
) WITHOUT ROWID;
`

// Store is an auth.Store in a SQLite database opened by internal/sqlitedb
// (foreign keys on, so that deleting an account deletes what hangs on it).
type Store struct {
	db *sql.DB
	w  *sqlitedb.Writer // its transactions
}

var _ auth.Store = (*Store)(nil)

// Open creates the account tables in db if needed.
func Open(ctx context.Context, db *sql.DB) (*Store, error) {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("accounts schema: %w", err)
	}
	return &Store{db: db, w: sqlitedb.NewWriter(db)}, nil
}

// Account returns name's account.
func (s *Store) Account(ctx context.Context, name string) (auth.Account, error) {
	acc := auth.Account{Name: name}
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT password_hash, created,
		EXISTS (SELECT 1 FROM account_deletions d WHERE d.name = accounts.name)
		FROM accounts WHERE name = ?`, name).Scan(&acc.PasswordHash, &created, &acc.Disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Account{}, auth.ErrNoAccount
	}
	if err != nil {
		return auth.Account{}, fmt.Errorf("account %q: %w", name, err)
	}
	acc.Created = time.Unix(created, 0)
	return acc, nil
}

// Create adds an account unless name is taken.
func (s *Store) Create(ctx context.Context, name, passwordHash string, at time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO accounts (name, password_hash, created) VALUES (?, ?, ?)
		ON CONFLICT(name) DO NOTHING`, name, passwordHash, at.Unix())
	if err != nil {
		return false, fmt.Errorf("add account %q: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("add account %q: %w", name, err)
	}
	return n == 1, nil
}

// SetPasswordHash replaces name's password hash.
func (s *Store) SetPasswordHash(ctx context.Context, name, passwordHash string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE accounts SET password_hash = ? WHERE name = ?`, passwordHash, name)
	return oneRow(res, err, "set password of", name)
}

// Delete removes name's account; the foreign keys take the rest.
func (s *Store) Delete(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM accounts WHERE name = ?`, name)
	return oneRow(res, err, "delete account", name)
}

// oneRow turns the result of a statement on name's account row into
// auth.ErrNoAccount if there was no such row.
func oneRow(res sql.Result, err error, op, name string) error {
	if err != nil {
		return fmt.Errorf("%s %q: %w", op, name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s %q: %w", op, name, err)
	}
	if n == 0 {
		return auth.ErrNoAccount
	}
	return nil
}

// Names returns every account's name in byte order (SQLite's BINARY
// collation).
func (s *Store) Names(ctx context.Context) ([]string, error) {
	names, err := sqlitedb.Strings(ctx, s.db, `SELECT name FROM accounts ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return names, nil
}

// Disable marks name's deletion as begun at at, unless it already was.
func (s *Store) Disable(ctx context.Context, name string, at time.Time) (time.Time, error) {
	_, err := s.db.ExecContext(ctx, `INSERT INTO account_deletions (name, since)
		SELECT name, ? FROM accounts WHERE name = ? ON CONFLICT(name) DO NOTHING`,
		at.UnixNano(), name)
	if err != nil {
		return time.Time{}, fmt.Errorf("disable %q: %w", name, err)
	}
	var since int64
	err = s.db.QueryRowContext(ctx, `SELECT since FROM account_deletions WHERE name = ?`, name).Scan(&since)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, auth.ErrNoAccount
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("disable %q: %w", name, err)
	}
	return time.Unix(0, since), nil
}

// Active returns, of names, the accounts that exist and are not disabled,
// in one query: the names go as one JSON array.
func (s *Store) Active(ctx context.Context, names []string) (map[string]time.Time, error) {
	list, err := json.Marshal(names)
	if err != nil {
		return nil, fmt.Errorf("active accounts: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT name, created FROM accounts
		WHERE name IN (SELECT value FROM json_each(?))
		AND NOT EXISTS (SELECT 1 FROM account_deletions d WHERE d.name = accounts.name)`, string(list))
	if err != nil {
		return nil, fmt.Errorf("active accounts: %w", err)
	}
	defer rows.Close()
	out := make(map[string]time.Time, len(names))
	for rows.Next() {
		var n string
		var created int64
		if err := rows.Scan(&n, &created); err != nil {
			return nil, fmt.Errorf("active accounts: %w", err)
		}
		out[n] = time.Unix(created, 0)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("active accounts: %w", err)
	}
	return out, nil
}
