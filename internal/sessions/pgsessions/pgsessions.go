// Package pgsessions counts the sessions of every server of a cluster in
// the PostgreSQL catalog (sessions.Counter): one row per open session,
// kept alive by its server's heartbeat, so that the rows of a server that
// crashed stop counting after a TTL.
package pgsessions

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sshelf/sshelf/internal/pgdb"
	"github.com/sshelf/sshelf/internal/sessions"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Defaults of Options.
const (
	DefaultTTL     = 30 * time.Second
	DefaultTimeout = 5 * time.Second
)

// pruneEvery is how many heartbeats pass between deletions of the rows of
// servers long dead; pruneAfter, in TTLs, is how long dead they must be.
const (
	pruneEvery = 10
	pruneAfter = 10
)

// Options configures a Counter.
type Options struct {
	// Instance names this server's rows; "" is host name, process id and
	// a random suffix. Two live servers must not share one.
	Instance string
	// TTL is how long a row counts after its server's last heartbeat
	// (DefaultTTL if 0); the heartbeat comes every TTL/3.
	TTL time.Duration
	// Timeout bounds each Acquire and each release (DefaultTimeout if 0),
	// so that a catalog that does not answer refuses sessions instead of
	// holding them.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Counter is a sessions.Counter in the sessions table.
type Counter struct {
	pool     *pgxpool.Pool
	instance string
	ttl      time.Duration
	timeout  time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	closed  bool
	pending []int64 // rows of released sessions that could not be deleted yet

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

var _ sessions.Counter = (*Counter)(nil)

// Open brings the sessions table in pool's database up to date
// (migrations component "sessions") and starts the heartbeat of this
// server's rows; Close stops it.
func Open(ctx context.Context, pool *pgxpool.Pool, opt Options) (*Counter, error) {
	steps, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sessions schema: %w", err)
	}
	if err := pgdb.Migrate(ctx, pool, "sessions", steps); err != nil {
		return nil, fmt.Errorf("sessions schema: %w", err)
	}
	c := &Counter{pool: pool, instance: opt.Instance, ttl: opt.TTL, timeout: opt.Timeout, log: opt.Logger,
		stop: make(chan struct{}), done: make(chan struct{})}
	if c.instance == "" {
		c.instance = defaultInstance()
	}
	if c.ttl <= 0 {
		c.ttl = DefaultTTL
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	go c.heartbeat()
	return c, nil
}

func defaultInstance() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Instance returns the name of this server's rows.
func (c *Counter) Instance() string { return c.instance }

// Close stops the heartbeat. It deletes no rows: the sessions still open
// stop counting after the TTL, as a crashed server's do.
func (c *Counter) Close() {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		close(c.stop)
		<-c.done
	})
}

var errClosed = errors.New("session counter closed")

// Acquire implements sessions.Counter. Under the advisory locks of the
// account and the address (those with a bound, in lock-number order, so
// two acquires never wait on each other in a cycle) it counts the live
// rows and inserts one: under READ COMMITTED the count, a statement after
// the locks, sees every row the previous holder committed.
func (c *Counter) Acquire(ctx context.Context, user, addr string, perUser, perAddr int) (func(), error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var id int64
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		var locks []int64
		if perUser > 0 {
			locks = append(locks, lockID("user", user))
		}
		if perAddr > 0 {
			locks = append(locks, lockID("addr", addr))
		}
		slices.Sort(locks)
		locks = slices.Compact(locks)
		b := &pgx.Batch{}
		for _, l := range locks {
			b.Queue(`SELECT pg_advisory_xact_lock($1)`, l)
		}
		var byUser, byAddr int
		b.Queue(`SELECT count(*) FILTER (WHERE username = $1), count(*) FILTER (WHERE addr = $2)
			FROM sessions WHERE (username = $1 OR addr = $2) AND heartbeat > now() - make_interval(secs => $3)`,
			user, addr, c.ttl.Seconds()).QueryRow(func(r pgx.Row) error { return r.Scan(&byUser, &byAddr) })
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		switch {
		case atLimit(byAddr, perAddr):
			return sessions.ErrTooManyForAddr
		case atLimit(byUser, perUser):
			return sessions.ErrTooManyForUser
		}
		return tx.QueryRow(ctx, `INSERT INTO sessions (instance, username, addr) VALUES ($1, $2, $3) RETURNING id`,
			c.instance, user, addr).Scan(&id)
	})
	if errors.Is(err, sessions.ErrTooManyForAddr) || errors.Is(err, sessions.ErrTooManyForUser) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("count sessions of %q from %s: %w", user, addr, err)
	}
	var once sync.Once
	return func() { once.Do(func() { c.release(id) }) }, nil
}

func atLimit(n, bound int) bool { return bound > 0 && n >= bound }

// lockID is the advisory lock number of an account or an address.
func lockID(kind, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("sshelf sessions\x00" + kind + "\x00"))
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// release deletes a session's row. If the catalog does not answer, the
// heartbeat tries again and meanwhile leaves the row out, so it stops
// counting after the TTL.
func (c *Counter) release(id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if _, err := c.pool.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, id); err != nil {
		c.log.Warn("session not uncounted, will retry", "instance", c.instance, "id", id, "err", err)
		c.mu.Lock()
		c.pending = append(c.pending, id)
		c.mu.Unlock()
	}
}

// heartbeat refreshes this server's rows every TTL/3 until Close.
func (c *Counter) heartbeat() {
	defer close(c.done)
	tick := time.NewTicker(c.ttl / 3)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), min(c.timeout, c.ttl/3))
		if err := c.beat(ctx, n%pruneEvery == 0); err != nil {
			c.log.Warn("session heartbeat failed", "instance", c.instance, "err", err)
		}
		cancel()
	}
}

// beat deletes the rows of released sessions still pending, refreshes
// the others and, if prune, deletes the rows of servers long dead.
func (c *Counter) beat(ctx context.Context, prune bool) error {
	c.mu.Lock()
	pending := append([]int64{}, c.pending...) // not nil: <> ALL(NULL) matches nothing
	c.mu.Unlock()
	var errs []error
	if len(pending) > 0 {
		if _, err := c.pool.Exec(ctx, `DELETE FROM sessions WHERE id = ANY($1)`, pending); err != nil {
			errs = append(errs, fmt.Errorf("delete released sessions: %w", err))
		} else {
			c.mu.Lock()
			c.pending = slices.DeleteFunc(c.pending, func(id int64) bool { return slices.Contains(pending, id) })
			c.mu.Unlock()
			pending = pending[:0]
		}
	}
	if _, err := c.pool.Exec(ctx, `UPDATE sessions SET heartbeat = now() WHERE instance = $1 AND id <> ALL($2)`,
		c.instance, pending); err != nil {
		errs = append(errs, fmt.Errorf("refresh sessions: %w", err))
	}
	if prune {
		if _, err := c.pool.Exec(ctx, `DELETE FROM sessions WHERE heartbeat < now() - make_interval(secs => $1)`,
			(pruneAfter * c.ttl).Seconds()); err != nil {
			errs = append(errs, fmt.Errorf("prune sessions: %w", err))
		}
	}
	return errors.Join(errs...)
}
