package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// LastLogin returns when name last logged in from host, if host is kept.
func (s *Store) LastLogin(ctx context.Context, name, host string) (time.Time, bool, error) {
	var last time.Time
	err := s.pool.QueryRow(ctx, `SELECT last FROM account_addresses WHERE name = $1 AND host = $2`,
		name, host).Scan(&last)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("known addresses of %q: %w", name, err)
	}
	return last, true, nil
}

// RememberAddress records a good login of name from host and keeps the
// keep most recent addresses, in one transaction. It locks the account's
// row first, so that logins of one account on several servers trim its
// addresses one after the other and the bound holds exactly.
func (s *Store) RememberAddress(ctx context.Context, name, host string, at time.Time, keep int) error {
	// Not cancelled halfway by a client that hangs up after logging in.
	ctx = context.WithoutCancel(ctx)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var found bool
		err := tx.QueryRow(ctx, `SELECT true FROM accounts WHERE name = $1 FOR NO KEY UPDATE`, name).Scan(&found)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // deleted meanwhile, or never there: nothing is kept
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO account_addresses (name, host, last) VALUES ($1, $2, $3)
			ON CONFLICT (name, host) DO UPDATE SET last = excluded.last`, name, host, at.Truncate(time.Second)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM account_addresses WHERE name = $1 AND host NOT IN
			(SELECT host FROM account_addresses WHERE name = $1 ORDER BY last DESC, host LIMIT $2)`, name, keep)
		return err
	})
	if err != nil {
		return fmt.Errorf("remember address of %q: %w", name, err)
	}
	return nil
}
