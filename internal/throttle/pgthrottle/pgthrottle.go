// Package pgthrottle keeps throttle's attempts and lockouts in the
// PostgreSQL catalog, so that every server of a cluster counts against the
// same limits: an attacker who spreads guesses over every instance gets no
// more tries than against one.
//
// Each method that writes is one transaction that first takes a
// transaction-scoped advisory lock per key, in sorted order (so two
// transactions never wait on each other in a cycle), and only then reads
// the counts: under READ COMMITTED each statement after the lock sees
// whatever the previous holder committed, so two servers cannot both take
// a key's last slot.
package pgthrottle

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sshelf/sshelf/internal/pgdb"
	"github.com/sshelf/sshelf/internal/throttle"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// pruneEvery is how many reservations of this process pass between
// deletions of expired rows.
const pruneEvery = 256

// retries bounds how often a transaction is run again after a
// serialization failure or a deadlock.
const retries = 5

// Store is a throttle.Store in PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
	ops  atomic.Uint64
}

var _ throttle.Store = (*Store)(nil)

// Open brings the throttle tables in pool's database up to date
// (migrations component "throttle") and drops expired rows.
func Open(ctx context.Context, pool *pgxpool.Pool) (*Store, error) {
	steps, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("throttle schema: %w", err)
	}
	if err := pgdb.Migrate(ctx, pool, "throttle", steps); err != nil {
		return nil, fmt.Errorf("throttle schema: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.Prune(ctx, time.Now()); err != nil {
		return nil, err
	}
	return s, nil
}

// Prune deletes the attempts and lockouts that expired by now. It skips
// rows that a transaction holds, so it never waits for one nor takes part
// in a deadlock; they go at a later prune.
func (s *Store) Prune(ctx context.Context, now time.Time) error {
	t := now.UnixNano()
	for _, q := range []string{
		`DELETE FROM throttle_attempts WHERE (key, id) IN
			(SELECT key, id FROM throttle_attempts WHERE expires <= $1 FOR UPDATE SKIP LOCKED)`,
		`DELETE FROM throttle_locks WHERE key IN
			(SELECT key FROM throttle_locks WHERE until <= $1 FOR UPDATE SKIP LOCKED)`,
	} {
		if _, err := s.pool.Exec(ctx, q, t); err != nil {
			return fmt.Errorf("throttle prune: %w", err)
		}
	}
	return nil
}

// tx runs f in a transaction, again after a serialization failure or a
// deadlock, a bounded number of times.
func (s *Store) tx(ctx context.Context, f func(pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginFunc(ctx, s.pool, f)
		if err == nil || !pgdb.IsRetryable(err) || attempt == retries {
			return err
		}
		// A short random pause, so that the transactions that collided
		// do not collide again.
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt) * time.Duration(1+rand.IntN(10)) * time.Millisecond):
		}
	}
}

// lockKeys takes the advisory lock of every key, released at the end of
// tx, in the order of their lock numbers. The statements go in one round
// trip and run in order.
func lockKeys(ctx context.Context, tx pgx.Tx, keys ...[]string) error {
	var ids []int64
	for _, ks := range keys {
		for _, k := range ks {
			ids = append(ids, lockID(k))
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	b := &pgx.Batch{}
	for _, id := range ids {
		b.Queue(`SELECT pg_advisory_xact_lock($1)`, id)
	}
	return tx.SendBatch(ctx, b).Close()
}

// lockID is key's advisory lock number. Two keys sharing one only wait for
// each other.
func lockID(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte("sshelf throttle\x00"))
	h.Write([]byte(key))
	return int64(h.Sum64())
}
