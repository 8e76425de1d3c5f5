package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LastLogin returns when name last logged in from host, if host is kept.
func (s *Store) LastLogin(ctx context.Context, name, host string) (time.Time, bool, error) {
	var last int64
	err := s.db.QueryRowContext(ctx, `SELECT last FROM account_addresses WHERE name = ? AND host = ?`, name, host).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("known addresses of %q: %w", name, err)
	}
	return time.Unix(last, 0), true, nil
}

// RememberAddress records a good login of name from host and keeps the
// keep most recent addresses, in one transaction.
func (s *Store) RememberAddress(ctx context.Context, name, host string, at time.Time, keep int) error {
	// Not cancelled halfway by a client that hangs up after logging in.
	ctx = context.WithoutCancel(ctx)
	err := s.w.Tx(ctx, func(tx *sql.Tx) error {
		// The account may have been deleted meanwhile: then nothing is kept.
		_, err := tx.ExecContext(ctx, `INSERT INTO account_addresses (name, host, last)
			SELECT name, ?, ? FROM accounts WHERE name = ?
			ON CONFLICT(name, host) DO UPDATE SET last = excluded.last`, host, at.Unix(), name)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM account_addresses WHERE name = ?1 AND host NOT IN
			(SELECT host FROM account_addresses WHERE name = ?1 ORDER BY last DESC, host LIMIT ?2)`, name, keep)
		return err
	})
	if err != nil {
		return fmt.Errorf("remember address of %q: %w", name, err)
	}
	return nil
}
