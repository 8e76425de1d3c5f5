package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Heartbeat records that instance is alive at now.
func (c *Catalog) Heartbeat(ctx context.Context, instance string, now time.Time) error {
	err := c.run(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO instances (id, seen) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET seen = excluded.seen`, instance, now.UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("heartbeat of %s: %w", instance, err)
	}
	return nil
}

// Alive returns the instances whose last heartbeat is at or after since.
func (c *Catalog) Alive(ctx context.Context, since time.Time) (map[string]bool, error) {
	ids, err := c.strings(ctx, `SELECT id FROM instances WHERE seen >= $1`, since.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("live instances: %w", err)
	}
	alive := make(map[string]bool, len(ids))
	for _, id := range ids {
		alive[id] = true
	}
	return alive, nil
}

// releaseTimeout bounds the unlock of a cluster lock; past it, the
// connection is closed, which releases the lock too.
const releaseTimeout = 5 * time.Second

// TryLock takes the cluster-wide lock name unless another holder has it.
// The lock is a session-level advisory lock on a connection taken from
// the pool for as long as it is held: release unlocks and gives the
// connection back. If that connection is lost (the server restarts, the
// network fails), PostgreSQL drops the lock with the session, and another
// instance may take it while this holder still believes it has it: a
// holder must work so that this is harmless (as garbage collection does,
// whose every removal is checked against the catalog).
func (c *Catalog) TryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("cluster lock %s: %w", name, err)
	}
	key := lockKey(nsCluster, name)
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil || !ok {
		conn.Release()
		if err != nil {
			return nil, false, fmt.Errorf("cluster lock %s: %w", name, err)
		}
		return nil, false, nil
	}
	var once sync.Once
	return func() { once.Do(func() { unlock(conn, key) }) }, true, nil
}

// unlock gives back a session lock and its connection. A connection whose
// unlock failed might still hold the lock: it is closed, not pooled.
func unlock(conn *pgxpool.Conn, key int64) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	var unlocked bool
	if err := conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1)`, key).Scan(&unlocked); err != nil || !unlocked {
		conn.Hijack().Close(ctx)
		return
	}
	conn.Release()
}
