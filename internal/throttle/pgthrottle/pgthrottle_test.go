package pgthrottle_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sshelf/sshelf/internal/pgtest"
	"github.com/sshelf/sshelf/internal/throttle"
	"github.com/sshelf/sshelf/internal/throttle/pgthrottle"
	"github.com/sshelf/sshelf/internal/throttle/throttletest"
)

func openPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	return pgtest.Pool(t, url)
}

func openStore(t *testing.T, pool *pgxpool.Pool) *pgthrottle.Store {
	t.Helper()
	s, err := pgthrottle.Open(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Each handle is a pool of its own on one database, as another server of
// the cluster has.
func TestStore(t *testing.T) {
	t.Parallel()
	throttletest.TestStore(t, func(t *testing.T) func(t *testing.T) throttle.Store {
		url := pgtest.Database(t)
		return func(t *testing.T) throttle.Store { return openStore(t, openPool(t, url)) }
	})
}

// Expired rows are pruned, so the tables stay bounded; a lockout in force
// stays.
func TestPrune(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := openPool(t, pgtest.Database(t))
	s := openStore(t, pool)
	// At later the attempts have expired; the lockout is in force.
	p, later := throttletest.PruneFixture(t, s, time.Now())
	if err := s.Prune(ctx, later); err != nil {
		t.Fatal(err)
	}
	var attempts, locks int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM throttle_attempts), (SELECT count(*) FROM throttle_locks)`).
		Scan(&attempts, &locks); err != nil {
		t.Fatal(err)
	}
	if attempts != 0 || locks != 1 {
		t.Errorf("after a prune: %d attempts, %d lockouts; want 0 and the one in force", attempts, locks)
	}
	if r, err := s.Blocked(ctx, p, []string{"locked"}, later); err != nil || r == nil {
		t.Errorf("pruning dropped a lockout in force: %v, %v", r, err)
	}
}

// An unreachable catalog is an error, not a verdict: the attempt is
// neither granted nor counted as refused.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := pgtest.Private(t)
	s := openStore(t, openPool(t, srv.NewDatabase(t)))
	p := throttle.Policy{MaxFailures: 3, Window: time.Minute, Lockout: time.Minute}
	srv.Stop()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, r, err := s.Reserve(tctx, p, 1, []string{"k"}, time.Now()); err == nil || r != nil {
		t.Fatalf("Reserve with the catalog down = %v, %v; want an error", r, err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if _, r, err := s.Reserve(ctx, p, 1, []string{"k"}, time.Now()); err != nil || r != nil {
		t.Fatalf("Reserve after the catalog came back = %v, %v", r, err)
	}
}
