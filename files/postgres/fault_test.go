package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/pgtest"
)

// A catalog whose server goes away fails each operation with an error,
// and works again, without a reopen, once the server is back.
func TestServerRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := pgtest.Private(t)
	// The test server commits asynchronously, and Stop is a crash: the
	// last commits would be lost unless this session waits for them.
	url := srv.NewDatabase(t) + "&synchronous_commit=on"
	c := openCatalog(t, url)
	if _, err := c.Put(ctx, rec("a", "alice", 1, "k1"), allowPut); err != nil {
		t.Fatal(err)
	}
	// A busy server's pool hands out its idle connections without a ping:
	// after the restart, every one of them is dead.
	busy := &Catalog{pool: idlePool(t, url, 4)}
	srv.Stop()
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := c.Lookup(octx, "a"); err == nil || errors.Is(err, files.ErrNotFound) {
		t.Fatalf("lookup with the server down: %v, want a failure", err)
	}
	if _, err := c.Put(octx, rec("b", "alice", 1, "k2"), allowPut); err == nil {
		t.Fatal("put with the server down succeeded")
	}
	if _, _, err := c.TryLock(octx, "gc"); err == nil {
		t.Fatal("lock with the server down succeeded")
	}
	if octx.Err() != nil {
		t.Fatal("the failures took until the deadline")
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Lookup(ctx, "a"); err != nil || r.Blob != "k1" {
		t.Fatalf("lookup after the restart: %+v, %v", r, err)
	}
	if _, err := c.Put(ctx, rec("b", "alice", 1, "k2"), allowPut); err != nil {
		t.Fatalf("put after the restart: %v", err)
	}
	if n, err := c.Usage(ctx, "alice"); err != nil || n != 2 {
		t.Fatalf("usage after the restart: %d, %v", n, err)
	}
	if _, err := busy.Put(ctx, rec("c", "alice", 1, "k3"), allowPut); err != nil {
		t.Fatalf("put on dead pooled connections after the restart: %v", err)
	}
	if r, err := busy.Lookup(ctx, "c"); err != nil || r.Blob != "k3" {
		t.Fatalf("lookup on the busy pool after the restart: %+v, %v", r, err)
	}
}

// idlePool opens a pool that never pings a connection it hands out, with
// n idle connections.
func idlePool(t *testing.T, url string, n int) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	var conns []*pgxpool.Conn
	for range n {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
	}
	for _, conn := range conns {
		conn.Release()
	}
	return pool
}

// A write waiting for a name's lock gives up when its context ends.
func TestLockWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.Database(t)
	c := openCatalog(t, url)
	holder, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, lockSQL, lockKey(nsName, "a")); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := c.Put(wctx, rec("a", "alice", 1, "k1"), allowPut); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("put under a held lock: %v, want the context's deadline", err)
	}
	tx.Rollback(ctx)
	if _, err := c.Put(ctx, rec("a", "alice", 1, "k1"), allowPut); err != nil {
		t.Fatalf("put once the lock is free: %v", err)
	}
}

// A cluster lock goes with its connection: another instance may take it,
// and the old holder's release is harmless.
func TestClusterLockLostWithConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cats := twoInstances(t)
	release, ok, err := cats[0].TryLock(ctx, "gc")
	if err != nil || !ok {
		t.Fatalf("lock: %v, %v", ok, err)
	}
	var killed bool
	err = cats[1].pool.QueryRow(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&killed)
	if err != nil || !killed {
		t.Fatalf("terminate the holder's connection: %v, %v", killed, err)
	}
	var r2 func()
	for range 50 { // the server ends the session soon after
		if r2, ok, err = cats[1].TryLock(ctx, "gc"); err != nil || ok {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || !ok {
		t.Fatalf("the lost lock stayed taken: %v, %v", ok, err)
	}
	release()
	if r, ok, _ := cats[0].TryLock(ctx, "gc"); ok {
		r()
		t.Fatal("the dead holder's release freed the new holder's lock")
	}
	r2()
}
