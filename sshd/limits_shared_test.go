package sshd

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sshelf/sshelf/internal/pgdb"
	"github.com/sshelf/sshelf/internal/pgtest"
	"github.com/sshelf/sshelf/internal/sessions/pgsessions"
)

// With a shared counter the account and address bounds hold across
// servers, while each server's total stays its own and a refusal by the
// total takes nothing from the shared counts.
func TestSessionLimiterShared(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.Database(t)
	limiter := func(instance string, max int) *sessionLimiter {
		pool, err := pgdb.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		c, err := pgsessions.Open(ctx, pool, pgsessions.Options{Instance: instance})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return newSessionLimiter(max, 2, 3, c)
	}
	a, b := limiter("a", 10), limiter("b", 2)
	type step struct {
		l          *sessionLimiter
		user, addr string
		want       error
	}
	steps := []step{
		{a, "alice", "10.0.0.1", nil},
		{b, "alice", "10.0.0.2", nil},
		{a, "alice", "10.0.0.3", errTooManySessionsForUser}, // alice holds 2 over both servers
		{b, "bob", "10.0.0.1", nil},                         // b is full now
		{b, "carol", "10.0.0.4", errTooManySessions},
		{a, "carol", "10.0.0.1", nil},
		{a, "dave", "10.0.0.1", errTooManySessionsForAddr}, // 10.0.0.1 holds 3 over both
		{a, "carol", "10.0.0.4", nil},                      // b's refusal of carol counted nothing
	}
	var releases []func()
	for i, s := range steps {
		release, err := s.l.acquire(ctx, s.user, s.addr)
		if !errors.Is(err, s.want) || (err == nil) != (s.want == nil) {
			t.Fatalf("step %d (%s from %s): %v, want %v", i, s.user, s.addr, err, s.want)
		}
		if err == nil {
			releases = append(releases, release)
		}
	}
	for _, r := range releases {
		r()
		r()
	}
	for _, l := range []*sessionLimiter{a, b} {
		if l.total != 0 {
			t.Fatalf("after release: total %d", l.total)
		}
	}
	for i := range 2 {
		release, err := a.acquire(ctx, "alice", fmt.Sprint("10.0.1.", i))
		if err != nil {
			t.Fatalf("alice after every release: %v", err)
		}
		defer release()
	}
}

// A client hears which limit it hit, or only that sessions cannot be
// counted: not the catalog's address or error.
func TestSessionRefusal(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err, want error
	}{
		{errTooManySessions, errTooManySessions},
		{errTooManySessionsForUser, errTooManySessionsForUser},
		{fmt.Errorf("wrapped: %w", errTooManySessionsForAddr), errTooManySessionsForAddr},
		{errors.New(`count sessions of "alice" from 10.0.0.1: dial tcp 10.1.1.1:5432: connection refused`), errSessionsUncounted},
	} {
		if got := sessionRefusal(tt.err); got != tt.want {
			t.Errorf("sessionRefusal(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
