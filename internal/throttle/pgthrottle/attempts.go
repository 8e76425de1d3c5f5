package pgthrottle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sshelf/sshelf/internal/throttle"
)

// keyState is what decides whether a key is blocked.
type keyState struct {
	key    string
	until  *int64 // a lockout in force
	count  int    // attempts not yet expired
	oldest *int64 // when the first of them expires
}

// states reads the state of every key at t, in keys' order, in one query.
func states(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, keys []string, t int64) ([]keyState, error) {
	rows, _ := q.Query(ctx, `SELECT k.key, l.until, a.n, a.oldest
		FROM unnest($1::text[]) WITH ORDINALITY AS k (key, ord)
		LEFT JOIN throttle_locks l ON l.key = k.key AND l.until > $2
		CROSS JOIN LATERAL (SELECT count(*) AS n, min(expires) AS oldest
			FROM throttle_attempts a WHERE a.key = k.key AND a.expires > $2) a
		ORDER BY k.ord`, keys, t)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (keyState, error) {
		var st keyState
		err := r.Scan(&st.key, &st.until, &st.count, &st.oldest)
		return st, err
	})
}

// refused returns the refusal of the key at t under p, or nil.
func (st keyState) refused(p throttle.Policy, t int64) *throttle.Refused {
	if st.until != nil {
		return &throttle.Refused{Key: st.key, Until: time.Unix(0, *st.until)}
	}
	if st.count < p.MaxFailures {
		return nil
	}
	// Full of attempts still being checked: if they fail the key locks;
	// without a lockout it frees when the oldest expires.
	end := time.Unix(0, t).Add(p.Lockout)
	if p.Lockout <= 0 && st.oldest != nil {
		end = time.Unix(0, *st.oldest)
	}
	return &throttle.Refused{Key: st.key, Until: end}
}

// errRefused rolls a reservation back.
type errRefused struct{ r *throttle.Refused }

func (e errRefused) Error() string { return "refused" }

// Reserve implements throttle.Store: under the keys' locks it checks every
// key, then records the attempt on all of them.
func (s *Store) Reserve(ctx context.Context, p throttle.Policy, id int64, keys []string, now time.Time) (int, *throttle.Refused, error) {
	t := now.UnixNano()
	n := 0
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := lockKeys(ctx, tx, keys); err != nil {
			return err
		}
		sts, err := states(ctx, tx, keys, t)
		if err != nil {
			return err
		}
		n = 0
		for _, st := range sts {
			if r := st.refused(p, t); r != nil {
				return errRefused{r}
			}
			n = max(n, st.count+1)
		}
		_, err = tx.Exec(ctx, `INSERT INTO throttle_attempts (key, id, expires)
			SELECT unnest($1::text[]), $2, $3`, keys, id, now.Add(p.Window).UnixNano())
		return err
	})
	var refused errRefused
	if errors.As(err, &refused) {
		return 0, refused.r, nil
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

// Fail implements throttle.Store. The keys' locks make concurrent failures
// of one key count one after the other, so the one that reaches
// p.MaxFailures sees the others.
func (s *Store) Fail(ctx context.Context, p throttle.Policy, id int64, keys []string, now time.Time) (bool, error) {
	t := now.UnixNano()
	locked := false
	err := s.tx(ctx, func(tx pgx.Tx) error {
		locked = false
		if err := lockKeys(ctx, tx, keys); err != nil {
			return err
		}
		for _, k := range keys {
			tag, err := tx.Exec(ctx, `UPDATE throttle_attempts SET failed = true WHERE key = $1 AND id = $2`, k, id)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 || p.Lockout <= 0 {
				continue // gone with a lockout or an unlock meanwhile; or no lock to set
			}
			var failed int
			err = tx.QueryRow(ctx, `SELECT count(*) FROM throttle_attempts WHERE key = $1 AND failed AND expires > $2`,
				k, t).Scan(&failed)
			if err != nil {
				return err
			}
			if failed < p.MaxFailures {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO throttle_locks (key, until) VALUES ($1, $2)
				ON CONFLICT (key) DO UPDATE SET until = greatest(throttle_locks.until, excluded.until)`,
				k, now.Add(p.Lockout).UnixNano()); err != nil {
				return err
			}
			// The count starts over when the lockout ends.
			if _, err := tx.Exec(ctx, `DELETE FROM throttle_attempts WHERE key = $1`, k); err != nil {
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := lockKeys(ctx, tx, keys, forget); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM throttle_attempts WHERE key = ANY($1) AND id = $2`, keys, id); err != nil {
			return err
		}
		if len(forget) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `DELETE FROM throttle_attempts WHERE key = ANY($1)`, forget)
		return err
	})
	if err != nil {
		return fmt.Errorf("refund: %w", err)
	}
	return nil
}

// Blocked implements throttle.Store: one query reads every key.
func (s *Store) Blocked(ctx context.Context, p throttle.Policy, keys []string, now time.Time) (*throttle.Refused, error) {
	t := now.UnixNano()
	sts, err := states(ctx, s.pool, keys, t)
	if err != nil {
		return nil, fmt.Errorf("blocked: %w", err)
	}
	for _, st := range sts {
		if r := st.refused(p, t); r != nil {
			return r, nil
		}
	}
	return nil, nil
}

// Clear implements throttle.Store in one statement. An empty prefix is
// left out: it would clear everything.
func (s *Store) Clear(ctx context.Context, keys, prefixes []string) (int, error) {
	prefixes = slices.DeleteFunc(slices.Clone(prefixes), func(p string) bool { return p == "" })
	const match = `key = ANY($1) OR EXISTS (SELECT 1 FROM unnest($2::text[]) p WHERE starts_with(key, p))`
	var n int
	err := s.pool.QueryRow(ctx, `WITH
		a AS (DELETE FROM throttle_attempts WHERE `+match+` RETURNING key),
		l AS (DELETE FROM throttle_locks WHERE `+match+` RETURNING key)
		SELECT count(DISTINCT key) FROM (SELECT key FROM a UNION ALL SELECT key FROM l) cleared`,
		keys, prefixes).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("clear: %w", err)
	}
	return n, nil
}
