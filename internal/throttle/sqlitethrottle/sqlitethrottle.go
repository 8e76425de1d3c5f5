// Package sqlitethrottle keeps throttle's attempts and lockouts in the
// SQLite catalog, so they survive a restart, `sshelf user unlock` acts on
// a running server at once, and every process sharing the database shares
// the counts.
package sqlitethrottle

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sshelf/sshelf/internal/sqlitedb"
	"github.com/sshelf/sshelf/internal/throttle"
)

const schema = `
CREATE TABLE IF NOT EXISTS throttle_attempts (
	key     TEXT NOT NULL,
	id      INTEGER NOT NULL,
	expires INTEGER NOT NULL, -- unix nanoseconds
	failed  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (key, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS throttle_attempts_expires ON throttle_attempts(expires);
CREATE TABLE IF NOT EXISTS throttle_locks (
	key   TEXT PRIMARY KEY,
	until INTEGER NOT NULL -- unix nanoseconds
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS throttle_locks_until ON throttle_locks(until);
`

// pruneEvery is how many reservations pass between deletions of expired
// rows: the tables hold at most what the last window's attempts left.
const pruneEvery = 256

// Store is a throttle.Store in a SQLite database.
type Store struct {
	db  *sql.DB
	ops atomic.Uint64
	// w queues this process's transactions: a burst of logins would
	// otherwise meet SQLite's polling busy handler (see sqlitedb.Writer).
	w *sqlitedb.Writer
}

var _ throttle.Store = (*Store)(nil)

// Open creates the tables in db if needed and drops expired rows.
func Open(ctx context.Context, db *sql.DB) (*Store, error) {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("throttle schema: %w", err)
	}
	s := &Store{db: db, w: sqlitedb.NewWriter(db)}
	if err := s.Prune(ctx, time.Now()); err != nil {
		return nil, err
	}
	return s, nil
}

// Prune deletes the attempts and lockouts that expired by now.
func (s *Store) Prune(ctx context.Context, now time.Time) error {
	t := now.UnixNano()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM throttle_attempts WHERE expires <= ?`, t); err != nil {
		return fmt.Errorf("throttle prune: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM throttle_locks WHERE until <= ?`, t); err != nil {
		return fmt.Errorf("throttle prune: %w", err)
	}
	return nil
}

// errRefused rolls a reservation back.
type errRefused struct{ r *throttle.Refused }

func (e errRefused) Error() string { return "refused" }

// Reserve implements throttle.Store. It writes first and checks after,
// in one transaction: the first write takes the database's write lock, so
// the counts read after it are current even in a transaction that did not
// begin IMMEDIATE, and a refusal rolls the rows back.
func (s *Store) Reserve(ctx context.Context, p throttle.Policy, id int64, keys []string, now time.Time) (int, *throttle.Refused, error) {
	t := now.UnixNano()
	n := 0
	err := s.w.Tx(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO throttle_attempts (key, id, expires) VALUES (?, ?, ?)`,
				k, id, now.Add(p.Window).UnixNano()); err != nil {
				return err
			}
		}
		for _, k := range keys {
			r, count, err := blocked(ctx, tx, p, k, t, 1)
			if err != nil {
				return err
			}
			if r != nil {
				return errRefused{r}
			}
			n = max(n, count)
		}
		return nil
	})
	if e, ok := err.(errRefused); ok {
		return 0, e.r, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("reserve: %w", err)
	}
	if s.ops.Add(1)%pruneEvery == 0 {
		if err := s.Prune(ctx, now); err != nil {
			return 0, nil, err
		}
	}
	return n, nil, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// blocked checks key at t (unix nanoseconds); own is how many of the
// key's attempts are the caller's own, already recorded. It returns the
// number of attempts the key holds.
func blocked(ctx context.Context, q querier, p throttle.Policy, key string, t int64, own int) (*throttle.Refused, int, error) {
	var until sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT until FROM throttle_locks WHERE key = ? AND until > ?`, key, t).Scan(&until)
	if err != nil && err != sql.ErrNoRows {
		return nil, 0, err
	}
	if until.Valid {
		return &throttle.Refused{Key: key, Until: time.Unix(0, until.Int64)}, 0, nil
	}
	var count int
	var oldest sql.NullInt64
	err = q.QueryRowContext(ctx, `SELECT COUNT(*), MIN(expires) FROM throttle_attempts WHERE key = ? AND expires > ?`,
		key, t).Scan(&count, &oldest)
	if err != nil {
		return nil, 0, err
	}
	if count-own >= p.MaxFailures {
		// Full of attempts still being checked: if they fail the key
		// locks; without a lockout it frees when the oldest expires.
		end := time.Unix(0, t).Add(p.Lockout)
		if p.Lockout <= 0 && oldest.Valid {
			end = time.Unix(0, oldest.Int64)
		}
		return &throttle.Refused{Key: key, Until: end}, count, nil
	}
	return nil, count, nil
}

// Fail implements throttle.Store.
func (s *Store) Fail(ctx context.Context, p throttle.Policy, id int64, keys []string, now time.Time) (bool, error) {
	t := now.UnixNano()
	locked := false
	err := s.w.Tx(ctx, func(tx *sql.Tx) error {
		locked = false
		for _, k := range keys {
			res, err := tx.ExecContext(ctx, `UPDATE throttle_attempts SET failed = 1 WHERE key = ? AND id = ?`, k, id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 || p.Lockout <= 0 {
				continue // gone with a lockout or an unlock meanwhile; or no lock to set
			}
			var failed int
			err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM throttle_attempts WHERE key = ? AND failed = 1 AND expires > ?`,
				k, t).Scan(&failed)
			if err != nil {
				return err
			}
			if failed < p.MaxFailures {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO throttle_locks (key, until) VALUES (?, ?)
				ON CONFLICT(key) DO UPDATE SET until = max(until, excluded.until)`, k, now.Add(p.Lockout).UnixNano()); err != nil {
				return err
			}
			// The count starts over when the lockout ends.
			if _, err := tx.ExecContext(ctx, `DELETE FROM throttle_attempts WHERE key = ?`, k); err != nil {
				return err
			}
			locked = true
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("fail: %w", err)
	}
	return locked, nil
}

// Refund implements throttle.Store.
func (s *Store) Refund(ctx context.Context, id int64, keys, forget []string) error {
	err := s.w.Tx(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `DELETE FROM throttle_attempts WHERE key = ? AND id = ?`, k, id); err != nil {
				return err
			}
		}
		for _, k := range forget {
			if _, err := tx.ExecContext(ctx, `DELETE FROM throttle_attempts WHERE key = ?`, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("refund: %w", err)
	}
	return nil
}

// Blocked implements throttle.Store.
func (s *Store) Blocked(ctx context.Context, p throttle.Policy, keys []string, now time.Time) (*throttle.Refused, error) {
	for _, k := range keys {
		r, _, err := blocked(ctx, s.db, p, k, now.UnixNano(), 0)
		if err != nil {
			return nil, fmt.Errorf("blocked: %w", err)
		}
		if r != nil {
			return r, nil
		}
	}
	return nil, nil
}

// Clear implements throttle.Store.
func (s *Store) Clear(ctx context.Context, keys, prefixes []string) (int, error) {
	n := 0
	err := s.w.Tx(ctx, func(tx *sql.Tx) error {
		n = 0
		const match = `(key = ?1 OR (?2 AND substr(key, 1, length(?1)) = ?1))`
		clear := func(k string, prefix bool) error {
			var c int
			err := tx.QueryRowContext(ctx, `SELECT COUNT(DISTINCT key) FROM (
				SELECT key FROM throttle_attempts WHERE `+match+`
				UNION ALL SELECT key FROM throttle_locks WHERE `+match+`)`, k, prefix).Scan(&c)
			if err != nil {
				return err
			}
			n += c
			for _, table := range []string{"throttle_attempts", "throttle_locks"} {
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+match, k, prefix); err != nil {
					return err
				}
			}
			return nil
		}
		for _, k := range keys {
			if err := clear(k, false); err != nil {
				return err
			}
		}
		for _, p := range prefixes {
			if p == "" {
				continue // would clear everything
			}
			if err := clear(p, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("clear: %w", err)
	}
	return n, nil
}
