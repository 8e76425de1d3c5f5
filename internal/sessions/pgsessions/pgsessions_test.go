package pgsessions_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sshelf/sshelf/internal/pgtest"
	"github.com/sshelf/sshelf/internal/sessions"
	"github.com/sshelf/sshelf/internal/sessions/pgsessions"
)

func openPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	return pgtest.Pool(t, url)
}

// openCounter opens a counter of its own pool on url, as one server of a
// cluster has.
func openCounter(t *testing.T, url string, opt pgsessions.Options) *pgsessions.Counter {
	t.Helper()
	c, err := pgsessions.Open(context.Background(), openPool(t, url), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// poll calls f every 50 ms until it reports done, for at most 20 s.
func poll(t *testing.T, what string, f func() bool) {
	t.Helper()
	for range 400 {
		if f() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not within 20 s", what)
}

// Two servers share the limits: each refuses a session over the bound
// wherever the others are open, and a release frees a slot for either.
func TestSharedLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.Database(t)
	counters := []*pgsessions.Counter{
		openCounter(t, url, pgsessions.Options{Instance: "a"}),
		openCounter(t, url, pgsessions.Options{Instance: "b"}),
	}
	tests := []struct {
		name             string
		perUser, perAddr int
		user, addr       func(i int) string // of the i-th session
		want             error
	}{
		{"per account", 2, 0, func(int) string { return "alice" }, func(i int) string { return fmt.Sprint("10.0.0.", i) },
			sessions.ErrTooManyForUser},
		{"per address", 0, 2, func(i int) string { return fmt.Sprint("throwaway", i) }, func(int) string { return "10.0.1.1" },
			sessions.ErrTooManyForAddr},
		{"address named first", 2, 2, func(int) string { return "bob" }, func(int) string { return "10.0.2.1" },
			sessions.ErrTooManyForAddr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acquire := func(c *pgsessions.Counter, i int) (func(), error) {
				return c.Acquire(ctx, tt.user(i), tt.addr(i), tt.perUser, tt.perAddr)
			}
			var releases []func()
			for i, c := range counters {
				release, err := acquire(c, i)
				if err != nil {
					t.Fatalf("session %d on %s: %v", i, c.Instance(), err)
				}
				releases = append(releases, release)
			}
			for _, c := range counters {
				if _, err := acquire(c, 2); !errors.Is(err, tt.want) {
					t.Fatalf("third session on %s: %v, want %v", c.Instance(), err, tt.want)
				}
			}
			releases[0]()
			releases[0]() // a second release frees nothing more
			release, err := acquire(counters[1], 2)
			if err != nil {
				t.Fatalf("after a release on a: %v", err)
			}
			if _, err := acquire(counters[0], 3); !errors.Is(err, tt.want) {
				t.Fatalf("a second release freed another slot: %v", err)
			}
			release()
			releases[1]()
		})
	}
}

// Of a burst of acquires spread over two servers, exactly the bound get
// in.
func TestBurst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.Database(t)
	counters := []*pgsessions.Counter{
		openCounter(t, url, pgsessions.Options{Instance: "a"}),
		openCounter(t, url, pgsessions.Options{Instance: "b"}),
	}
	var (
		mu      sync.Mutex
		granted int
		wg      sync.WaitGroup
		start   = make(chan struct{})
	)
	for i := range 30 {
		wg.Go(func() {
			<-start
			_, err := counters[i%2].Acquire(ctx, "carol", fmt.Sprint("192.0.2.", i%3), 5, 4)
			switch {
			case err == nil:
				mu.Lock()
				granted++
				mu.Unlock()
			case !errors.Is(err, sessions.ErrTooManyForUser) && !errors.Is(err, sessions.ErrTooManyForAddr):
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if granted != 5 {
		t.Fatalf("%d of 30 sessions granted across two servers, want 5", granted)
	}
}

// The heartbeat keeps a server's rows alive; once it stops (a crash:
// Close without release) they stop counting after the TTL.
func TestCrashedServerStopsCounting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.Database(t)
	const ttl = 600 * time.Millisecond
	pool := openPool(t, url)
	live := openCounter(t, url, pgsessions.Options{Instance: "live", TTL: ttl})
	crashed := openCounter(t, url, pgsessions.Options{Instance: "crashed", TTL: ttl})
	for i := range 2 {
		if _, err := crashed.Acquire(ctx, "dave", fmt.Sprint("10.0.0.", i), 2, 0); err != nil {
			t.Fatal(err)
		}
	}
	heartbeat := func() (last time.Time) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT max(heartbeat) FROM sessions WHERE instance = 'crashed'`).Scan(&last); err != nil {
			t.Fatal(err)
		}
		return last
	}
	first := heartbeat()
	poll(t, "heartbeat", func() bool { return heartbeat().After(first) })
	if _, err := live.Acquire(ctx, "dave", "10.0.0.9", 2, 0); !errors.Is(err, sessions.ErrTooManyForUser) {
		t.Fatalf("with dave's sessions alive on another server: %v", err)
	}
	crashed.Close()
	stopped := heartbeat()
	poll(t, "the crashed server's sessions to expire", func() bool {
		release, err := live.Acquire(ctx, "dave", "10.0.0.9", 2, 0)
		if err == nil {
			release()
		}
		return err == nil
	})
	if !heartbeat().Equal(stopped) {
		t.Error("the heartbeat went on after Close")
	}
	if _, err := crashed.Acquire(ctx, "erin", "10.0.0.1", 2, 0); err == nil {
		t.Error("a closed counter took a session")
	}
}

// With the catalog down a session is refused, not let through and not
// held; a release meanwhile is done when the catalog is back.
func TestCatalogUnreachable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := pgtest.Private(t)
	url := srv.NewDatabase(t)
	c := openCounter(t, url, pgsessions.Options{Instance: "a", TTL: 600 * time.Millisecond, Timeout: time.Second})
	release, err := c.Acquire(ctx, "frank", "10.0.0.1", 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	_, err = c.Acquire(ctx, "frank", "10.0.0.2", 2, 2)
	if err == nil || errors.Is(err, sessions.ErrTooManyForUser) || errors.Is(err, sessions.ErrTooManyForAddr) {
		t.Fatalf("Acquire with the catalog down: %v, want an error that is no limit", err)
	}
	t.Logf("refused with the catalog down: %v", err)
	release() // fails now; the heartbeat retries it
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	pool := openPool(t, url)
	poll(t, "the release to reach the catalog", func() bool {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM sessions`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
	poll(t, "sessions to be counted again", func() bool {
		release, err := c.Acquire(ctx, "frank", "10.0.0.2", 2, 2)
		if err == nil {
			release()
		}
		return err == nil
	})
}
