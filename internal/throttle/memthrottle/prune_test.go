package memthrottle_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/throttle"
	"github.com/sshelf/sshelf/internal/throttle/memthrottle"
	"github.com/sshelf/sshelf/internal/throttle/throttletest"
)

// Clear counts the keys that hold anything, expired or not, so it shows
// what pruning left.
func held(t *testing.T, s *memthrottle.Store, prefix string) int {
	t.Helper()
	n, err := s.Clear(context.Background(), nil, []string{prefix})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Expired entries are pruned, so memory stays bounded by the live keys; a
// lockout in force stays.
func TestPrune(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := memthrottle.New()
	// At later the attempts have expired; the lockout is in force.
	p, later := throttletest.PruneFixture(t, s, time.Now())
	if err := s.Prune(ctx, later); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Blocked(ctx, p, []string{"locked"}, later); err != nil || r == nil {
		t.Errorf("pruning dropped a lockout in force: %v, %v", r, err)
	}
	if n := held(t, s, "addr-"); n != 0 {
		t.Errorf("after a prune %d keys hold expired attempts", n)
	}
	if n := held(t, s, "locked"); n != 1 {
		t.Errorf("after a prune %d locked keys, want the one in force", n)
	}
}

// Every 256th reservation granted prunes at its own time, as
// sqlitethrottle's do.
func TestPruneOnReserve(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := memthrottle.New()
	now := time.Now()
	p := throttle.Policy{MaxFailures: 2, Window: time.Minute, Lockout: 10 * time.Minute}
	for i := range 255 {
		if _, _, err := s.Reserve(ctx, p, int64(i), []string{fmt.Sprint("old-", i)}, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Reserve(ctx, p, 1, []string{"new"}, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := held(t, s, "old-"); n != 0 {
		t.Errorf("%d keys kept expired attempts past the 256th reservation", n)
	}
	if n := held(t, s, "new"); n != 1 {
		t.Errorf("the reservation that pruned was pruned too: %d", n)
	}
}

// An attempt is recorded once per key, as the SQL primary key (key, id)
// allows: a repeat is an error that records nothing.
func TestReserveTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := memthrottle.New()
	p := throttle.Policy{MaxFailures: 5, Window: time.Minute}
	now := time.Now()
	if _, _, err := s.Reserve(ctx, p, 1, []string{"a", "b", "a"}, now); err == nil {
		t.Error("a key listed twice was reserved")
	}
	if _, _, err := s.Reserve(ctx, p, 1, []string{"a"}, now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Reserve(ctx, p, 1, []string{"b", "a"}, now); err == nil {
		t.Error("an attempt was reserved twice on a key")
	}
	if n := held(t, s, "b"); n != 0 {
		t.Errorf("a failed reservation recorded %d keys", n)
	}
}
